"""Payment rules, in plain Python: statuses, how much may still be refunded, the status a
refund leaves behind. No I/O here.

    processing ──▶ succeeded ──▶ partially_refunded ──▶ refunded
        └────────▶ failed          └──────────────────────▲
"""
from __future__ import annotations

PROCESSING, SUCCEEDED, FAILED = "processing", "succeeded", "failed"
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
REFUNDABLE = (SUCCEEDED, PARTIALLY_REFUNDED)

REFUND_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer", "minimum": 1, "description": "minor units; omitted = all that is left"},
        "reason": {"type": "string", "maxLength": 200},
    },
}


class RefundRefused(ValueError):
    def __init__(self, message: str, status: int, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def refund_amount(requested: int | None, status: str, captured: int, refunded: int, pending: int) -> int:
    """What this refund takes: the request, or all that is left. Never more than was captured,
    counting refunds still in flight."""
    if status not in REFUNDABLE:
        raise RefundRefused(f"a {status} payment cannot be refunded", 409)
    left = captured - refunded - pending
    if left <= 0:
        raise RefundRefused("nothing is left to refund" + (" (refunds are in flight)" if pending else ""), 409)
    if requested is None:
        return left
    if requested > left:
        raise RefundRefused(f"at most {left} can still be refunded", 422, "amount")
    return requested


def status_after_refunds(captured: int, refunded: int) -> str:
    if refunded <= 0:
        return SUCCEEDED
    return REFUNDED if refunded >= captured else PARTIALLY_REFUNDED
