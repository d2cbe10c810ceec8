"""`task manifests:deploy|canary|promote FN=<service>`: act on one Knative Service.

Every command first renders the overlay with the pinned kustomize, picks the one Service,
and validates what it is about to send (schema, annotations, fnshop's per-Service rules);
only then does it talk to a cluster. Without kubectl, or when no cluster answers, it stops
after validation and says so: the rendered object and the patch are left in
.state/deploy/<overlay>/ for inspection.
"""
import argparse
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

from . import crosscheck, fetch_schemas, paths
from .annotation_check import check_annotations
from .findings import Doc
from .functions_index import discover_targets, read_settings
from .deployment_sets import DeploymentSet
from .kustomize import build
from .schema_check import SchemaStore, check_document
from .walk import parse_rendered

NAMESPACE = "fnshop"


class DeployError(RuntimeError):
    pass


def render(overlay: str) -> list[Doc]:
    directory = paths.repo_root() / "knative" / "overlays" / overlay
    if not directory.is_dir():
        raise DeployError(f"no overlay {directory}")
    return parse_rendered(build(directory), f"knative/overlays/{overlay} (rendered)")


def pick_service(docs: list[Doc], name: str) -> Doc:
    services = [d for d in docs if d.kind == "Service" and str(d.body.get("apiVersion", "")).startswith("serving.knative.dev/")]
    for doc in services:
        if doc.name == name:
            return doc
    raise DeployError(f"no Knative Service {name!r} in the overlay; there are: {', '.join(sorted(d.name for d in services))}")


def validate_service(doc: Doc, store: SchemaStore) -> None:
    root = paths.repo_root()
    findings = check_document(doc, store) + check_annotations(doc, store)
    findings += crosscheck.check_services(DeploymentSet(doc.file, [doc]), {doc.name: doc},
                                     discover_targets(root), read_settings(root) or [])
    findings += _traffic_rules(doc)
    if findings:
        raise DeployError("not valid:\n" + "\n".join(f"  {f}" for f in sorted(set(findings))))


def _traffic_rules(doc: Doc):
    """What Knative's webhook would refuse in spec.traffic: shares must add up to 100, tags
    must be unique, a target names a revision or follows the latest, not both."""
    traffic = (doc.body.get("spec") or {}).get("traffic")
    if not traffic:
        return []
    found = []
    if sum(t.get("percent", 0) for t in traffic) != 100:
        found.append(doc.finding("spec.traffic", "percents must add up to 100"))
    tags = [t["tag"] for t in traffic if t.get("tag")]
    if len(tags) != len(set(tags)):
        found.append(doc.finding("spec.traffic", "tags must be unique"))
    for i, t in enumerate(traffic):
        if bool(t.get("revisionName")) == bool(t.get("latestRevision")):
            found.append(doc.finding(f"spec.traffic[{i}]", "set revisionName or latestRevision: true, not both"))
    return found


def write_state(overlay: str, name: str, suffix: str, content: str) -> Path:
    out = paths.state_dir() / "deploy" / overlay / f"{name}.{suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(content)
    return out


