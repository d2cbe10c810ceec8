"""Shared fixtures. Integration tiers need the real stack: DATABASE_URL, REDIS_URL and
KAFKA_BOOTSTRAP_SERVERS come from `task test` (which starts it); without them they fail."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "functions", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
