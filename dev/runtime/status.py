"""What the runtime shows: one line per revision (state, instances, in-flight, URL through the
gateway), printed at start and whenever a state or instance count changes, and function log
lines with the instance's name in front. One lock keeps lines from interleaving."""
from __future__ import annotations

import sys
import threading
from typing import TextIO


class Console:
    def __init__(self, stream: TextIO | None = None):
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._last: dict[str, tuple] = {}
        self.width = 18

    def line(self, text: str) -> None:
        with self._lock:
            self._write(text)

    def log(self, label: str, text: str) -> None:
        with self._lock:
            self._write(f"{label:<{self.width}} | {text}")

    def table(self, rows: list[dict]) -> None:
        with self._lock:
            self._write(f"{'SERVICE':<{self.width}}  {'STATE':<9} {'INST':>4} {'FLIGHT':>6}  ROUTE (through the gateway)")
            for row in rows:
                self._last[row["label"]] = _significant(row)
                self._write(_format(row, self.width))

    def changed(self, row: dict) -> None:
        """Print the row if its state or instance count moved (in-flight alone does not)."""
        with self._lock:
            key = _significant(row)
            if self._last.get(row["label"]) != key:
                self._last[row["label"]] = key
                self._write(_format(row, self.width))

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text + "\n")
            self._stream.flush()
        except (ValueError, OSError):  # console closed while stopping
            pass


def _significant(row: dict) -> tuple:
    return row["state"], row["instances"], row["ready"], row["stopping"]


def _format(row: dict, width: int) -> str:
    instances = f"{row['ready']}/{row['instances']}" if row["instances"] != row["ready"] else str(row["ready"])
    route = row["routes"][0] if row["routes"] else "(no route)"
    more = f" (+{len(row['routes']) - 1})" if len(row["routes"]) > 1 else ""
    return f"{row['label']:<{width}}  {row['state']:<9} {instances:>4} {row['in_flight']:>6}  {route}{more}"
