"""Errors as values with a type and a status, rendered once as application/problem+json (RFC 9457)."""
from __future__ import annotations

from dataclasses import dataclass, field

PROBLEM_TYPE_BASE = "https://fnshop.example/problems/"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class Problem(Exception):
    status: int
    title: str
    detail: str | None = None
    slug: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail or ''}"

    def to_dict(self, instance: str | None = None) -> dict:
        body: dict[str, object] = {
            "type": PROBLEM_TYPE_BASE + (self.slug or self.title.lower().replace(" ", "-")),
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extensions)
        return body


def invalid(errors: list[FieldError], detail: str = "The request has invalid fields.") -> Problem:
    return Problem(400, "Invalid request", detail, slug="validation", errors=errors)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="fnshop"'})


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "Not found", detail)


def conflict(detail: str, **extensions: object) -> Problem:
    return Problem(409, "Conflict", detail, extensions=dict(extensions))


def precondition_failed(detail: str) -> Problem:
    return Problem(412, "Precondition failed", detail)


def unprocessable(detail: str) -> Problem:
    return Problem(422, "Unprocessable request", detail)
