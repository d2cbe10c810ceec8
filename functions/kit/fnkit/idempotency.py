"""Idempotency-Key handling for POSTs that must happen once (orders, payments, refunds).

A key is claimed with `INSERT ... ON CONFLICT DO NOTHING` on a unique row (scope, owner, key),
so of two requests racing with one key exactly one runs; the other waits for its outcome and
replays it. The outcome is stored in the same transaction as the write it reports
(`complete(cur, ...)`), so "order exists" and "key answered" can never disagree.

A claim is a lease: if its holder dies, a retry takes it over after IDEMPOTENCY_LEASE_SECONDS
and gets the same `resource_id`, so downstream calls keyed by it (a reservation, a provider
charge) stay idempotent too. Outcomes below 500 are final and replayed; a 5xx or a crash
abandons the claim so the client's retry runs again.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from . import db
from .config import env_float
from .errors import FieldError, Problem, invalid, unprocessable

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
_POLL_SECONDS = 0.05


class TakenOver(Problem):
    """complete() found the key owned by a later attempt (this one outlived its lease)."""


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict


@dataclass(frozen=True)
class Claim:
    scope: str
    owner: str
    key: str
    attempt: str
    resource_id: str
    stored: Outcome | None = None  # set when the key was already answered: replay it

    @property
    def replayed(self) -> bool:
        return self.stored is not None


def require_key(headers) -> str:
    key = (headers.get(HEADER) or "").strip()
    if not key:
        raise invalid([FieldError(HEADER, "header is required")], f"send an {HEADER} header (e.g. a UUID)")
    if not _KEY.match(key):
        raise invalid([FieldError(HEADER, "must be 1-255 printable ASCII characters without spaces")])
    return key


def fingerprint(*parts: object) -> str:
    """Hash of what makes two requests "the same" (method, path, canonical body)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(scope: str, owner: str, key: str, print_: str) -> Claim:
    """Own the key (first use, or takeover of a dead holder) or get its stored outcome.

    Raises 422 when the key was used with another request, 409 when its first request is still
    running after IDEMPOTENCY_WAIT_SECONDS.
    """
    attempt = str(uuid.uuid4())
    lease = env_float("IDEMPOTENCY_LEASE_SECONDS")
    deadline = time.monotonic() + env_float("IDEMPOTENCY_WAIT_SECONDS")
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO idempotency_keys (scope, owner, key, fingerprint, resource_id, attempt, locked_until)"
            " VALUES (%s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s))"
            " ON CONFLICT DO NOTHING RETURNING resource_id",
            (scope, owner, key, print_, str(uuid.uuid4()), attempt, lease),
        )
        row = cur.fetchone()
    if row:
        return Claim(scope, owner, key, attempt, row["resource_id"])
    while True:
        with db.transaction() as cur:
            cur.execute(
                "SELECT fingerprint, resource_id, response_status, response_body, locked_until < now() AS expired"
                " FROM idempotency_keys WHERE scope = %s AND owner = %s AND key = %s",
                (scope, owner, key),
            )
            row = cur.fetchone()
            if row is not None and row["fingerprint"] != print_:
                raise unprocessable(f"this {HEADER} was already used with a different request; use a new key")
            if row is not None and row["response_status"] is not None:
                return Claim(scope, owner, key, "", row["resource_id"], Outcome(row["response_status"], row["response_body"]))
            if row is not None and row["expired"]:
                cur.execute(
                    "UPDATE idempotency_keys SET attempt = %s, locked_until = now() + make_interval(secs => %s)"
                    " WHERE scope = %s AND owner = %s AND key = %s AND response_status IS NULL AND locked_until < now()"
                    " RETURNING resource_id",
                    (attempt, lease, scope, owner, key),
                )
                taken = cur.fetchone()
                if taken:
                    return Claim(scope, owner, key, attempt, taken["resource_id"])
        if row is None:  # abandoned by a failed holder just now: start afresh
            return claim(scope, owner, key, print_)
        if time.monotonic() > deadline:
            raise Problem(409, "Conflict", f"a request with this {HEADER} is still in progress; retry later",
                          slug="idempotency-in-progress", headers={"Retry-After": "1"})
        time.sleep(_POLL_SECONDS)


def complete(cur, claim_: Claim, outcome: Outcome) -> None:
    """Store the outcome inside the caller's transaction; refuses if a takeover stole the key."""
    cur.execute(
        "UPDATE idempotency_keys SET response_status = %s, response_body = %s, completed_at = now()"
        " WHERE scope = %s AND owner = %s AND key = %s AND attempt = %s AND response_status IS NULL",
        (outcome.status, json.dumps(outcome.body), claim_.scope, claim_.owner, claim_.key, claim_.attempt),
    )
    if cur.rowcount != 1:
        raise TakenOver(409, "Conflict", f"this {HEADER} was taken over by a later retry; repeat the request "
                        "to get its result", slug="idempotency-taken-over")


def abandon(claim_: Claim) -> None:
    with db.transaction() as cur:
        cur.execute(
            "DELETE FROM idempotency_keys WHERE scope = %s AND owner = %s AND key = %s AND attempt = %s"
            " AND response_status IS NULL",
            (claim_.scope, claim_.owner, claim_.key, claim_.attempt),
        )


def run(claim_: Claim, operation: Callable[[Claim], Outcome], instance: str, keep_on_crash: bool = False) -> Outcome:
    """Run `operation` for an owned claim. The operation stores a success itself (complete() in
    its transaction); a refusal (Problem < 500) is stored here and re-raised; a 5xx Problem
    abandons the claim. Any other error abandons it too, unless `keep_on_crash`: then the claim
    stays until its lease ends and a retry takes it over with the same resource_id (for
    operations whose side effect elsewhere, e.g. a provider charge, is idempotent by that id)."""
    if claim_.stored is not None:
        return claim_.stored
    try:
        return operation(claim_)
    except Problem as problem:
        if problem.status >= 500:
            _abandon_quietly(claim_)
            raise
        try:
            with db.transaction() as cur:
                complete(cur, claim_, Outcome(problem.status, problem.to_dict(instance=instance)))
        except Problem:
            pass  # taken over meanwhile: the new holder answers the key
        raise
    except BaseException:
        if not keep_on_crash:
            _abandon_quietly(claim_)
        raise


def _abandon_quietly(claim_: Claim) -> None:
    try:
        abandon(claim_)
    except Exception:  # the lease expires anyway; the original error is the one to report
        pass


def response(outcome: Outcome, replayed: bool, headers: dict[str, str] | None = None):
    """The HTTP response of an outcome; a replay says so in `Idempotent-Replayed: true`."""
    from .http import PROBLEM_JSON, json_response

    extra = {**(headers or {}), **({"Idempotent-Replayed": "true"} if replayed else {})}
    result = json_response(outcome.body, outcome.status, extra)
    if outcome.status >= 400:
        result.mimetype = PROBLEM_JSON
    return result
