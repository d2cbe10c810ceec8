"""Profiles and addresses in PostgreSQL. Every address query is scoped by its owner's id, so no
query can touch another user's address however the caller computed the address id."""
from __future__ import annotations

from fnkit.accounts import Account

from .profile import ADDRESS_COLUMNS, Address

_PROFILE = "id::text, email, role, name, phone, created_at, updated_at"
_ADDRESS = ", ".join("id::text" if c == "id" else c for c in ADDRESS_COLUMNS)
_EDITABLE_PROFILE = ("name", "phone", "email")
_EDITABLE_ADDRESS = tuple(c for c in ADDRESS_COLUMNS if c not in ("id", "created_at", "updated_at"))


def find_profile(cur, user_id: str, lock: bool = False) -> Account | None:
    """With lock, the users row is held until commit: it serialises one user's address writes."""
    cur.execute(f"SELECT {_PROFILE} FROM users WHERE id = %s" + (" FOR UPDATE" if lock else ""), (user_id,))
    row = cur.fetchone()
    return Account(**row) if row else None


def password_hash(cur, user_id: str) -> str | None:
    cur.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
    row = cur.fetchone()
    return row["password_hash"] if row else None


def update_profile(cur, user_id: str, changes: dict) -> Account | None:
    """Raises psycopg2.errors.UniqueViolation when a new email is taken."""
    columns = [c for c in changes if c in _EDITABLE_PROFILE]
    assignments = "".join(f"{c} = %({c})s, " for c in columns)
    cur.execute(
        f"UPDATE users SET {assignments}version = version + 1, updated_at = now() WHERE id = %(user_id)s "
        f"RETURNING {_PROFILE}",
        {**{c: changes[c] for c in columns}, "user_id": user_id},
    )
    row = cur.fetchone()
    return Account(**row) if row else None


def addresses(cur, user_id: str) -> list[Address]:
    cur.execute(f"SELECT {_ADDRESS} FROM addresses WHERE user_id = %s ORDER BY created_at, id", (user_id,))
    return [Address(**row) for row in cur.fetchall()]


def count_addresses(cur, user_id: str) -> int:
    cur.execute("SELECT count(*) AS n FROM addresses WHERE user_id = %s", (user_id,))
    return cur.fetchone()["n"]


def has_default_shipping(cur, user_id: str) -> bool:
    cur.execute("SELECT 1 FROM addresses WHERE user_id = %s AND is_default_shipping", (user_id,))
    return cur.fetchone() is not None


def clear_default_shipping(cur, user_id: str) -> None:
    cur.execute("UPDATE addresses SET is_default_shipping = false, updated_at = now() "
                "WHERE user_id = %s AND is_default_shipping", (user_id,))


def insert_address(cur, address_id: str, user_id: str, values: dict) -> Address:
    columns = [c for c in _EDITABLE_ADDRESS if c in values]
    cur.execute(
        f"INSERT INTO addresses (id, user_id, {', '.join(columns)}) "
        f"VALUES (%(id)s, %(user_id)s, {', '.join(f'%({c})s' for c in columns)}) RETURNING {_ADDRESS}",
        {**{c: values[c] for c in columns}, "id": address_id, "user_id": user_id},
    )
    return Address(**cur.fetchone())


def update_address(cur, user_id: str, address_id: str, values: dict) -> Address | None:
    columns = [c for c in _EDITABLE_ADDRESS if c in values]
    assignments = "".join(f"{c} = %({c})s, " for c in columns)
    cur.execute(
        f"UPDATE addresses SET {assignments}updated_at = now() WHERE id = %(id)s AND user_id = %(user_id)s "
        f"RETURNING {_ADDRESS}",
        {**{c: values[c] for c in columns}, "id": address_id, "user_id": user_id},
    )
    row = cur.fetchone()
    return Address(**row) if row else None


def delete_address(cur, user_id: str, address_id: str) -> bool:
    cur.execute("DELETE FROM addresses WHERE id = %s AND user_id = %s", (address_id, user_id))
    return cur.rowcount == 1
