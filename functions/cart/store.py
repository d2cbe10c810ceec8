"""Carts in Redis, one hash per user (`cart:<user_id>`, layout in `lines`). Every change is a
Lua script, so concurrent requests never lose a line or exceed a bound: no read-modify-write
happens outside Redis. Each write renews the idle TTL."""
from __future__ import annotations

from contextlib import contextmanager

from fnkit import cache
from fnkit.errors import Problem

from .lines import Cart, Snapshot, cart_from_hash

# Returns {'ok', quantity} or a refusal: {'currency', cart currency}, {'quantity', current}, {'lines', count}.
_ADD = """
local cur = redis.call('HGET', KEYS[1], 'currency')
local lines = math.floor(redis.call('HLEN', KEYS[1]) / 2)
if cur and lines > 0 and cur ~= ARGV[4] then return {'currency', cur} end
local qf = 'q:' .. ARGV[1]
local have = tonumber(redis.call('HGET', KEYS[1], qf) or '0')
local want = have + tonumber(ARGV[2])
if want > tonumber(ARGV[5]) then return {'quantity', tostring(have)} end
if have == 0 then
  if lines >= tonumber(ARGV[6]) then return {'lines', tostring(lines)} end
  redis.call('HSET', KEYS[1], 'p:' .. ARGV[1], ARGV[3])
end
redis.call('HSET', KEYS[1], qf, want, 'currency', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return {'ok', tostring(want)}
"""
_SET = """
local qf = 'q:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], qf) == 0 then return 0 end
redis.call('HSET', KEYS[1], qf, ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
_REMOVE = """
local removed = redis.call('HDEL', KEYS[1], 'q:' .. ARGV[1], 'p:' .. ARGV[1])
if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1])
elseif removed > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return removed
"""
# ARGV: product, quantity, product, quantity, ...: takes away what an order bought, keeping
# whatever the shopper added meanwhile.
_TAKE = """
for i = 1, #ARGV, 2 do
  local qf = 'q:' .. ARGV[i]
  local left = tonumber(redis.call('HGET', KEYS[1], qf) or '0') - tonumber(ARGV[i + 1])
  if left > 0 then redis.call('HSET', KEYS[1], qf, left)
  else redis.call('HDEL', KEYS[1], qf, 'p:' .. ARGV[i]) end
end
if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
return 1
"""
_scripts: dict[str, object] = {}


def key(user_id: str) -> str:
    return f"cart:{user_id}"


def _script(source: str):
    if source not in _scripts:
        _scripts[source] = cache.client().register_script(source)  # EVALSHA, loading on NOSCRIPT
    return _scripts[source]


@contextmanager
def redis_required():
    """Carts live only in Redis: without it, a 503 (nothing was changed) rather than a 500."""
    try:
        yield
    except cache.unavailable_errors() as exc:
        raise Problem(503, "Service unavailable", "the cart store is unavailable; retry shortly",
                      headers={"Retry-After": "1"}) from exc


def read(user_id: str, ttl_seconds: int | None = None) -> Cart:
    pipe = cache.client().pipeline(transaction=True)
    pipe.hgetall(key(user_id))
    if ttl_seconds:
        pipe.expire(key(user_id), ttl_seconds)
    return cart_from_hash(user_id, pipe.execute()[0])


def add(user_id: str, snapshot: Snapshot, quantity: int, max_quantity: int, max_lines: int,
        ttl_seconds: int) -> tuple[str, str]:
    outcome, value = _script(_ADD)(keys=[key(user_id)], args=[
        snapshot.product_id, quantity, snapshot.to_json(), snapshot.currency, max_quantity, max_lines, ttl_seconds])
    return outcome, value


def set_quantity(user_id: str, product_id: str, quantity: int, ttl_seconds: int) -> bool:
    return bool(_script(_SET)(keys=[key(user_id)], args=[product_id, quantity, ttl_seconds]))


def remove(user_id: str, product_id: str, ttl_seconds: int) -> bool:
    return bool(_script(_REMOVE)(keys=[key(user_id)], args=[product_id, ttl_seconds]))


def take(user_id: str, quantities: dict[str, int]) -> None:
    args = [item for pair in quantities.items() for item in pair]
    if args:
        _script(_TAKE)(keys=[key(user_id)], args=args)


def clear(user_id: str) -> None:
    cache.client().delete(key(user_id))
