"""`task manifests:validate`: every manifest (raw and kustomize-rendered) against its pinned
upstream schema, then the fnshop cross-checks. Prints one line per finding; exit 1 if any."""
import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import crosscheck, fetch_schemas, gomod, paths, scaffold
from .annotation_check import check_annotations
from .findings import Doc, Finding
from .kustomize import KustomizeError, binary, build
from .schema_check import SchemaStore, check_document
from .walk import kustomization_dirs, load_docs, manifest_files, parse_rendered


def collect(root: Path) -> tuple[list[Doc], dict[str, list[Doc]], list[Finding]]:
    """(raw documents, {kustomization dir: rendered documents}, findings while loading)."""
    raw, findings = [], []
    for path in manifest_files(root):
        docs, problems = load_docs(path, str(path.relative_to(root)))
        raw += docs
        findings += problems
    rendered = {}
    directories = kustomization_dirs(root)
    if directories:
        binary()  # build it once, before the parallel builds would race to
    with ThreadPoolExecutor(max_workers=4) as pool:  # each build is a process: overlap them
        outputs = list(pool.map(_build_or_error, directories))
    for directory, (text, error) in zip(directories, outputs):
        label = str(directory.relative_to(root))
        if error:
            findings.append(Finding(label, "", "", f"kustomize build failed: {error}"))
        else:
            rendered[label] = parse_rendered(text, f"{label} (rendered)")
    return raw, rendered, findings


def _build_or_error(directory: Path) -> tuple[str, str | None]:
    try:
        return build(directory), None
    except KustomizeError as exc:
        return "", str(exc)


def check_all(root: Path, store: SchemaStore) -> list[Finding]:
    raw, rendered, findings = collect(root)
    seen = set()
    for doc in raw:
        for f in check_document(doc, store) + check_annotations(doc, store):
            seen.add((f.doc, f.path, f.message))
            findings.append(f)
    for docs in rendered.values():
        for doc in docs:
            for f in check_document(doc, store) + check_annotations(doc, store):
                # A mistake in a base file shows up in every rendering: report it once.
                if (f.doc, f.path, f.message) not in seen:
                    seen.add((f.doc, f.path, f.message))
                    findings.append(f)
    findings += crosscheck.run(root, raw, rendered)
    findings += [Finding(rel, "", "", "out of date with functions/ and knative/functions.yaml: "
                         "run `task manifests:scaffold`") for rel in scaffold.stale(root)]
    return findings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="repo to check (default: this one)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    args = parser.parse_args(argv)
    root = (args.root or paths.repo_root()).resolve()
    started = time.monotonic()
    log = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        fetch_schemas.fetch(log=log)
        findings = check_all(root, SchemaStore())
    except (gomod.FetchError, KustomizeError) as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    for finding in sorted(set(findings)):
        print(finding)
    log(f"validate: {len(set(findings))} finding(s) in {root} ({time.monotonic() - started:.1f}s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
