"""The inventory function's reservation endpoints, reached over HTTP at INVENTORY_URL (in the
cluster: the cluster-local route to the inventory-* services). Every call is idempotent per
order id, so a retry after a timeout cannot hold stock twice."""
from __future__ import annotations

from fnkit import logs
from fnkit.config import env
from fnkit.service_client import Unreachable, call

from .pricing import PricedLine

log = logs.get(__name__)


class OutOfStock(Exception):
    def __init__(self, shortages: list[dict]):
        super().__init__(f"{len(shortages)} line(s) short of stock")
        self.shortages = shortages


class Refused(Exception):
    """Inventory answered with another 4xx (e.g. the order's reservation was already released)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


class Unavailable(Exception):
    """No usable answer: the reservation may or may not exist; release it to be sure."""


def _url(path: str) -> str:
    return env("INVENTORY_URL").rstrip("/") + path


def _send(path: str, body: dict | None = None) -> dict:
    try:
        reply = call("POST", _url(path), body if body is not None else {})
    except Unreachable as exc:
        raise Unavailable(str(exc)) from exc
    if reply.ok:
        return reply.body
    problem = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 409 and "shortages" in problem:
        raise OutOfStock(problem["shortages"])
    if 400 <= reply.status < 500:
        raise Refused(reply.status, problem.get("detail", f"inventory answered {reply.status}"))
    raise Unavailable(f"inventory answered {reply.status}: {problem.get('detail', '')}")


def reserve(order_id: str, lines: tuple[PricedLine, ...]) -> dict:
    return _send("/internal/inventory/reservations", {
        "order_id": order_id, "lines": [{"product_id": line.product_id, "quantity": line.quantity} for line in lines]})


def commit(order_id: str) -> dict:
    return _send(f"/internal/inventory/reservations/{order_id}/commit")


def release(order_id: str, reason: str) -> dict:
    return _send(f"/internal/inventory/reservations/{order_id}/release", {"reason": reason})


def release_quietly(order_id: str, reason: str) -> bool:
    """Best effort: if this fails too, the reservation expires (RESERVATION_TTL_SECONDS)."""
    try:
        release(order_id, reason)
        return True
    except (Unavailable, Refused) as exc:
        log.warning("reservation release failed; it will expire", extra={"order_id": order_id, "error": str(exc)})
        return False
