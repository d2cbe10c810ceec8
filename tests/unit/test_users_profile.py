"""The users function's rules, without sockets: profile changes, address values and schemas."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml

from fnkit.accounts import Account
from fnkit.validation import field_errors
from users.profile import (ADDRESS_PATCH_SCHEMA, NEW_ADDRESS_SCHEMA, PROFILE_PATCH_SCHEMA, Address,
                           address_changes, profile_change)

ADDRESS = {"recipient": "Ada Lovelace", "line1": "1 Analytical St", "city": "London", "postal_code": "N1 9GU",
           "country": "GB"}


def test_name_and_phone_change_and_blank_name_is_refused():
    change, errors = profile_change({"name": "  Ada  ", "phone": "+442071234567"})
    assert errors == [] and change.fields == {"name": "Ada", "phone": "+442071234567"} and change.new_email is None
    change, _ = profile_change({"name": None, "phone": None})
    assert change.fields == {"name": None, "phone": None}
    _, errors = profile_change({"name": "   "})
    assert [e.field for e in errors] == ["name"]


def test_changing_the_email_needs_the_current_password_and_is_normalised():
    _, errors = profile_change({"email": "new@example.com"})
    assert [e.field for e in errors] == ["current_password"]
    change, errors = profile_change({"email": " New@Example.COM ", "current_password": "pw"})
    assert errors == [] and change.new_email == "new@example.com" and change.current_password == "pw"
    _, errors = profile_change({"email": "nope", "current_password": "pw"})
    assert [e.field for e in errors] == ["email"]
    _, errors = profile_change({"current_password": "pw"})
    assert [e.field for e in errors] == ["current_password"]


def test_profile_schema_names_bad_fields():
    errors = {e.field for e in field_errors(PROFILE_PATCH_SCHEMA, {"phone": "0301234", "role": "admin", "name": 5})}
    assert errors == {"phone", "role", "name"}
    assert field_errors(PROFILE_PATCH_SCHEMA, {})[0].field == "(body)"


def test_address_schemas():
    assert field_errors(NEW_ADDRESS_SCHEMA, ADDRESS) == []
    missing = {e.field for e in field_errors(NEW_ADDRESS_SCHEMA, {"recipient": "x"})}
    assert missing == {"line1", "city", "postal_code", "country"}
    assert {e.field for e in field_errors(NEW_ADDRESS_SCHEMA, {**ADDRESS, "country": "gb"})} == {"country"}
    assert {e.field for e in field_errors(ADDRESS_PATCH_SCHEMA, {"city": None, "user_id": "x"})} == {"city", "user_id"}
    assert field_errors(ADDRESS_PATCH_SCHEMA, {"line2": None}) == []


def test_address_values_are_trimmed_and_blank_required_text_refused():
    values, errors = address_changes({**ADDRESS, "recipient": "  Ada ", "line2": "  ", "is_default_shipping": True})
    assert errors == [] and values["recipient"] == "Ada" and values["line2"] is None and values["is_default_shipping"]
    _, errors = address_changes({"city": "   "})
    assert [e.field for e in errors] == ["city"]


def test_public_views_hold_no_secrets_and_ids_are_uuids():
    now = datetime.now(timezone.utc)
    profile = Account("u", "a@example.com", "admin", None, None, now, now).to_public()
    assert "password_hash" not in profile and profile["roles"] == ["admin"]
    address = Address("a", None, "Ada", "l1", None, "c", None, "p", "GB", None, True, now, now).to_public()
    assert address["is_default_shipping"] is True and address["created_at"] == now.isoformat()


def test_documented_request_bodies_match_the_validating_schemas():
    """docs/openapi/users.yaml and the schemas the function validates with must not drift."""
    document = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi" / "users.yaml").read_text())
    schemas = document["components"]["schemas"]
    for name, schema in (("NewAddress", NEW_ADDRESS_SCHEMA), ("AddressChanges", ADDRESS_PATCH_SCHEMA),
                         ("UserChanges", PROFILE_PATCH_SCHEMA)):
        documented = schemas[name]
        assert set(documented["properties"]) == set(schema["properties"]), name
        assert documented.get("required", []) == schema.get("required", []), name
        for field, rules in schema["properties"].items():
            for keyword in ("type", "pattern", "minLength", "maxLength"):
                assert documented["properties"][field].get(keyword) == rules.get(keyword), (name, field, keyword)
    assert set(schemas["Address"]["properties"]) == {f for f in Address.__dataclass_fields__}
    assert set(schemas["User"]["required"]) == set(
        Account("u", "e", "customer", None, None, datetime.now(timezone.utc), datetime.now(timezone.utc)).to_public())
