"""JSON logs on stdout (what Loki's promtail scrapes), one object a line, with the trace id."""
from __future__ import annotations

import json
import logging
import sys
import time

from .config import env, function_name

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_component: str | None = None  # processes that are not functions (the relay) name themselves


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "function": _component or function_name(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        trace_id = _current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _current_trace_id() -> str | None:
    from flask import g, has_request_context

    return g.get("trace_id") if has_request_context() else None


def configure(component: str | None = None) -> None:
    global _component
    _component = component or _component
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(env("LOG_LEVEL").upper())


def get(name: str) -> logging.Logger:
    return logging.getLogger(name)
