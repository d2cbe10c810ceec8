"""The thin HTTP layer every API function shares.

`endpoint("GET /api/products/{product_id}")` wraps a function target: it answers only its
own method and path (path parameters become keyword arguments), renders every `Problem` and
unexpected error as application/problem+json, and, the first time a module is loaded by
functions-framework, installs the app-wide pieces (JSON logs, trace ids, /healthz, /metrics).
"""
from __future__ import annotations

import functools
import json
import re
import time

import flask

from . import logs, metrics
from .config import env_int, function_name
from .errors import FieldError, Problem, invalid
from .tracing import parse_or_start

log = logs.get("fnkit.http")
PROBLEM_JSON = "application/problem+json"
_PARAM = re.compile(r"\{([a-z_]+)\}")


class Route:
    """`METHOD /path/{param}`: the one method and path template an endpoint answers."""

    def __init__(self, spec: str):
        method, _, self.template = spec.partition(" ")
        self.method = method.upper()
        pattern, pos = "", 0
        for param in _PARAM.finditer(self.template):
            pattern += re.escape(self.template[pos : param.start()]) + f"(?P<{param.group(1)}>[^/]+)"
            pos = param.end()
        self._pattern = re.compile("^" + pattern + re.escape(self.template[pos:]) + "/?$")

    def match(self, path: str) -> dict[str, str] | None:
        found = self._pattern.match(path)
        return found.groupdict() if found else None


def problem_response(problem: Problem) -> flask.Response:
    body = problem.to_dict(instance=flask.request.path if flask.has_request_context() else None)
    response = flask.Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    response = flask.Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def json_body(request: flask.Request) -> object:
    """The parsed JSON body: 415 unless it is JSON, 413 when too large, 400 when malformed."""
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "send the body as application/json")
    limit = env_int("MAX_REQUEST_BYTES")
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, "Payload too large", f"the body may be at most {limit} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise Problem(413, "Payload too large", f"the body may be at most {limit} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid([FieldError("(body)", "is not valid JSON")], "The body is not valid JSON.") from None


def endpoint(spec: str):
    route = Route(spec)

    def decorate(func):
        if flask.has_app_context():
            install(flask.current_app._get_current_object())

        @functools.wraps(func)
        def handler(request: flask.Request):
            params = route.match(request.path)
            if params is None:
                raise Problem(404, "Not found", f"no such endpoint here: {request.path}")
            if request.method != route.method and not (route.method == "GET" and request.method == "HEAD"):
                raise Problem(405, "Method not allowed", f"use {route.method}", headers={"Allow": route.method})
            flask.g.route = route.template
            return func(request, **params)

        handler.route = route
        return handler

    return decorate


def install(app: flask.Flask) -> None:
    """App-wide hooks, once per process (all targets of a module share the app)."""
    if "fnkit" in app.extensions:
        return
    app.extensions["fnkit"] = True
    logs.configure()
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(Exception, _unexpected)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.add_url_rule("/healthz", "fnkit_healthz", lambda: json_response({"status": "ok", "function": function_name()}))
    metrics.install(app)


def _unexpected(error: Exception) -> flask.Response:
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):  # routing-level errors (e.g. 413 from Werkzeug itself)
        return problem_response(Problem(error.code or 500, error.name, error.description))
    log.exception("unhandled error")
    return problem_response(Problem(500, "Internal error", "the request failed unexpectedly; it was logged"))


def _start_request() -> None:
    flask.g.started = time.perf_counter()
    flask.g.trace_id, flask.g.traceparent = parse_or_start(flask.request.headers.get("traceparent"))


def _finish_request(response: flask.Response) -> flask.Response:
    response.headers["traceparent"] = flask.g.get("traceparent", "")
    if flask.request.path not in ("/healthz", "/metrics"):
        log.info(
            "request",
            extra={
                "method": flask.request.method,
                "path": flask.request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - flask.g.get("started", time.perf_counter())) * 1000, 2),
            },
        )
    return response
