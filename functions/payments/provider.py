"""The payment-provider interface and the built-in simulated provider (PAYMENT_PROVIDER=simulated).

The simulator behaves like a provider's test mode: calls are idempotent per key (a retry of a
charge returns the first result instead of charging twice), and these test card numbers
decide the outcome (any expiry in the future, any CVC):

    4242424242424242, 5555555555554444   succeed
    4000000000000002                     declined            (card_declined)
    4000000000009995                     declined            (insufficient_funds)
    4000000000000259                     fails transiently once, then succeeds (shows the retry)
    4000000000000119                     always fails transiently (processing_error)
    any other number                     declined            (live_card_in_test_mode)

Transient failures raise TransientError; `with_retries` retries them with exponential backoff,
at most PAYMENT_PROVIDER_MAX_ATTEMPTS times.
"""
from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol, TypeVar

from fnkit.config import env, env_float, env_int

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    ok: bool
    reference: str | None = None
    code: str | None = None
    message: str | None = None


class TransientError(Exception):
    """The provider could not answer now (timeout, 5xx); safe to retry with the same key."""


class Provider(Protocol):
    def charge(self, key: str, amount: int, currency: str, card: dict) -> Result: ...

    def refund(self, key: str, charge_reference: str, amount: int) -> Result: ...


SUCCEED = ("4242424242424242", "5555555555554444")
DECLINES = {
    "4000000000000002": ("card_declined", "The card was declined."),
    "4000000000009995": ("insufficient_funds", "The card has insufficient funds."),
}
FLAKY_ONCE = "4000000000000259"
ALWAYS_TRANSIENT = "4000000000000119"


class SimulatedProvider:
    def __init__(self):
        self._results: dict[str, Result] = {}
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def charge(self, key: str, amount: int, currency: str, card: dict) -> Result:
        with self._lock:
            if key in self._results:
                return self._results[key]
            attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
        number = card["card_number"]
        if number == ALWAYS_TRANSIENT or (number == FLAKY_ONCE and attempt == 1):
            raise TransientError("processing_error: the provider is temporarily unavailable")
        if number in SUCCEED or number == FLAKY_ONCE:
            result = Result(True, _reference("ch", key))
        else:
            code, message = DECLINES.get(number, ("live_card_in_test_mode", "Only test cards work in test mode."))
            result = Result(False, _reference("ch", key), code, message)
        with self._lock:
            return self._results.setdefault(key, result)

    def refund(self, key: str, charge_reference: str, amount: int) -> Result:
        return Result(True, _reference("re", key))


def _reference(kind: str, key: str) -> str:
    return f"sim_{kind}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


_provider: Provider | None = None


def provider() -> Provider:
    global _provider
    if _provider is None:
        name = env("PAYMENT_PROVIDER")
        if name != "simulated":
            raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}; only 'simulated' is built in")
        _provider = SimulatedProvider()
    return _provider


def with_retries(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
    """(result, attempts used); re-raises the last TransientError when every attempt failed."""
    attempts, delay = env_int("PAYMENT_PROVIDER_MAX_ATTEMPTS"), env_float("PAYMENT_PROVIDER_BACKOFF_SECONDS")
    for attempt in range(1, attempts + 1):
        try:
            return call(), attempt
        except TransientError:
            if attempt == attempts:
                raise
            sleep(delay * 2 ** (attempt - 1) * (1 + random.random() / 2))  # jitter spreads retries apart
    raise AssertionError("unreachable")
