"""Fetch a Go module's zip through the module proxy and read files out of it.

`go mod download -json` does the network part (proxy, checksum database, cache in
GOMODCACHE), so a second run costs nothing. Files are read from the zip itself rather than
the extracted tree: some modules (newer Argo CD) refuse to extract on this Go version but
their zip is still fetched and verified.
"""
import fnmatch
import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass


class FetchError(RuntimeError):
    pass


@dataclass
class ModuleZip:
    module: str
    version: str
    zip_path: str
    sum: str

    def read_matching(self, patterns: list[str]) -> dict[str, bytes]:
        """{path inside the module: bytes} for files matching any glob in patterns."""
        prefix = f"{self.module}@{self.version}/"
        found = {}
        with zipfile.ZipFile(self.zip_path) as zf:
            for name in zf.namelist():
                rel = name[len(prefix):] if name.startswith(prefix) else name
                if any(fnmatch.fnmatch(rel, pattern) for pattern in patterns):
                    found[rel] = zf.read(name)
        missing = [p for p in patterns if not any(fnmatch.fnmatch(r, p) for r in found)]
        if missing:
            raise FetchError(f"{self.module}@{self.version}: no file matches {missing}")
        return found


def download_all(wanted: list[tuple[str, str, str | None]],
                 timeout: int = 900) -> dict[str, ModuleZip]:
    """{module: ModuleZip} for (module, version, pinned_sum_or_None) triples.

    One `go mod download` call for all of them, so the go command fetches in parallel.
    """
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    unlisted = [module for module, _, pinned in wanted if pinned]
    if unlisted:
        # Not in sum.golang.org: skip that lookup for these modules, check the pins below.
        env["GONOSUMDB"] = ",".join(filter(None, [env.get("GONOSUMDB"), *unlisted]))
    args = [f"{module}@{version}" for module, version, _ in wanted]
    with tempfile.TemporaryDirectory() as outside_any_module:
        proc = subprocess.run(["go", "mod", "download", "-json", *args],
                              cwd=outside_any_module, env=env, capture_output=True,
                              text=True, timeout=timeout)
    infos = {info.get("Path"): info for info in _json_stream(proc.stdout)}
    result = {}
    for module, version, pinned in wanted:
        info = infos.get(module)
        if info is None:
            raise FetchError(f"go mod download {module}@{version}: {proc.stderr.strip()}")
        result[module] = _checked(info, module, version, pinned)
    return result


def _checked(info: dict, module: str, version: str, pinned: str | None) -> ModuleZip:
    zip_path, got_sum, error = info.get("Zip"), info.get("Sum"), info.get("Error")
    # An error that only says the module needs a newer Go comes after the zip was fetched
    # and verified; any other error (checksum, 403, ...) is fatal.
    needs_newer_go = error and "requires go" in error
    if (error and not needs_newer_go) or not zip_path or not os.path.exists(zip_path):
        raise FetchError(f"go mod download {module}@{version}: {error}")
    if pinned and got_sum != pinned:
        raise FetchError(f"{module}@{version}: zip hash {got_sum} != pinned {pinned}")
    return ModuleZip(module, version, zip_path, got_sum)


def _json_stream(text: str):
    decoder, pos = json.JSONDecoder(), 0
    while (pos := _skip_space(text, pos)) < len(text):
        obj, pos = decoder.raw_decode(text, pos)
        yield obj


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def go_available() -> bool:
    try:
        subprocess.run(["go", "version"], capture_output=True, check=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False
