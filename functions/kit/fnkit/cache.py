"""Redis: one lazily created client per process, with short timeouts so a slow Redis degrades
reads to PostgreSQL instead of hanging requests."""
from __future__ import annotations

import json
import threading

from . import logs
from .config import env, env_float

_client = None
_lock = threading.Lock()
log = logs.get(__name__)


def client():
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                timeout = env_float("REDIS_TIMEOUT_SECONDS")
                _client = redis.Redis.from_url(
                    env("REDIS_URL"), socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
                )
    return _client


def unavailable_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.ConnectionError, redis.TimeoutError)


def get_json(key: str) -> object | None:
    """Cached value, or None on a miss or when Redis is down (the caller falls back to the DB)."""
    try:
        raw = client().get(key)
    except unavailable_errors() as exc:
        log.warning("cache read failed, falling back", extra={"key": key, "error": str(exc)})
        return None
    return None if raw is None else json.loads(raw)


def set_json(key: str, value: object, ttl_seconds: int) -> None:
    try:
        client().set(key, json.dumps(value, separators=(",", ":")), ex=ttl_seconds)
    except unavailable_errors() as exc:
        log.warning("cache write skipped", extra={"key": key, "error": str(exc)})


def delete(*keys: str) -> None:
    """Invalidate keys. Unlike reads, a failure here is raised: serving stale data is worse."""
    if keys:
        client().delete(*keys)
