"""Settings, read only from environment variables (the same names in the Knative manifests).

`SETTINGS` is the single list of every variable a function may read; the manifest checks use
it to prove each one is set in the ConfigMap or Secret.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# In a checkout the kit sits at functions/kit/fnkit; images set EVENT_SCHEMAS_DIR explicitly.
_REPO_SCHEMAS = str(Path(__file__).resolve().parents[3] / "eventing" / "schemas")


@dataclass(frozen=True)
class Setting:
    name: str
    doc: str
    default: str | None = None
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "PostgreSQL DSN of the system of record.", secret=True),
    Setting("DB_POOL_MAX", "Most PostgreSQL connections one instance keeps.", "8"),
    Setting("DB_POOL_WAIT_SECONDS", "How long a request waits for a free connection before a 503.", "5"),
    Setting("REDIS_URL", "Redis URL (cache, carts, sessions).", secret=True),
    Setting("REDIS_TIMEOUT_SECONDS", "Socket timeout of Redis calls.", "0.5"),
    Setting("KAFKA_BOOTSTRAP_SERVERS", "Comma-separated Kafka brokers."),
    Setting("JWT_ISSUER", "Expected `iss` of access tokens.", "https://fnshop.example/auth"),
    Setting("JWT_AUDIENCE", "Expected `aud` of access tokens.", "fnshop-api"),
    Setting("JWT_JWKS_URL", "Where the public keys of the auth function are published."),
    Setting("JWT_ALGORITHMS", "Comma-separated allow-list of token signature algorithms.", "RS256"),
    Setting("EVENT_SCHEMAS_DIR", "Folder of the JSON Schemas of event data.", _REPO_SCHEMAS),
    Setting("EVENT_SOURCE_PREFIX", "Prefix of the CloudEvents `source` of emitted events.", "/fnshop"),
    Setting("LOG_LEVEL", "Python log level of the JSON logs.", "INFO"),
    Setting("MAX_REQUEST_BYTES", "Largest accepted request body.", "65536"),
    Setting("PRODUCT_CACHE_TTL_SECONDS", "How long a product read stays cached in Redis.", "300"),
    Setting("OUTBOX_POLL_SECONDS", "How often the outbox relay looks for rows without a NOTIFY.", "1.0"),
    Setting("RELAY_METRICS_PORT", "Port of the outbox relay's Prometheus metrics (0: any free port).", "9090"),
    Setting("AUTH_SIGNING_KEYS", "Private RS256 keys of the auth function: a PEM, or a JSON list of "
            "{kid, pem}, current key first (`python -m auth.keys generate`).", secret=True),
    Setting("AUTH_ACCESS_TOKEN_TTL_SECONDS", "Lifetime of an access token (JWT).", "900"),
    Setting("AUTH_REFRESH_TOKEN_TTL_SECONDS", "Lifetime of a refresh token; each use issues a new one.", "2592000"),
    Setting("AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "Failed logins per email within the window before 429.", "5"),
    Setting("AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS", "Failed logins per client address within the window before 429.", "20"),
    Setting("AUTH_LOGIN_FAILURE_WINDOW_SECONDS", "How long failed logins are counted (and a block lasts).", "900"),
    Setting("AUTH_TRUSTED_PROXY_HOPS", "Reverse proxies in front of the function whose X-Forwarded-For "
            "entries are trusted; 0 uses the peer address.", "0"),
    # Checkout (cart, inventory, orders, payments)
    Setting("CART_IDLE_TTL_SECONDS", "A cart untouched this long expires from Redis.", "604800"),
    Setting("CART_MAX_LINES", "Most distinct products in one cart.", "50"),
    Setting("RESERVATION_TTL_SECONDS", "How long inventory stays held for an unpaid order; longer than "
            "ORDER_PAYMENT_DEADLINE_SECONDS plus the slowest charge.", "1800"),
    Setting("RESERVATION_EXPIRY_BATCH", "Most expired reservations released per scheduled run.", "200"),
    Setting("INVENTORY_LOW_THRESHOLD", "Available stock at or below which com.fnshop.inventory.low is emitted.", "5"),
    Setting("INVENTORY_URL", "Base URL of the cluster-local inventory reservation endpoints (/internal/inventory/...).",
            "http://inventory.fnshop.svc.cluster.local"),
    Setting("SERVICE_CALL_TIMEOUT_SECONDS", "Timeout of one function-to-function HTTP call.", "5"),
    Setting("ORDER_PAYMENT_DEADLINE_SECONDS", "An order must be paid this soon after it is placed.", "900"),
    Setting("IDEMPOTENCY_LEASE_SECONDS", "How long a request holds its Idempotency-Key before a retry may take it over.", "30"),
    Setting("IDEMPOTENCY_WAIT_SECONDS", "How long a repeated request waits for the first one with its key to finish.", "20"),
    Setting("PAYMENT_PROVIDER", "Payment provider adapter; `simulated` is the built-in test mode.", "simulated"),
    Setting("PAYMENT_PROVIDER_MAX_ATTEMPTS", "Attempts per provider call when it fails transiently.", "3"),
    Setting("PAYMENT_PROVIDER_BACKOFF_SECONDS", "First retry delay of provider calls (doubles per attempt).", "0.05"),
    Setting("PAYMENT_CACHE_TTL_SECONDS", "How long a payment's status stays cached in Redis.", "3600"),
    # Eventing consumers (notifications, schedules)
    Setting("ORDER_OVERDUE_BATCH", "Most unpaid orders past their deadline cancelled per scheduled run.", "200"),
    Setting("NOTIFICATIONS_CACHE_SIZE", "Newest notifications per user kept in Redis (also the largest page).", "50"),
    Setting("NOTIFICATIONS_CACHE_TTL_SECONDS", "How long a user's cached notification list lives in Redis.", "600"),
    # Recommendations (model training and reads)
    Setting("RECOMMENDATIONS_MODEL_SIZE", "Neighbours kept per product (and popular products per category) by a "
            "training; above the largest `limit`, so reads still fill a page after dropping unavailable ones.", "50"),
    Setting("RECOMMENDATIONS_CACHE_TTL_SECONDS", "How long a trained model stays in Redis; a backstop for versions "
            "nobody pruned (each training replaces the model, and reads use PostgreSQL on a miss).", "172800"),
    Setting("RECOMMENDATIONS_CONTENT_SIZE", "Content-similar neighbours (alike in name, category and description) "
            "kept per product by a training: the cold-start lists, read after the co-purchase ones.", "30"),
    Setting("RECOMMENDATIONS_CONTENT_MIN_SCORE", "Least cosine similarity of two products' TF-IDF texts for one to be "
            "a content-similar neighbour of the other, in (0, 1]; below it the category's popular products "
            "fill the list instead.", "0.1"),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


class ConfigError(RuntimeError):
    """A required setting is missing or malformed: a deployment mistake, not bad input."""


def env(name: str) -> str:
    setting = _BY_NAME[name]  # KeyError here means the setting was never declared above
    value = os.environ.get(name, setting.default)
    if value is None or value == "":
        raise ConfigError(f"environment variable {name} is not set ({setting.doc})")
    return value


def env_int(name: str) -> int:
    try:
        return int(env(name))
    except ValueError as exc:
        raise ConfigError(f"environment variable {name} must be an integer") from exc


def env_float(name: str) -> float:
    try:
        return float(env(name))
    except ValueError as exc:
        raise ConfigError(f"environment variable {name} must be a number") from exc


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env(name).split(",") if item.strip()]


def function_name() -> str:
    """The Knative Service name (K_SERVICE, set by Knative) or, locally, the target name."""
    return os.environ.get("K_SERVICE") or os.environ.get("FUNCTION_TARGET", "unknown").replace("_", "-")
