"""Payment rules without sockets: cards, the simulated provider, retries, refund limits."""
from __future__ import annotations

from datetime import date

import pytest

from payments import provider as providers
from payments.cards import brand, card_errors, luhn_valid, masked
from payments.ledger import REFUNDED, PARTIALLY_REFUNDED, SUCCEEDED, RefundRefused, refund_amount, status_after_refunds

CARD = {"type": "card", "card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def test_every_documented_test_card_is_luhn_valid():
    numbers = [*providers.SUCCEED, *providers.DECLINES, providers.FLAKY_ONCE, providers.ALWAYS_TRANSIENT]
    assert all(luhn_valid(n) for n in numbers)
    assert not luhn_valid("4242424242424241")


def test_card_checks_and_masking():
    assert card_errors(CARD, date(2026, 1, 1)) == []
    errors = card_errors({**CARD, "card_number": "4242424242424241", "exp_year": 2025}, date(2026, 1, 1))
    assert [e.field for e in errors] == ["payment_method.card_number", "payment_method.exp_year"]
    assert card_errors({**CARD, "exp_year": 2026, "exp_month": 1}, date(2026, 1, 31)) == []  # valid through its month
    assert masked(CARD) == {"type": "card", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    assert (brand("5555555555554444"), brand("378282246310005"), brand("6011000990139424")) == (
        "mastercard", "amex", "unknown")


def charge(provider, number, key="k1"):
    return provider.charge(key, 1000, "EUR", {**CARD, "card_number": number})


def test_simulated_provider_outcomes_by_test_card():
    sim = providers.SimulatedProvider()
    assert charge(sim, "4242424242424242").ok
    declined = charge(sim, "4000000000000002", "k2")
    assert not declined.ok and declined.code == "card_declined"
    assert charge(sim, "4000000000009995", "k3").code == "insufficient_funds"
    assert charge(sim, "4111111111111111", "k4").code == "live_card_in_test_mode"
    with pytest.raises(providers.TransientError):
        charge(sim, "4000000000000119", "k5")
    with pytest.raises(providers.TransientError):
        charge(sim, "4000000000000259", "k6")
    assert charge(sim, "4000000000000259", "k6").ok  # the second attempt of the same key succeeds


def test_provider_is_idempotent_per_key():
    sim = providers.SimulatedProvider()
    first = charge(sim, "4242424242424242", "same")
    assert charge(sim, "4000000000000002", "same") == first  # a retry never charges anew


def test_retries_back_off_and_are_bounded(monkeypatch):
    monkeypatch.setenv("PAYMENT_PROVIDER_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("PAYMENT_PROVIDER_BACKOFF_SECONDS", "0.1")
    sleeps, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise providers.TransientError("later")
        return "done"

    assert providers.with_retries(flaky, sleep=sleeps.append) == ("done", 3)
    assert len(sleeps) == 2 and 0.1 <= sleeps[0] <= 0.15 and 0.2 <= sleeps[1] <= 0.3

    def down():
        raise providers.TransientError("down")

    with pytest.raises(providers.TransientError):
        providers.with_retries(down, sleep=sleeps.append)
    assert len(sleeps) == 4


def test_refund_amounts_never_exceed_what_was_captured():
    assert refund_amount(None, SUCCEEDED, 1000, 0, 0) == 1000
    assert refund_amount(300, SUCCEEDED, 1000, 0, 0) == 300
    assert refund_amount(None, PARTIALLY_REFUNDED, 1000, 300, 200) == 500
    with pytest.raises(RefundRefused) as too_much:
        refund_amount(600, PARTIALLY_REFUNDED, 1000, 300, 200)
    assert too_much.value.status == 422 and too_much.value.field == "amount"
    with pytest.raises(RefundRefused) as nothing_left:
        refund_amount(None, PARTIALLY_REFUNDED, 1000, 800, 200)
    assert nothing_left.value.status == 409
    for status in ("processing", "failed", REFUNDED):
        with pytest.raises(RefundRefused):
            refund_amount(1, status, 1000, 0, 0)


def test_status_after_refunds():
    assert status_after_refunds(1000, 0) == SUCCEEDED
    assert status_after_refunds(1000, 1) == PARTIALLY_REFUNDED
    assert status_after_refunds(1000, 1000) == REFUNDED
