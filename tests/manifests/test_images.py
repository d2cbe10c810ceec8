"""Each domain image carries what its code imports: main.py of every domain loads with only
the packages its Containerfile copies (no container engine here, so the import is the test)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = sorted(p for p in (ROOT / "knative" / "images").glob("*.Containerfile") if p.stem != "relay")


@pytest.mark.parametrize("containerfile", IMAGES, ids=lambda p: p.stem)
def test_image_contents_are_enough_to_load_every_target(containerfile, tmp_path):
    packages = re.findall(r"^COPY functions/(\w+) functions/\1$", containerfile.read_text(), re.MULTILINE)
    packages = [p for p in packages if p != "kit"]  # the kit is pip-installed, in the venv here too
    assert containerfile.stem in packages
    for package in packages:
        (tmp_path / package).symlink_to(ROOT / "functions" / package)
    main = ROOT / "functions" / containerfile.stem / "main.py"
    load = ("import importlib.util as u; s = u.spec_from_file_location('main', %r); "
            "s.loader.exec_module(u.module_from_spec(s))" % str(main))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", load], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
