"""Delivery lifecycle plans and the callback dispatcher (scheduler + small keep-alive pool).

A *plan* is the ordered list of steps one recipient goes through, built from its outcome
(the last-digit rule) and what the request asked for (fallback, suggestions)::

    ("status", "sent", "rcs") ("status", "delivered", "rcs") ("status", "read", "rcs")
    ("status", "failed", "rcs") ("status", "not_rcs", "rcs") ("status", "sent", "sms") ...
    ("inbound", "stop", ...) ("inbound", "tap", ...) ("inbound", "text", ...)

Each step updates the recipient's state when it runs (so status endpoints follow the
lifecycle even when no callback URL is known or callbacks are dropped) and is rendered by
the provider module into zero or more (url, json body) POSTs.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import logging
import threading
import time
from urllib.parse import urlsplit

log = logging.getLogger("rcsportal.sandbox")

Step = tuple[str, str, str]


def build_plan(
    outcome: str, fallback: str = "", has_tap: bool = False, channel: str = "rcs"
) -> list[Step]:
    """Ordered lifecycle steps for one recipient.

    ``channel="sms"`` is for SMS-only sends: no read receipts, no RCS capability check.
    """
    if channel != "rcs":
        if outcome == "fail":
            return [("status", "sent", channel), ("status", "failed", channel)]
        steps: list[Step] = [("status", "sent", channel), ("status", "delivered", channel)]
        if outcome == "stop":
            steps.append(("inbound", "stop", channel))
        elif outcome == "reply":
            steps.append(("inbound", "text", channel))
        return steps
    if outcome == "not_rcs":
        steps = [("status", "not_rcs", "rcs")]
        if fallback:
            steps += [("status", "sent", fallback), ("status", "delivered", fallback)]
        return steps
    if outcome == "fail":
        return [("status", "sent", "rcs"), ("status", "failed", "rcs")]
    steps = [("status", "sent", "rcs"), ("status", "delivered", "rcs"), ("status", "read", "rcs")]
    if outcome == "stop":
        steps.append(("inbound", "stop", "rcs"))
    elif outcome == "tap" and has_tap:
        steps.append(("inbound", "tap", "rcs"))
    elif outcome == "reply":
        steps.append(("inbound", "text", "rcs"))
    return steps


def apply_modes(steps: list[Step], modes: set[str]) -> list[Step]:
    if "reorder-callbacks" in modes:
        status = [s for s in steps if s[0] == "status"]
        inbound = [s for s in steps if s[0] != "status"]
        if len(status) > 1:
            return list(reversed(status)) + inbound
        return list(reversed(steps))
    return steps


class Job:
    __slots__ = ("provider", "msg", "recip", "steps", "i", "modes")

    def __init__(self, provider, msg, recip, steps, modes=frozenset()):
        self.provider = provider  # provider module object with render_callback()
        self.msg = msg
        self.recip = recip
        self.steps = steps
        self.i = 0
        self.modes = modes


class CallbackDispatcher:
    """Runs jobs when due; posts JSON with per-worker keep-alive connections."""

    def __init__(
        self,
        state,
        delay: float = 0.0,
        step: float = 0.0,
        workers: int = 4,
        timeout: float = 5.0,
        max_pending: int = 1_000_000,
    ):
        self.state = state
        self.delay = delay
        self.step = step
        self.n_workers = workers
        self.timeout = timeout
        self.max_pending = max_pending
        self._heap: list = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._busy = 0
        self._stop = False
        self._threads: list[threading.Thread] = []
        self.overflow = 0
        self.posted = 0
        self.failed_posts = 0
        self._local = threading.local()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._stop = False
        for n in range(self.n_workers):
            t = threading.Thread(target=self._worker, name=f"sandbox-callbacks-{n}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    def clear(self) -> None:
        with self._cv:
            self._heap.clear()
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return len(self._heap) + self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is queued or running (future-dated jobs count as queued)."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._heap or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    # -- scheduling ---------------------------------------------------------------------
    def schedule(self, jobs: list[Job], not_before: float | None = None) -> None:
        if not jobs:
            return
        due = time.time() + self.delay
        if not_before and not_before > due:
            due = not_before
        with self._cv:
            room = self.max_pending - len(self._heap)
            if room < len(jobs):
                self.overflow += len(jobs) - max(room, 0)
                log.warning("callback queue full: %d jobs dropped", len(jobs) - max(room, 0))
                jobs = jobs[: max(room, 0)]
            for job in jobs:
                heapq.heappush(self._heap, (due, next(self._seq), job))
            self._cv.notify(len(jobs))

    def run_now(self, jobs: list[Job]) -> None:
        """Run jobs synchronously in the caller's thread (early callbacks)."""
        for job in jobs:
            while job.i < len(job.steps):
                self._run_step(job)

    def _worker(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._stop:
                        return
                    if self._heap:
                        due = self._heap[0][0]
                        wait = due - time.time()
                        if wait <= 0:
                            _, _, job = heapq.heappop(self._heap)
                            self._busy += 1
                            break
                        self._cv.wait(min(wait, 0.5))
                    else:
                        self._cv.wait(0.5)
            try:
                if self.step <= 0:
                    while job.i < len(job.steps) and not self._stop:
                        self._run_step(job)
                else:
                    self._run_step(job)
                    if job.i < len(job.steps):
                        with self._cv:
                            heapq.heappush(
                                self._heap, (time.time() + self.step, next(self._seq), job)
                            )
                            self._cv.notify()
            except Exception:  # never let a worker die
                log.exception("callback job failed")
            finally:
                with self._cv:
                    self._busy -= 1
                    self._cv.notify_all()

    # -- execution ----------------------------------------------------------------------
    def _run_step(self, job: Job) -> None:
        step = job.steps[job.i]
        job.i += 1
        if step[0] == "status":
            job.recip.apply(step[1], step[2])
        posts = job.provider.render_callback(step, job.msg, job.recip, self.state)
        for url, body in posts:
            if not url:
                continue
            repeat = 2 if "duplicate-callbacks" in job.modes else 1
            for n in range(repeat):
                entry = {
                    "provider": job.msg.provider,
                    "url": url,
                    "body": body,
                    "event": step[1],
                    "channel": step[2],
                    "kind": step[0],
                    "message_id": job.msg.id,
                    "phone": job.recip.phone,
                    "time": time.time(),
                    "status": None,
                    "error": "",
                    "dropped": False,
                    "duplicate": n > 0,
                }
                if "drop-callbacks" in job.modes:
                    entry["dropped"] = True
                    self.state.log_callback(entry, 200)
                    continue
                status, error = self.post(url, body)
                entry["status"], entry["error"] = status, error
                self.state.log_callback(entry, 200)

    def post(self, url: str, body) -> tuple[int | None, str]:
        data = json.dumps(body, separators=(",", ":")).encode()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None, f"unsupported callback URL {url!r}"
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        key = (parts.scheme, parts.hostname, parts.port)
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "rcsportal-sandbox/1",
            "Content-Length": str(len(data)),
        }
        last_error = ""
        for _attempt in range(2):
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                cls = (
                    http.client.HTTPSConnection
                    if parts.scheme == "https"
                    else http.client.HTTPConnection
                )
                conn = cls(parts.hostname, parts.port, timeout=self.timeout)
                conns[key] = conn
            try:
                conn.request("POST", path, body=data, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
                    conns.pop(key, None)
                self.posted += 1
                return resp.status, ""
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conns.pop(key, None)
                last_error = f"{type(exc).__name__}: {exc}"
                # retry only a stale keep-alive connection, never a timeout
                if not reused or isinstance(exc, TimeoutError):
                    break
        self.failed_posts += 1
        return None, last_error
