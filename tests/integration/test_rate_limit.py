"""The per-agent token bucket in Redis is shared by every client (workers, machines)."""

import threading
import time

from rcsportal.campaigns import ratelimit


def test_redis_bucket_holds_the_rate_across_concurrent_clients(wired):
    granted = []
    stop = time.monotonic() + 2.0

    def client():
        while time.monotonic() < stop:
            wait = ratelimit.acquire(agent_id=4242, rate=50, cost=1)
            if wait == 0:
                granted.append(1)
            else:
                time.sleep(min(wait, 0.05))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 2 s at 50/s plus the initial one-second burst: about 150, never the thousands six
    # unpaced clients would take.
    assert 100 <= len(granted) <= 160, len(granted)
