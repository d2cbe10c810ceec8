"""W3C trace context: keep the caller's trace id (or start one) so logs of one request join up."""
from __future__ import annotations

import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def parse_or_start(header: str | None) -> tuple[str, str]:
    """Return (trace_id, traceparent to echo): the caller's trace with a new span of ours."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"
