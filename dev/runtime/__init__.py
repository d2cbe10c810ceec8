"""The local runtime: runs fnshop from its own Knative and Istio manifests, on one machine.

    dev/with-stack-env python -m dev.runtime        # after `task stack:up` and `task migrate`

What it does, and where:
- manifests.py   reads knative/ and istio/ (kustomize-rendered when kubectl is there).
- services.py    Knative Services -> revisions: target, source folder, env, scaling bounds, traffic.
- routes.py      the gateway-bound VirtualService: matches, rewrites, weights, timeouts, retries.
- jwt_auth.py    RequestAuthentication (401 for a bad token); authz.py: AuthorizationPolicy (403).
- pool.py        one revision's instances, scaled like Knative (from zero, up by `target`,
                 capped by max-scale / containerConcurrency, down after the grace period).
- instance.py    one functions-framework process per instance; launcher.py starts children
                 so that none outlives the runtime.
- gateway.py     the local ingress (HTTP/1.1 keep-alive, Nagle off); upstream.py the forward.
- extras.py      Deployments such as the outbox relay, and extra commands.
- runtime.py     wires it all; status.py prints the status lines and prefixed logs.

The gateway answers GET /_runtime/status (JSON) and forwards /_runtime/services/<svc>/...
straight to a service (what cluster-local URLs in the manifests' env become locally).
Settings and behaviour in detail: docs/local-runtime.md.
"""
from .config import RuntimeConfig, from_env_and_args
from .runtime import Runtime

__all__ = ["Runtime", "RuntimeConfig", "from_env_and_args"]
