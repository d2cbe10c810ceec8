"""The account row (table `users`) as the auth and users functions both show it: never with
its password hash. One definition, so sign-up and profile answers cannot drift apart."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    role: str
    name: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime

    def to_public(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "roles": [self.role],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
