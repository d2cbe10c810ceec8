"""Profile and address-book operations. The caller has authenticated the principal; every
operation here acts on the principal's own user id only (admins read others via get_user)."""
from __future__ import annotations

import uuid

import psycopg2.errors

from fnkit import credentials, db
from fnkit.errors import Problem, conflict, invalid, not_found

from . import store
from .profile import MAX_ADDRESSES, address_changes, profile_change


def get_profile(user_id: str) -> dict:
    with db.transaction() as cur:
        profile = store.find_profile(cur, user_id)
    if profile is None:
        raise not_found("the account of this token no longer exists")
    return profile.to_public()


def update_profile(user_id: str, payload: dict) -> dict:
    """Payload matches PROFILE_PATCH_SCHEMA."""
    change, errors = profile_change(payload)
    if errors:
        raise invalid(errors)
    changes = dict(change.fields)
    if change.new_email is not None:
        with db.transaction() as cur:
            stored_hash = store.password_hash(cur, user_id)
        # Verified outside the transaction: argon2 is slow and needs no row lock.
        if stored_hash is not None and not credentials.verify_password(stored_hash, change.current_password):
            raise Problem(403, "Forbidden", "current_password is not this account's password",
                          extensions={"field": "current_password"})
        changes["email"] = change.new_email
    try:
        with db.transaction() as cur:
            profile = store.update_profile(cur, user_id, changes)
    except psycopg2.errors.UniqueViolation:
        raise conflict("an account with this email already exists", field="email") from None
    if profile is None:
        raise not_found("the account of this token no longer exists")
    return profile.to_public()


def list_addresses(user_id: str) -> list[dict]:
    with db.transaction() as cur:
        return [address.to_public() for address in store.addresses(cur, user_id)]


def create_address(user_id: str, payload: dict) -> dict:
    """Payload matches NEW_ADDRESS_SCHEMA. A user's first address becomes the default one."""
    values, errors = address_changes(payload)
    if errors:
        raise invalid(errors)
    with db.transaction() as cur:
        _lock_owner(cur, user_id)
        if store.count_addresses(cur, user_id) >= MAX_ADDRESSES:
            raise conflict(f"an address book holds at most {MAX_ADDRESSES} addresses")
        if values.get("is_default_shipping"):
            store.clear_default_shipping(cur, user_id)
        elif "is_default_shipping" not in values:
            values["is_default_shipping"] = not store.has_default_shipping(cur, user_id)
        return store.insert_address(cur, str(uuid.uuid4()), user_id, values).to_public()


def update_address(user_id: str, address_id: str, payload: dict) -> dict:
    """Payload matches ADDRESS_PATCH_SCHEMA. Making it the default unsets the old default in
    the same transaction."""
    values, errors = address_changes(payload)
    if errors:
        raise invalid(errors)
    with db.transaction() as cur:
        _lock_owner(cur, user_id)
        if values.get("is_default_shipping"):
            store.clear_default_shipping(cur, user_id)
        address = store.update_address(cur, user_id, address_id, values)
        if address is None:
            raise _no_address(address_id)  # rolls back the clearing above
        return address.to_public()


def delete_address(user_id: str, address_id: str) -> None:
    with db.transaction() as cur:
        _lock_owner(cur, user_id)
        if not store.delete_address(cur, user_id, address_id):
            raise _no_address(address_id)


def get_user(user_id: str) -> dict:
    """Any account by id (the caller has checked the admin role)."""
    with db.transaction() as cur:
        profile = store.find_profile(cur, user_id)
    if profile is None:
        raise not_found(f"no user with id {user_id}")
    return profile.to_public()


def _lock_owner(cur, user_id: str) -> None:
    if store.find_profile(cur, user_id, lock=True) is None:
        raise not_found("the account of this token no longer exists")


def _no_address(address_id: str) -> Problem:
    # Another user's address is "not found" too: whether an id exists elsewhere is not told.
    return not_found(f"you have no address with id {address_id}")
