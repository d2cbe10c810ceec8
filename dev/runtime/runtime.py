"""Wires the pieces together: manifests -> revision pools, the gateway, the reaper that scales
idle revisions down, the extras (relay), and an orderly stop."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from . import gateway
from .authz import policies
from .config import RuntimeConfig
from .extras import SupervisedProcess, from_command_lines, from_deployments
from .instance import Instance, process_env
from .jwt_auth import Authenticator, KeySets, jwt_rules
from .launcher import Launcher
from .manifests import load_all
from .pool import RevisionPool, ScalingSettings
from .routes import Destination, HttpRoute, WeightedRoundRobin, gateway_routes, mesh_routes, public_hosts
from .services import KnativeService, cluster_defaults, env_sources, knative_services
from .status import Console

KNATIVE_GATEWAYS = ("knative-local-gateway.", "knative-ingress-gateway.", "istio-ingressgateway.")
REAP_INTERVAL_SECONDS = 0.1
_CLUSTER_URL = re.compile(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::\d+)?")
_RUNTIME_OWNED = ("FUNCTION_TARGET", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "PORT")


class Runtime:
    def __init__(self, config: RuntimeConfig, console: Console | None = None, environ: dict[str, str] | None = None):
        self.config = config
        self.console = console or Console()
        docs = load_all(config.knative_dirs + config.istio_dirs)
        defaults = cluster_defaults(docs)
        self.problems: list[str] = []
        self.services: dict[str, KnativeService] = knative_services(docs, config.functions_dir, defaults, self.problems)
        self.routes: list[HttpRoute] = gateway_routes(docs)
        self.mesh_routes = mesh_routes(docs)
        self.public_host = config.public_host or next(iter(public_hosts(docs)), None)
        self.authenticator = Authenticator(jwt_rules(docs), KeySets(self.fetch))
        self.policies = policies(docs)
        self.settings = ScalingSettings(
            grace_seconds=config.grace_seconds if config.grace_seconds is not None else defaults.grace_seconds,
            scale_to_zero=defaults.scale_to_zero, max_scale_cap=config.max_scale_cap, start_timeout=config.start_timeout)
        self._base_env = {k: v for k, v in (os.environ if environ is None else environ).items() if k not in _RUNTIME_OWNED}
        self.extra_specs = (from_deployments(docs, env_sources(docs)) if config.run_deployments else []) \
            + from_command_lines(config.extra_commands)
        self._launcher = Launcher()
        self._run_dir = Path(tempfile.mkdtemp(prefix="fnshop-runtime-"))
        self.pools: dict[tuple[str, str], RevisionPool] = {}
        self._traffic = {name: WeightedRoundRobin([t.percent for t in s.traffic]) for name, s in self.services.items()}
        for service in self.services.values():
            for revision in service.revisions.values():
                label = service.name if revision is service.latest else revision.name
                self.pools[(service.name, revision.name)] = RevisionPool(
                    revision, self.settings, self._instance_factory(revision), self._start_instance, self._pool_changed, label)
        self.console.width = max([len(p.label) + 2 for p in self.pools.values()] + [len(s.name) for s in self.extra_specs] + [12])
        self._route_lines: dict[str, list[str]] = {}
        self._server: gateway.GatewayServer | None = None
        self._extras: list[SupervisedProcess] = []
        self._stopped = threading.Event()
        self._started = False

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "Runtime":
        self._server = gateway.GatewayServer((self.config.host, self.config.port), self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway", daemon=True).start()
        self._started = True
        self._route_lines = self._describe_routes()
        self.console.line(f"runtime: gateway on {self.url}  ({len(self.services)} services, {len(self.routes)} routes, "
                          f"scale-to-zero grace {self.settings.grace_seconds:g}s)")
        for problem in self.problems + self._unserved_jwks():
            self.console.line(f"runtime: NOT RUNNABLE: {problem}")
        self.console.table([self._row(p) for p in self.pools.values()])
        for pool in self.pools.values():
            pool.warm_up()
        threading.Thread(target=self._reap_forever, name="reaper", daemon=True).start()
        for spec in self.extra_specs:
            env = {**spec.env, **self._base_env, "PYTHONPATH": str(self.config.functions_dir), "PYTHONUNBUFFERED": "1"}
            self._extras.append(SupervisedProcess(spec, self._rewrite_cluster_urls(env), self._launcher,
                                                  self.console, str(self.config.root)).start())
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._started:
            self.console.line("runtime: stopping")
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        instances = [i for pool in self.pools.values() for i in pool.close()]
        stoppers = [threading.Thread(target=x.stop) for x in [*instances, *self._extras]]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(15)
        self._launcher.close()
        shutil.rmtree(self._run_dir, ignore_errors=True)
        if self._started:
            self.console.line("runtime: stopped")

    def wait(self) -> None:
        self._stopped.wait()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2] if self._server else (self.config.host, self.config.port)
        return f"http://{host}:{port}"

    # -- what the gateway asks -----------------------------------------------------------
    def resolve(self, route: HttpRoute, destination: Destination) -> tuple[KnativeService, RevisionPool] | None:
        found = self.service_for_host(self._upstream_host(route, destination), route.namespace)
        return self.pool_for(*found) if found else None

    def authority_of(self, route: HttpRoute, destination: Destination, service: KnativeService) -> str:
        return destination.request_headers.host_override() or route.authority or f"{service.name}.{service.namespace}.svc.cluster.local"

    def pool_for(self, service: KnativeService, revision: str | None) -> tuple[KnativeService, RevisionPool]:
        """The pool of `revision`, or of the revision spec.traffic picks next."""
        if revision is None:
            revision = service.traffic[self._traffic[service.name].next()].revision
        return service, self.pools[(service.name, revision)]

    def public_host_of(self, host: str) -> str:
        """Requests to 127.0.0.1:8080 are judged as if sent to the public host the manifests
        name (AuthorizationPolicies match on `hosts`)."""
        hostname = host.rsplit(":", 1)[0].strip("[]") if host else ""
        if hostname in ("", "127.0.0.1", "localhost", "::1", self.config.host) and self.public_host:
            return self.public_host
        return host

    def fetch(self, url: str) -> bytes:
        """GET a URL the manifests name (a jwksUri); cluster-local services are served by the runtime."""
        url = self.config.jwks_uri or url
        parts = urlsplit(url)
        name = (parts.hostname or "").split(".")[0]
        if parts.scheme == "http" and (self.service_for_host(parts.hostname or "", None) or name in self.mesh_routes):
            url = f"{self.url}/_runtime/services/{name}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read()

    def status(self) -> dict:
        services = []
        for service in self.services.values():
            revisions = [self.pools[(service.name, r)].snapshot() for r in service.revisions]
            services.append({
                "name": service.name, "namespace": service.namespace, "routes": self._route_lines.get(service.name, []),
                "url": _first_url(self._route_lines.get(service.name, [])),
                "state": _combined_state([r["state"] for r in revisions]),
                "instances": sum(r["instances"] for r in revisions), "in_flight": sum(r["in_flight"] for r in revisions),
                "traffic": [{"revision": t.revision, "percent": t.percent, "tag": t.tag} for t in service.traffic],
                "revisions": revisions,
            })
        extras = [{"name": x.spec.name, "running": x.running, "pid": x.pid, "restarts": x.restarts} for x in self._extras]
        return {"gateway": self.url, "public_host": self.public_host, "grace_seconds": self.settings.grace_seconds,
                "services": services, "extras": extras, "problems": self.problems}

    # -- internals -----------------------------------------------------------------------
    def _unserved_jwks(self) -> list[str]:
        """jwksUris of cluster-local services the manifests do not define: every token would fail."""
        found = []
        for rule in self.authenticator.rules:
            host = urlsplit(rule.jwks_uri or "").hostname or ""
            if not self.config.jwks_uri and ".svc" in host and not (
                    self.service_for_host(host, None) or host.split(".")[0] in self.mesh_routes):
                found.append(f"jwksUri {rule.jwks_uri} names no Knative Service: tokens of {rule.issuer} will be refused")
        return found

    def _upstream_host(self, route: HttpRoute, destination: Destination) -> str:
        if destination.host.startswith(KNATIVE_GATEWAYS):  # Knative behind Istio: the authority picks the service
            return destination.request_headers.host_override() or route.authority or destination.host
        return destination.host

    def service_for_host(self, host: str, default_namespace: str | None) -> tuple[KnativeService, str | None] | None:
        """`name[.ns[.svc[.cluster.local]]][:port]` -> (service, None) or, for a Knative tag host
        `tag-name...`, (service, that tag's revision)."""
        labels = host.split(":", 1)[0].lower().split(".")
        name, namespace = labels[0], labels[1] if len(labels) > 1 else default_namespace
        service = self.services.get(name)
        if service and namespace in (None, service.namespace):
            return service, None
        for service in self.services.values():
            for tag, revision in service.tags.items():
                if name == f"{tag}-{service.name}" and namespace in (None, service.namespace):
                    return service, revision
        return None

    def _instance_factory(self, revision):
        def new_instance(label: str) -> Instance:
            env = process_env(self._rewrite_cluster_urls(revision.env), self._base_env, revision, self.config.functions_dir)
            return Instance(revision, label, env, self._run_dir, self.console.log)
        return new_instance

    def _start_instance(self, instance: Instance) -> None:
        pool = self.pools[(instance.revision.service, instance.revision.name)]
        instance.on_exit = pool.instance_exited
        instance.start(self._launcher)

    def _rewrite_cluster_urls(self, env: dict[str, str]) -> dict[str, str]:
        def local(match: re.Match) -> str:
            name = match.group(1)
            known = self.service_for_host(name, match.group(2)) or name in self.mesh_routes
            return f"{self.url}/_runtime/services/{name}" if known else match.group(0)

        def rewrite(value: str) -> str:
            value = _CLUSTER_URL.sub(local, value)
            root = self.config.container_root
            if root and (value == root or value.startswith(root + "/")):  # paths inside the image
                value = str(self.config.root) + value[len(root):]
            return value

        return {k: rewrite(v) for k, v in env.items()}

    def _pool_changed(self, pool: RevisionPool) -> None:
        if self._started:
            self.console.changed(self._row(pool))

    def _row(self, pool: RevisionPool) -> dict:
        return {**pool.snapshot(), "label": pool.label, "routes": self._route_lines.get(pool.revision.service, [])}

    def _describe_routes(self) -> dict[str, list[str]]:
        lines: dict[str, list[str]] = {}
        for route in self.routes:
            for destination in route.destinations:
                found = self.service_for_host(self._upstream_host(route, destination), route.namespace)
                if found:
                    for text in route.describe():
                        method, _, path = text.partition(" ")
                        lines.setdefault(found[0].name, []).append(f"{method} {self.url}{path}")
        return lines

    def _reap_forever(self) -> None:
        while not self._stopped.wait(REAP_INTERVAL_SECONDS):
            for pool in self.pools.values():
                pool.reap()


def _combined_state(states: list[str]) -> str:
    for name in ("ready", "starting", "stopping", "failed"):
        if name in states:
            return name
    return "cold"


def _first_url(lines: list[str]) -> str | None:
    return lines[0].split(" ", 1)[1] if lines else None
