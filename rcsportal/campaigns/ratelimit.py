"""Per-agent rate limit shared by every worker on every machine.

A token bucket refilled at ``rate`` tokens per second with a capacity of one second's worth.
A batch may take more tokens than are left (a provider batch of 500 cannot be split), which
leaves the bucket in debt; the next caller waits until it is repaid, so the average rate
holds across all workers. Redis (atomic Lua script) when ``REDIS_URL`` is set, else a row
per agent in the database (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = rate; ts = now end
tokens = math.min(rate, tokens + (now - ts) * rate)
if tokens <= 0 then
  redis.call('HSET', key, 'tokens', tokens, 'ts', now)
  redis.call('EXPIRE', key, 3600)
  return tostring(math.max(-tokens, 1) / rate)
end
tokens = tokens - cost
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, 3600)
return "0"
"""


@lru_cache(maxsize=1)
def _redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    return client, client.register_script(_LUA)


def acquire(agent_id: int, rate: int, cost: int) -> float:
    """Take ``cost`` tokens. Returns 0 when granted, else the seconds to wait (nothing taken)."""
    if cost <= 0:
        return 0.0
    if settings.REDIS_URL:
        _, script = _redis()
        return float(script(keys=[f"rcsportal:rate:{agent_id}"], args=[rate, cost, time.time()]))
    return _acquire_db(agent_id, rate, cost)


def _acquire_db(agent_id: int, rate: int, cost: int) -> float:
    from .models import RateBucket

    now = timezone.now()
    with transaction.atomic():
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            agent_id=agent_id, defaults={"tokens": float(rate), "updated_at": now}
        )
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(float(rate), bucket.tokens + elapsed * rate)
        if tokens <= 0:
            RateBucket.objects.filter(pk=agent_id).update(tokens=tokens, updated_at=now)
            return max(-tokens, 1.0) / rate  # time until at least one token is back
        RateBucket.objects.filter(pk=agent_id).update(tokens=tokens - cost, updated_at=now)
        return 0.0
