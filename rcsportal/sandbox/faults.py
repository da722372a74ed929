"""Fault injection: parse fault specs and decide, per request, which fault applies.

Three sources, first match wins:

1. the request header ``X-Sandbox-Fault`` (one request);
2. one-shot faults queued through the control API (``POST /_sandbox/faults`` with ``count``)
   for a provider (optionally only for one request kind: ``rcs``, ``sms``, ``status``, ``auth``);
3. probabilistic faults from ``--faults SPEC`` (all providers) or the control API without
   ``count`` (one provider).

Header / one-shot syntax: comma-separated tokens, each ``name[=value][;param=value...]``::

    500 | 502 | 503 | 5xx | 429;retry-after=2 | reset | timeout=5 | timeout=5;accept=0
    latency=300 (ms) | duplicate-callbacks | reorder-callbacks | drop-callbacks | early-callbacks

Probabilistic syntax (``--faults``): ``name=probability`` plus durations::

    5xx=0.1,429=0.05,reset=0.01,timeout=0.01,drop-callbacks=0.1,latency=200ms
    latency=100ms-300ms, retry-after=2, timeout-sleep=5s
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field

CALLBACK_MODES = ("duplicate-callbacks", "reorder-callbacks", "drop-callbacks", "early-callbacks")
PROB_KEYS = ("5xx", "500", "502", "503", "504", "429", "reset", "timeout") + CALLBACK_MODES
MAX_SLEEP = 60.0


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    """What to do to one request. Several parts may combine (latency + callback modes)."""

    status: int | None = None  # 5xx or 429: answer with this status, do not process
    retry_after: float | None = None
    reset: bool = False  # close the socket (RST) without any response
    timeout: float | None = None  # sleep this long before answering
    timeout_accept: bool = True  # with timeout: process the request first (ambiguous case)
    latency: float = 0.0  # seconds added before processing
    callbacks: set[str] = field(default_factory=set)
    source: str = ""  # header | queued | random

    @property
    def empty(self) -> bool:
        return (
            self.status is None
            and not self.reset
            and self.timeout is None
            and not self.latency
            and not self.callbacks
        )

    def describe(self) -> str:
        parts = []
        if self.status:
            parts.append(str(self.status))
        if self.reset:
            parts.append("reset")
        if self.timeout is not None:
            parts.append(f"timeout={self.timeout:g}")
        if self.latency:
            parts.append(f"latency={self.latency * 1000:g}ms")
        parts.extend(sorted(self.callbacks))
        return ",".join(parts)


def parse_duration(text: str, default_unit: str = "ms") -> float:
    """'200ms' / '2s' / '1.5' (default unit) -> seconds."""
    t = str(text).strip().lower()
    try:
        if t.endswith("ms"):
            return float(t[:-2]) / 1000.0
        if t.endswith("s"):
            return float(t[:-1])
        value = float(t)
    except ValueError as exc:
        raise FaultSpecError(f"bad duration {text!r}") from exc
    return value / 1000.0 if default_unit == "ms" else value


def parse_fault(text: str) -> Fault:
    """Parse the header / one-shot syntax into a Fault."""
    fault = Fault()
    if not text or not text.strip():
        return fault
    for token in text.split(","):
        token = token.strip()
        if not token:
            continue
        head, *params = [p.strip() for p in token.split(";")]
        opts = {}
        for p in params:
            k, _, v = p.partition("=")
            opts[k.strip().lower()] = v.strip()
        name, _, value = head.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name.isdigit() and (name.startswith("5") or name == "429") and len(name) == 3:
            fault.status = int(name)
        elif name == "5xx":
            fault.status = 503
        elif name == "status" and value.isdigit():
            fault.status = int(value)
        elif name == "reset":
            fault.reset = True
        elif name == "timeout":
            fault.timeout = min(parse_duration(value or "5", "s"), MAX_SLEEP)
            fault.timeout_accept = opts.get("accept", "1") not in ("0", "false", "no")
        elif name == "latency":
            fault.latency = min(parse_duration(value or "200", "ms"), MAX_SLEEP)
        elif name in CALLBACK_MODES:
            fault.callbacks.add(name)
        else:
            raise FaultSpecError(f"unknown fault {token!r}")
        if "retry-after" in opts:
            fault.retry_after = parse_duration(opts["retry-after"], "s")
    if fault.status == 429 and fault.retry_after is None:
        fault.retry_after = 1.0
    return fault


@dataclass
class RandomFaults:
    probs: dict[str, float] = field(default_factory=dict)
    latency: tuple[float, float] = (0.0, 0.0)
    retry_after: float = 1.0
    timeout_sleep: float = 5.0

    def draw(self, rng: random.Random) -> Fault:
        fault = Fault(source="random")
        lo, hi = self.latency
        if hi > 0:
            fault.latency = lo if hi == lo else rng.uniform(lo, hi)
        for key, p in self.probs.items():
            if p <= 0 or rng.random() >= p:
                continue
            if key in CALLBACK_MODES:
                fault.callbacks.add(key)
            elif fault.status or fault.reset or fault.timeout is not None:
                continue  # one terminal fault per request
            elif key == "reset":
                fault.reset = True
            elif key == "timeout":
                fault.timeout = self.timeout_sleep
            elif key == "429":
                fault.status, fault.retry_after = 429, self.retry_after
            else:
                fault.status = 503 if key == "5xx" else int(key)
        return fault

    def to_dict(self) -> dict:
        return {
            "probs": dict(self.probs),
            "latency_ms": [self.latency[0] * 1000, self.latency[1] * 1000],
            "retry_after": self.retry_after,
            "timeout_sleep": self.timeout_sleep,
        }


def parse_random_spec(text: str) -> RandomFaults:
    """Parse ``5xx=0.1,429=0.05,latency=200ms`` into RandomFaults."""
    spec = RandomFaults()
    if not text or not text.strip():
        return spec
    for token in text.split(","):
        token = token.strip()
        if not token:
            continue
        key, sep, value = token.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if key == "latency":
            lo, dash, hi = value.partition("-")
            a = parse_duration(lo, "ms")
            b = parse_duration(hi, "ms") if dash else a
            spec.latency = (min(a, MAX_SLEEP), min(b, MAX_SLEEP))
        elif key == "retry-after":
            spec.retry_after = parse_duration(value, "s")
        elif key in ("timeout-sleep", "timeout-duration"):
            spec.timeout_sleep = min(parse_duration(value, "s"), MAX_SLEEP)
        elif key in PROB_KEYS:
            try:
                p = float(value) if sep else 1.0
            except ValueError as exc:
                raise FaultSpecError(f"bad probability in {token!r}") from exc
            if not 0.0 <= p <= 1.0:
                raise FaultSpecError(f"probability out of range in {token!r}")
            spec.probs[key] = p
        else:
            raise FaultSpecError(f"unknown fault {token!r}")
    return spec


@dataclass
class _Queued:
    fault: Fault
    remaining: int
    kind: str | None
    spec: str


class FaultController:
    """Holds queued and probabilistic faults per provider; thread-safe."""

    def __init__(self, global_spec: str = "", seed: int | None = None):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._global_spec = global_spec or ""
        self._global = parse_random_spec(global_spec)
        self._random: dict[str, RandomFaults] = {}
        self._queued: dict[str, deque[_Queued]] = {}

    def reset(self) -> None:
        with self._lock:
            self._random.clear()
            self._queued.clear()
            self._global = parse_random_spec(self._global_spec)

    def set_global(self, spec: str) -> None:
        parsed = parse_random_spec(spec)
        with self._lock:
            self._global_spec = spec
            self._global = parsed

    def set_random(self, provider: str, spec: str) -> None:
        parsed = parse_random_spec(spec)
        with self._lock:
            if provider in ("*", "all", ""):
                self._global = parsed
            elif parsed.probs or parsed.latency[1]:
                self._random[provider] = parsed
            else:
                self._random.pop(provider, None)

    def queue(self, provider: str, spec: str, count: int, kind: str | None = None) -> None:
        fault = parse_fault(spec)
        with self._lock:
            if count <= 0:
                self._queued.pop(provider, None)
                return
            self._queued.setdefault(provider, deque()).append(
                _Queued(fault, count, kind or None, spec)
            )

    def pick(self, provider: str, kind: str, header: str | None) -> Fault:
        if header:
            fault = parse_fault(header)
            fault.source = "header"
            return fault
        with self._lock:
            for key in (provider, "*"):
                q = self._queued.get(key)
                if not q:
                    continue
                for item in q:
                    if item.kind and item.kind != kind:
                        continue
                    item.remaining -= 1
                    if item.remaining <= 0:
                        q.remove(item)
                    f = item.fault
                    return Fault(
                        status=f.status,
                        retry_after=f.retry_after,
                        reset=f.reset,
                        timeout=f.timeout,
                        timeout_accept=f.timeout_accept,
                        latency=f.latency,
                        callbacks=set(f.callbacks),
                        source="queued",
                    )
            spec = self._random.get(provider) or self._global
            if not spec.probs and not spec.latency[1]:
                return Fault()
            return spec.draw(self._rng)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "global": self._global.to_dict(),
                "random": {k: v.to_dict() for k, v in self._random.items()},
                "queued": {
                    k: [{"spec": i.spec, "remaining": i.remaining, "kind": i.kind} for i in q]
                    for k, q in self._queued.items()
                },
            }
