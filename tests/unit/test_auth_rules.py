"""Account rules of the auth function, without sockets: email normalisation, password policy,
argon2id hashing and the public shape of an account."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from auth.rules import REGISTER_SCHEMA, new_account, password_problems
from fnkit.accounts import Account
from auth.sessions import REFRESH_SCHEMA
from fnkit import credentials
from fnkit.validation import field_errors


@pytest.mark.parametrize("raw, normalised", [
    ("alice@example.com", "alice@example.com"),
    ("  Alice@Example.COM\t", "alice@example.com"),
    ("BOB+shop@Sub.Example.org\n", "bob+shop@sub.example.org"),
])
def test_emails_are_trimmed_and_lower_cased(raw, normalised):
    assert credentials.normalise_email(raw) == normalised


@pytest.mark.parametrize("email", ["alice", "alice@", "@example.com", "alice@example", "a b@example.com",
                                   "alice@@example.com", "alice@example..com", "x" * 250 + "@example.com"])
def test_implausible_emails_are_refused(email):
    assert credentials.email_problem(credentials.normalise_email(email)) is not None


def test_password_policy_length_and_not_the_email():
    assert password_problems("correct horse battery", "alice@example.com") == []
    assert password_problems("123456789", "alice@example.com") == ["must be at least 10 characters"]
    assert password_problems("x" * 10, "alice@example.com") == []
    assert password_problems("alice@example.com", "alice@example.com") == ["must not be the email address"]
    # Compared like emails are: trimmed and case-insensitively.
    assert password_problems(" ALICE@example.com ", "alice@example.com") == ["must not be the email address"]
    assert len(password_problems("a@b.co", "a@b.co")) == 2


def test_new_account_names_each_bad_field():
    account, errors = new_account({"email": " Alice@Example.com ", "password": "long enough pw"})
    assert errors == [] and account.email == "alice@example.com" and account.role == "customer"
    _, errors = new_account({"email": "not-an-email", "password": "short"})
    assert {e.field for e in errors} == {"email", "password"}
    _, errors = new_account({"email": "bob@example.com", "password": "Bob@Example.com"})
    assert [(e.field, e.message) for e in errors] == [("password", "must not be the email address")]


def test_register_schema_rejects_missing_wrong_and_extra_fields():
    fields = {e.field for e in field_errors(REGISTER_SCHEMA, {"email": 3, "role": "admin"})}
    assert fields == {"email", "password", "role"}  # nobody registers themselves as admin


def test_public_account_never_holds_a_password_or_hash():
    now = datetime.now(timezone.utc)
    public = Account("u1", "a@example.com", "customer", None, None, now, now).to_public()
    assert set(public) == {"id", "email", "name", "phone", "roles", "created_at", "updated_at"}
    assert public["roles"] == ["customer"]


def test_passwords_are_hashed_with_argon2id_and_verified():
    stored = credentials.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert credentials.verify_password(stored, "correct horse battery")
    assert not credentials.verify_password(stored, "correct horse batterx")
    assert not credentials.verify_password("not a hash", "correct horse battery")
    assert not credentials.needs_rehash(stored)
    assert credentials.verify_against_dummy("anything at all") is False


def test_documented_request_bodies_match_the_validating_schemas():
    document = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi" / "auth.yaml").read_text())
    schemas = document["components"]["schemas"]
    for name, schema in (("AuthCredentials", REGISTER_SCHEMA), ("AuthRefreshRequest", REFRESH_SCHEMA)):
        documented = schemas[name]
        assert documented["required"] == schema["required"], name
        for field, rules in schema["properties"].items():
            for keyword in ("type", "minLength", "maxLength"):
                assert documented["properties"][field].get(keyword) == rules.get(keyword), (name, field, keyword)
