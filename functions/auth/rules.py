"""Account rules of the auth function, in plain Python: what a valid registration is and how
an account is shown. No I/O here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from fnkit.credentials import email_problem, normalise_email
from fnkit.errors import FieldError

MIN_PASSWORD_LENGTH = 10
# argon2 takes any length; the cap only bounds what one request can make the server hash.
MAX_PASSWORD_LENGTH = 1024
CUSTOMER, ADMIN = "customer", "admin"

_CREDENTIALS = {
    "email": {"type": "string", "minLength": 1, "maxLength": 320},
    "password": {"type": "string", "minLength": 1, "maxLength": MAX_PASSWORD_LENGTH},
}
REGISTER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "password"],
    "properties": _CREDENTIALS,
}
LOGIN_SCHEMA = REGISTER_SCHEMA  # same shape; only registration applies the policies below


def password_problems(password: str, normalised_email: str) -> list[str]:
    """Why a new password is not acceptable (empty when it is)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == normalised_email:
        problems.append("must not be the email address")
    return problems


@dataclass(frozen=True)
class NewAccount:
    id: str
    email: str
    password: str
    role: str


def new_account(payload: dict, role: str = CUSTOMER) -> tuple[NewAccount | None, list[FieldError]]:
    """The account a registration request asks for, or the errors naming each bad field."""
    email = normalise_email(payload["email"])
    errors = []
    problem = email_problem(email)
    if problem:
        errors.append(FieldError("email", problem))
    errors += [FieldError("password", message) for message in password_problems(payload["password"], email)]
    if errors:
        return None, errors
    return NewAccount(str(uuid.uuid4()), email, payload["password"], role), []
