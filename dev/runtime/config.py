"""The runtime's own settings: environment variables (documented in docs/local-runtime.md),
each overridable by a command-line flag of `python -m dev.runtime`."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RuntimeConfig:
    root: Path = REPO_ROOT
    knative_dirs: list[Path] = field(default_factory=list)
    istio_dirs: list[Path] = field(default_factory=list)
    functions_dir: Path = REPO_ROOT / "functions"
    host: str = "127.0.0.1"
    port: int = 8080
    grace_seconds: float | None = None  # None: the manifests' config-autoscaler, else Knative's 30 s
    max_scale_cap: int = 4
    start_timeout: float = 30.0
    extra_commands: list[str] = field(default_factory=list)
    run_deployments: bool = True
    jwks_uri: str | None = None
    public_host: str | None = None  # None: the first host of the gateway's VirtualService
    container_root: str = "/srv/fnshop"  # where the images put the repo (knative/images/*.Containerfile)


def _paths(value: str, root: Path) -> list[Path]:
    return [(root / p) if not Path(p).is_absolute() else Path(p) for p in value.split(os.pathsep) if p]


def _default_manifest_dir(root: Path, name: str) -> list[Path]:
    """The dev overlay when there is one (what `task up` means to run), else the base, else the folder."""
    for candidate in (root / name / "overlays" / "dev", root / name / "base", root / name):
        if candidate.is_dir():
            return [candidate]
    return []


def from_env_and_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> RuntimeConfig:
    env = os.environ if environ is None else environ
    root = Path(env.get("FNSHOP_ROOT") or REPO_ROOT)
    parser = argparse.ArgumentParser(prog="python -m dev.runtime", description=__doc__)
    parser.add_argument("--knative", default=env.get("FNSHOP_KNATIVE_DIRS"),
                        help="folders of Knative manifests (os.pathsep-separated); default knative/overlays/dev or knative/base")
    parser.add_argument("--istio", default=env.get("FNSHOP_ISTIO_DIRS"), help="folders of Istio manifests; default istio/")
    parser.add_argument("--functions", default=env.get("FNSHOP_FUNCTIONS_DIR"), help="where <domain>/main.py live; default functions/")
    parser.add_argument("--host", default=env.get("FNSHOP_GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("FNSHOP_GATEWAY_PORT", "8080")))
    parser.add_argument("--grace", type=float, default=_float(env.get("FNSHOP_SCALE_TO_ZERO_GRACE_SECONDS")),
                        help="seconds an idle instance lives on (Knative's scale-to-zero-grace-period)")
    parser.add_argument("--max-scale-cap", type=int, default=int(env.get("FNSHOP_MAX_SCALE_CAP", "4")),
                        help="instances per revision when max-scale is 0 (unlimited)")
    parser.add_argument("--start-timeout", type=float, default=float(env.get("FNSHOP_START_TIMEOUT_SECONDS", "30")))
    parser.add_argument("--extra", action="append", default=[],
                        help="an extra long-running command, NAME=COMMAND (repeatable); also FNSHOP_EXTRA_COMMANDS, ';'-separated")
    parser.add_argument("--no-deployments", action="store_true", default=env.get("FNSHOP_RUN_DEPLOYMENTS", "1") == "0",
                        help="do not run the manifests' Deployments (the outbox relay)")
    parser.add_argument("--jwks-uri", default=env.get("FNSHOP_JWKS_URI"),
                        help="fetch every RequestAuthentication's keys from here instead of its jwksUri")
    parser.add_argument("--public-host", default=env.get("FNSHOP_PUBLIC_HOST"),
                        help="the host requests count as sent to; default the VirtualService's first host")
    args = parser.parse_args(argv)
    extras = [c for c in (env.get("FNSHOP_EXTRA_COMMANDS") or "").split(";") if c.strip()] + args.extra
    return RuntimeConfig(
        root=root,
        knative_dirs=_paths(args.knative, root) if args.knative else _default_manifest_dir(root, "knative"),
        istio_dirs=_paths(args.istio, root) if args.istio else _default_manifest_dir(root, "istio"),
        functions_dir=Path(args.functions).resolve() if args.functions else root / "functions",
        host=args.host, port=args.port, grace_seconds=args.grace, max_scale_cap=args.max_scale_cap,
        start_timeout=args.start_timeout, extra_commands=extras, run_deployments=not args.no_deployments,
        jwks_uri=args.jwks_uri,
        public_host=args.public_host, container_root=env.get("FNSHOP_CONTAINER_ROOT", "/srv/fnshop"),
    )


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None
