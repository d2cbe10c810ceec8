"""Where things live: the repo root, the tool's pins and its cache under .state/."""
import os
from pathlib import Path

TOOL_DIR = Path(__file__).resolve().parent.parent
PINS_FILE = TOOL_DIR / "pins.yaml"


def repo_root() -> Path:
    """FNSHOP_ROOT (set by the Taskfile) wins, so tests can point the tool at a copy."""
    env = os.environ.get("FNSHOP_ROOT")
    return Path(env).resolve() if env else TOOL_DIR.parent.parent


def state_dir() -> Path:
    """The cache lives in the real checkout's .state/, even when validating a copy."""
    env = os.environ.get("FNSHOP_STATE")
    return Path(env).resolve() if env else TOOL_DIR.parent.parent / ".state"


def schema_dir() -> Path:
    return state_dir() / "schemas"


def bin_dir() -> Path:
    return state_dir() / "bin"