def cluster_status() -> str | None:
    """None when kubectl can talk to a cluster, else why not."""
    if shutil.which("kubectl") is None:
        return "kubectl is not installed (Debian: apt-get install kubectl, or the upstream binary)"
    probe = subprocess.run(["kubectl", "get", "--raw", "/version", "--request-timeout=5s"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no cluster answers kubectl ({reason})"
    return None


def kubectl(*args: str) -> str:
    proc = subprocess.run(["kubectl", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def revisions(name: str) -> tuple[str, str]:
    """(latest ready, the ready one before it) of a Service, from the cluster."""
    svc = json.loads(kubectl("get", "ksvc", name, "-n", NAMESPACE, "-o", "json"))
    latest = (svc.get("status") or {}).get("latestReadyRevisionName")
    listing = json.loads(kubectl("get", "revisions", "-n", NAMESPACE, "-l",
                                 f"serving.knative.dev/service={name}", "-o", "json"))
    ready = [r for r in listing["items"] if any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (r.get("status") or {}).get("conditions", []))]
    ready.sort(key=lambda r: int(r["metadata"]["labels"].get("serving.knative.dev/configurationGeneration", 0)))
    names = [r["metadata"]["name"] for r in ready]
    if not latest or latest not in names or names.index(latest) == 0:
        raise DeployError(f"{name} has no earlier ready revision to split traffic with (ready: {names})")
    return latest, names[names.index(latest) - 1]


def traffic_patch(latest: str | None, previous: str | None, percent: int | None) -> dict:
    if percent is None:  # promote: everything to whatever is latest and ready, as by default
        return {"spec": {"traffic": [{"latestRevision": True, "percent": 100}]}}
    return {"spec": {"traffic": [
        {"revisionName": previous, "percent": 100 - percent, "tag": "stable"},
        {"revisionName": latest, "percent": percent, "tag": "canary"}]}}


def held_traffic(current: str) -> list[dict]:
    """Keep serving the current revision; the one being created gets 0% until a canary."""
    return [{"revisionName": current, "percent": 100, "tag": "stable"},
            {"latestRevision": True, "percent": 0, "tag": "canary"}]


def cmd_deploy(args, store) -> int:
    doc = pick_service(render(args.overlay), args.fn)
    why_not = cluster_status()
    if args.hold:
        if why_not:
            current = f"{args.fn}-current"
            print(f"{args.fn}: {why_not}; holding traffic on a placeholder revision name")
        else:
            svc = json.loads(kubectl("get", "ksvc", args.fn, "-n", NAMESPACE, "-o", "json"))
            current = (svc.get("status") or {}).get("latestReadyRevisionName")
            if not current:
                raise DeployError(f"{args.fn} has no ready revision to hold traffic on: deploy without HOLD")
        doc = Doc(doc.file, doc.index, _merged(doc.body, {"spec": {"traffic": held_traffic(current)}}))
    validate_service(doc, store)
    rendered = write_state(args.overlay, args.fn, "yaml", _yaml(doc.body))
    print(f"{args.fn}: rendered and valid -> {rendered}")
    if why_not:
        print(f"{args.fn}: not applied: {why_not}")
        return 0
    kubectl("apply", "--dry-run=server", "-f", str(rendered))
    print(kubectl("apply", "--server-side", "--field-manager=fnshop-deploy", "-f", str(rendered)).strip())
    return 0


def cmd_traffic(args, store) -> int:
    doc = pick_service(render(args.overlay), args.fn)
    why_not = cluster_status()
    if args.percent is not None and not 0 < args.percent < 100:
        raise DeployError("PERCENT must be between 1 and 99 (use promote for 100)")
    latest, previous = args.latest, args.previous
    if args.percent is not None and (latest is None or previous is None):
        if why_not:
            latest, previous = latest or f"{args.fn}-latest", previous or f"{args.fn}-previous"
            print(f"{args.fn}: {why_not}; using placeholder revision names (pass --latest/--previous)")
        else:
            latest, previous = revisions(args.fn)
    patch = traffic_patch(latest, previous, args.percent)
    patched = Doc(doc.file, doc.index, _merged(doc.body, patch))
    validate_service(patched, store)
    out = write_state(args.overlay, args.fn, "traffic-patch.json", json.dumps(patch, indent=2))
    print(f"{args.fn}: traffic patch valid -> {out}\n{json.dumps(patch['spec']['traffic'])}")
    if why_not:
        print(f"{args.fn}: not applied: {why_not}")
        return 0
    print(kubectl("patch", "ksvc", args.fn, "-n", NAMESPACE, "--type=merge", "-p", json.dumps(patch)).strip())
    return 0


def _merged(body: dict, patch: dict) -> dict:
    """JSON merge patch (RFC 7386), as `kubectl patch --type=merge` applies it."""
    out = copy.deepcopy(body)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _yaml(body: dict) -> str:
    from .yamlio import dump
    return dump(body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render")
    r.add_argument("--overlay", default="dev")
    for name in ("deploy", "canary", "promote"):
        p = sub.add_parser(name)
        p.add_argument("--fn", required=True, help="Knative Service name, e.g. products-list")
        p.add_argument("--overlay", default="dev")
        if name == "deploy":
            p.add_argument("--hold", action="store_true",
                           help="keep 100%% on the current revision (then `canary`)")
        if name == "canary":
            p.add_argument("--percent", type=int, required=True)
            p.add_argument("--latest", help="revision to send PERCENT to (default: latest ready)")
            p.add_argument("--previous", help="revision keeping the rest (default: the one before)")
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            print(build(paths.repo_root() / "knative" / "overlays" / args.overlay), end="")
            return 0
        fetch_schemas.fetch(log=lambda *_: None)
        store = SchemaStore()
        if args.command == "deploy":
            return cmd_deploy(args, store)
        if args.command == "promote":
            args.percent, args.latest, args.previous = None, None, None
        return cmd_traffic(args, store)
    except DeployError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
