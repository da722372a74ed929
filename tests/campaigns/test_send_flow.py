"""End to end on one machine: admin data -> dispatch -> adapters -> the provider sandbox over
HTTP -> callbacks to our webhook views -> delivery states, replies, STOP, fallback."""

from __future__ import annotations

import time

import pytest
import requests

from rcsportal.campaigns import services
from rcsportal.campaigns.models import (
    Delivery,
    InboundMessage,
    Send,
    Suppression,
    WebhookCall,
)
from rcsportal.sandbox import SandboxServer
from tests.support import content_for, sandbox_agents

from .factories import make_contact, make_group, make_template

pytestmark = pytest.mark.django_db(transaction=True)

PREFIX = {
    "smspartner": "+3361234",
    "serwersms": "+4850123",
    "bsg": "+38067123",
    "aerialink": "+1202555",
}


@pytest.fixture
def sandbox():
    with SandboxServer(callback_delay=0) as server:
        yield server


@pytest.fixture
def agents(live_server, settings, sandbox):
    settings.PUBLIC_BASE_URL = live_server.url
    return sandbox_agents(sandbox)


def _wait_settled(send: Send, sandbox: SandboxServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sandbox.wait_callbacks(1)
        rows = Delivery.objects.filter(send=send)
        open_rows = rows.filter(status__in=["pending", "submitting", "accepted", "sent"]).count()
        open_rows += rows.filter(status="delivered", fallback_channel="").count()  # read comes next
        calls_waiting = WebhookCall.objects.filter(status="received").count()
        if open_rows == 0 and calls_waiting == 0:
            return
        services.webhook_calls_retry(older_than_seconds=0)  # what beat does every minute
        time.sleep(0.2)
    waiting = list(WebhookCall.objects.filter(status="received").values_list("reason", "body")[:3])
    raise AssertionError(
        f"not settled: {list(Delivery.objects.filter(send=send).values_list('phone', 'status', 'fallback_channel', 'error_text'))} calls waiting: {waiting}"
    )


@pytest.mark.parametrize("provider", ["smspartner", "serwersms", "bsg", "aerialink"])
def test_send_reaches_every_recipient_once_and_tracks_their_fate(provider, agents, sandbox):
    agent = agents[provider]
    contacts = [
        make_contact(f"{PREFIX[provider]}{n:04d}"[: len(PREFIX[provider]) + 4], first_name=f"P{n}")
        for n in range(1, 21)
    ]
    # last digits 0 (not RCS capable), 9 (fails), 8 (STOP), 7 (tap), 6 (text reply), others read
    group = make_group(contacts=contacts)
    template = make_template(content_for(provider))
    send = Send.objects.create(
        name=f"flow {provider}", template=template, agent=agent, traffic_type="transactional"
    )
    send.groups.add(group)

    services.send_start(send)
    _wait_settled(send, sandbox)
    send.refresh_from_db()
    rows = {d.phone: d for d in Delivery.objects.filter(send=send)}
    assert send.status == "completed"
    assert send.recipients == 20 == len(rows)

    # Exactly once, from the sandbox's own log.
    submitted = [
        r for e in sandbox.state.accepted(provider=provider, kind="rcs") for r in e["recipients"]
    ]
    assert (
        sorted(submitted) == sorted(rows)
        if submitted and submitted[0].startswith("+")
        else len(submitted) == 20
    )

    def last(digit):
        return [d for phone, d in rows.items() if phone.endswith(digit)]

    for d in last("1") + last("2") + last("3"):
        assert d.status == "read", (d.phone, d.status, d.error_text)
        assert d.delivered_at and d.read_at and d.provider_message_id
    for d in last("9"):
        assert d.status == "failed" and d.error_text, (d.phone, d.status)
    for d in last("0"):
        assert d.fallback_channel == "sms", (d.phone, d.status, d.error_text)
        assert d.status in ("fallback_sent", "delivered")
    stop_phones = (
        {d.phone for d in last("8")} if provider != "bsg" else set()
    )  # BSG documents no inbound text
    assert stop_phones <= set(Suppression.objects.values_list("phone", flat=True))
    assert InboundMessage.objects.filter(phone__in=stop_phones, is_opt_out=True).count() == len(
        stop_phones
    )
    for d in last("7"):
        assert d.clicked_at is not None, d.phone
    assert send.read == len(
        last("1")
        + last("2")
        + last("3")
        + last("4")
        + last("5")
        + last("6")
        + last("7")
        + last("8")
    )
    assert send.failed == len(last("9"))
    assert send.fallback == sum(1 for d in rows.values() if d.fallback_channel) >= len(last("0"))
    assert send.pending == 0 and send.unknown == 0


def test_forged_and_malformed_webhooks_are_refused_and_kept(agents, live_server):
    agent = agents["bsg"]
    forged = requests.post(
        f"{live_server.url}/webhooks/bsg/not-the-token/",
        json={"id": "1", "status": "delivered"},
        timeout=5,
    )
    assert forged.status_code == 404
    malformed = requests.post(
        agent.webhook_url(),
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert malformed.status_code == 400
    wrong_ip = agents["serwersms"]
    wrong_ip.webhook_allowed_ips = ""  # back to the documented 94.152.153.158
    wrong_ip.save()
    refused = requests.post(
        wrong_ip.webhook_url(),
        json=[{"type": "report", "status": "delivered", "smsid": "x", "phone": "+48500600700"}],
        timeout=5,
    )
    assert refused.status_code == 403
    kept = WebhookCall.objects.filter(status="rejected")
    assert kept.count() == 3
    assert {c.reason[:30] for c in kept} and all(c.body for c in kept)
    assert not Delivery.objects.exists()


def test_send_message_command_waits_and_prints_one_json_line_per_delivery(
    agents, sandbox, tmp_path
):
    import io
    import json

    from django.core.management import call_command

    content = tmp_path / "message.json"
    content.write_text(
        json.dumps(
            {"text": "Your code is 1234", "fallback": {"sms": {"text": "Your code is 1234"}}}
        )
    )
    out = io.StringIO()
    call_command(
        "send_message", "--agent", agents["aerialink"].name, "--content", str(content),
        "--to", "+12025550111", "+12025550119", "--transactional", "--wait", "20", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    by_phone = {line["phone"]: line for line in lines if "phone" in line}
    summary = lines[-1]
    assert (
        by_phone["+12025550111"]["status"] in ("delivered", "read")
        and by_phone["+12025550111"]["provider_id"]
    )
    assert by_phone["+12025550119"]["status"] == "failed" and by_phone["+12025550119"]["error"]
    assert (
        summary["summary"] is True
        and summary["recipients"] == 2
        and summary["status"] == "completed"
    )


def test_a_body_the_adapter_cannot_read_is_refused_and_kept(agents, live_server, monkeypatch):
    from rcsportal.messaging.providers.bsg import BsgProvider

    def broken(self, **kwargs):
        raise KeyError("id")

    monkeypatch.setattr(BsgProvider, "parse_webhook", broken)
    response = requests.post(agents["bsg"].webhook_url(), json={"unexpected": True}, timeout=5)
    assert response.status_code == 400
    call = WebhookCall.objects.get()
    assert call.status == "rejected" and "KeyError" in call.reason and "unexpected" in call.body
