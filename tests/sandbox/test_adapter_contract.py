"""The adapters against the sandbox: what an adapter renders for the canonical corpus is
accepted by an independent validator speaking the documented API, and deliberately broken
requests come back refused with the documented error, which the adapter puts in words."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rcsportal.messaging.exceptions import ProviderRejected, UnsupportedFeature
from rcsportal.messaging.message import Message
from rcsportal.messaging.providers import PROVIDERS
from rcsportal.messaging.providers.base import AgentConfig, Recipient
from rcsportal.sandbox import SandboxServer

CORPUS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "messages").glob("*.json"))
CREDENTIALS = {
    "smspartner": ({"apiKey": "sandbox-smspartner-key"}, ""),
    "serwersms": (
        {
            "username": "sandbox",
            "password": "sandbox-password",
            "rcs_id": "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11",
        },
        "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11",
    ),
    "bsg": ({"api_key": "live_sandboxbsgkey000000"}, "rcs_demo"),
    "aerialink": ({"username": "sandbox", "password": "sandbox-secret"}, "CONVEY"),
}
PHONES = {
    "smspartner": "+33612345671",
    "serwersms": "+48501234561",
    "bsg": "+380671234561",
    "aerialink": "+12025550161",
}


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(callback_delay=3600) as server:
        yield server


def adapter(sandbox, key):
    credentials, sender = CREDENTIALS[key]
    config = AgentConfig(
        provider=key,
        credentials=credentials,
        sender_id=sender,
        base_url=sandbox.url_for(key),
        callback_url="http://127.0.0.1:9/hook/",
        fallback_sms_sender="DemoShop",
    )
    return PROVIDERS[key](config, timeout=5)


def sendable(provider, message: Message) -> Message | None:
    """The message as this provider can carry it: as is, or with every degradation it
    offers applied (what a user would accept in the composer); None if none helps."""
    problems = provider.check(message)
    if not problems:
        return message
    keys = {d.key for p in problems for d in p.degradations}
    if not keys:
        return None
    degraded = provider.degrade(message, keys)
    return degraded if not provider.check(degraded) else None


@pytest.mark.parametrize("key", list(PROVIDERS))
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_rendered_corpus_is_accepted_by_the_sandbox(sandbox, key, path):
    provider = adapter(sandbox, key)
    message = Message.from_dict(json.loads(path.read_text()))
    if message.has_placeholders:
        message = message.personalize({"first_name": "Léa"})
    fit = sendable(provider, message)
    if fit is None:
        with pytest.raises(UnsupportedFeature) as excinfo:
            provider.render(message, [Recipient(PHONES[key], "ref" + path.stem.replace("_", ""))])
        assert excinfo.value.path  # refused with a path, never silently
        return
    recipients = [
        Recipient(PHONES[key][:-1] + str(n), f"ref{key}{path.stem.replace('_', '')}{n}")
        for n in range(1, 4)
    ]
    results = [r for wire in provider.render(fit, recipients) for r in provider.send(wire)]
    assert [r.accepted for r in results] == [True, True, True], [
        (r.error_code, r.error_text) for r in results
    ]
    assert all(r.provider_message_id for r in results)


BREAKAGES = {
    # provider: (how to break the rendered body, documented code we expect)
    "smspartner": (lambda body: body.pop("phoneNumbers"), "2"),
    "serwersms": (lambda body: body.pop("rcs_id"), "6303"),
    "bsg": (lambda body: body["phone"].update(number="12"), None),
    "aerialink": (lambda body: body.pop("messageText"), "400"),
}


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_broken_requests_are_refused_with_the_documented_error_in_words(sandbox, key):
    provider = adapter(sandbox, key)
    wire = provider.render(Message(text="Hello"), [Recipient(PHONES[key], "refbroken" + key)])[0]
    broken = copy.deepcopy(wire)
    breakage, code = BREAKAGES[key]
    breakage(broken.json)
    if code is None:  # BSG answers 422 on phone.number: a per-number refusal, in words
        results = provider.send(broken)
        assert [r.accepted for r in results] == [False] and "BSG refused the number" in results[
            0
        ].error_text
        return
    with pytest.raises(ProviderRejected) as excinfo:
        provider.send(broken)
    exc = excinfo.value
    assert exc.code == code or str(exc.http_status) == code, (exc.code, exc.http_status)
    assert len(exc.describe()) > 15 and exc.text  # words, not just a number
