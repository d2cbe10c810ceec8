"""Notifications in PostgreSQL (the record) and each user's latest ones in Redis (the read path).

Redis holds `notifications:<user_id>`, a hash of `items` (the newest NOTIFICATIONS_CACHE_SIZE
notifications as one JSON list, so a reader never sees half an update) and `version`. Every change
of a user's notifications bumps their row in `notification_feeds` in the same transaction, which
serialises writers per user, so versions follow commit order. After commit the writer reads the
version, then the list (so the list is never older than its label), and replaces the Redis copy
only if it holds an older version: two writers finishing out of order cannot leave the older list.
The copy expires after NOTIFICATIONS_CACHE_TTL_SECONDS; a failed write leaves at most that stale.
"""
from __future__ import annotations

import json

from fnkit import cache, db, logs

from .messages import Notification

log = logs.get(__name__)
_COLUMNS = "id::text, user_id, kind, title, body, order_id::text, payment_id::text, event_type, occurred_at, read_at"
# KEYS[1] the user's key; ARGV: version, items JSON, TTL seconds. Returns 1 when it replaced the copy.
_REPLACE_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'items', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
_script = None


def insert(cur, notification: Notification) -> bool:
    """False when it exists already (the same event, applied before)."""
    n = notification
    cur.execute(
        "INSERT INTO notifications (id, user_id, kind, title, body, order_id, payment_id, event_type, occurred_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (n.id, n.user_id, n.kind, n.title, n.body, n.order_id, n.payment_id, n.event_type, n.occurred_at),
    )
    return cur.fetchone() is not None


def bump_version(cur, user_id: str) -> int:
    """The user's next feed version; holds their feed row lock until the transaction ends."""
    cur.execute(
        "INSERT INTO notification_feeds (user_id, version) VALUES (%s, 1) ON CONFLICT (user_id)"
        " DO UPDATE SET version = notification_feeds.version + 1 RETURNING version",
        (user_id,),
    )
    return cur.fetchone()["version"]


def find(cur, notification_id: str, lock: bool = False) -> Notification | None:
    cur.execute(f"SELECT {_COLUMNS} FROM notifications WHERE id = %s{' FOR UPDATE' if lock else ''}",
                (notification_id,))
    row = cur.fetchone()
    return Notification(**row) if row else None


def mark_read(cur, notification_id: str) -> Notification:
    """Keeps the first read time: reading again changes nothing."""
    cur.execute(f"UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = %s RETURNING {_COLUMNS}",
                (notification_id,))
    return Notification(**cur.fetchone())


def snapshot(user_id: str, limit: int) -> tuple[int, list[Notification]]:
    """(version, newest notifications), the version read first: the list is at least that new."""
    with db.transaction() as cur:
        cur.execute("SELECT version FROM notification_feeds WHERE user_id = %s", (user_id,))
        row = cur.fetchone()
        cur.execute(f"SELECT {_COLUMNS} FROM notifications WHERE user_id = %s"
                    " ORDER BY occurred_at DESC, id DESC LIMIT %s", (user_id, limit))
        items = [Notification(**r) for r in cur.fetchall()]
    return (row["version"] if row else 0), items


def cache_key(user_id: str) -> str:
    return f"notifications:{user_id}"


def cached(user_id: str) -> list[dict] | None:
    """The cached list, or None on a miss or when Redis is down (read PostgreSQL then)."""
    try:
        raw = cache.client().hget(cache_key(user_id), "items")
    except cache.unavailable_errors() as exc:
        log.warning("notification cache read failed, using PostgreSQL", extra={"user_id": user_id, "error": str(exc)})
        return None
    return None if raw is None else json.loads(raw)


def remember(user_id: str, version: int, items: list[dict], ttl_seconds: int) -> bool:
    """Replace the cached list if `version` is newer; False if it was not (or Redis is down)."""
    global _script
    try:
        if _script is None:
            _script = cache.client().register_script(_REPLACE_IF_NEWER)
        return bool(_script(keys=[cache_key(user_id)],
                            args=[version, json.dumps(items, separators=(",", ":")), ttl_seconds]))
    except cache.unavailable_errors() as exc:
        log.warning("notification cache write skipped", extra={"user_id": user_id, "error": str(exc)})
        return False
