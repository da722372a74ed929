"""Helpers of the provider adapter tests."""

from __future__ import annotations

import json
from pathlib import Path

from rcsportal.messaging.providers import AgentConfig, get_provider

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
MESSAGES = Path(__file__).resolve().parents[2] / "fixtures" / "messages"

# wire-assumptions.md "Sandbox demo credentials"
CREDENTIALS = {
    "smspartner": {"api_key": "sandbox-smspartner-key"},
    "serwersms": {"username": "sandbox", "password": "sandbox-password"},
    "bsg": {"api_key": "live_sandboxbsgkey000000"},
    "aerialink": {"username": "sandbox", "password": "sandbox-secret"},
}
SENDERS = {
    "smspartner": "",
    "serwersms": "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11",
    "bsg": "rcs_sender",
    "aerialink": "CONVEY",
}


def load(provider: str, name: str):
    return json.loads((FIXTURES / provider / name).read_text(encoding="utf-8"))


def raw(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / name).read_bytes()


def make(key: str, **overrides):
    cfg = {
        "provider": key,
        "credentials": dict(CREDENTIALS[key]),
        "sender_id": SENDERS[key],
        "fallback_sms_sender": "15551234567" if key == "aerialink" else "",
    }
    session = overrides.pop("session", None)
    timeout = overrides.pop("timeout", 10.0)
    cfg.update(overrides)
    return get_provider(key)(AgentConfig(**cfg), session=session, timeout=timeout)
