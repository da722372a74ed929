"""PostgreSQL + Redis + a real `celery worker` + the sandbox: sends of a few hundred
recipients per provider, and a chaos run that SIGKILLs the worker and restarts Redis."""

from __future__ import annotations

import collections
import time

import pytest

from rcsportal.campaigns import services
from rcsportal.campaigns.models import (
    Contact,
    ContactGroup,
    Delivery,
    Membership,
    Send,
    Suppression,
    Template,
    WebhookCall,
)
from rcsportal.sandbox import SandboxServer
from tests.support import content_for, sandbox_agents

PREFIX = {
    "smspartner": "+336123",
    "serwersms": "+4850123",
    "bsg": "+3806712",
    "aerialink": "+1202555",
}
OPEN = ["pending", "submitting", "accepted", "sent", "fallback_sent"]


@pytest.fixture
def sandbox():
    with SandboxServer(callback_delay=0.05, callback_step=0.02) as server:
        yield server


def _agents(sandbox, rate=500):
    return sandbox_agents(sandbox, rate=rate)


def _audience(provider: str, count: int) -> ContactGroup:
    prefix = PREFIX[provider]
    width = {"smspartner": 5, "serwersms": 4, "bsg": 5, "aerialink": 4}[provider]
    contacts = [
        Contact(phone=f"{prefix}{n:0{width}d}", first_name=f"P{n}") for n in range(1, count + 1)
    ]
    Contact.objects.bulk_create(contacts)
    group = ContactGroup.objects.create(name=f"{provider} audience")
    Membership.objects.bulk_create(
        [
            Membership(group=group, contact=c)
            for c in Contact.objects.filter(phone__startswith=prefix)
        ]
    )
    return group


def _send(agent, group, provider) -> Send:
    template = Template.objects.create(name=f"t-{provider}", content=content_for(provider))
    send = Send.objects.create(
        name=f"it {provider}", template=template, agent=agent, traffic_type="transactional"
    )
    send.groups.add(group)
    return send


def _settle(send: Send, sandbox, timeout: float, sweep_stale_after: float | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        send.refresh_from_db()
        if send.status in ("draft", "scheduled"):
            time.sleep(0.2)
            continue
        rows = Delivery.objects.filter(send=send)
        waiting = (
            rows.filter(status__in=OPEN).count()
            + rows.filter(status="delivered", fallback_channel="").count()
        )
        if (
            waiting == 0
            and sandbox.wait_callbacks(0.5)
            and not WebhookCall.objects.filter(status="received").exists()
        ):
            return
        services.sends_kick()  # what beat does every minute
        services.webhook_calls_retry(older_than_seconds=2)
        if sweep_stale_after is not None:
            services.deliveries_reconcile_stale(older_than_seconds=sweep_stale_after)
        time.sleep(0.5)
    counts = collections.Counter(
        Delivery.objects.filter(send=send).values_list("status", flat=True)
    )
    raise AssertionError(f"send {send.pk} did not settle: {dict(counts)}")


@pytest.mark.parametrize("provider", ["smspartner", "serwersms", "bsg", "aerialink"])
def test_a_few_hundred_recipients_reach_their_final_states(provider, wired, worker, sandbox):
    agent = _agents(sandbox)[provider]
    send = _send(agent, _audience(provider, 250), provider)
    services.send_start(send)
    _settle(send, sandbox, timeout=120)
    send.refresh_from_db()
    rows = list(Delivery.objects.filter(send=send))
    assert send.status == "completed" and send.recipients == 250 == len(rows)
    by_digit = collections.defaultdict(set)
    for row in rows:
        by_digit[row.phone[-1]].add(row.status)
    assert by_digit["1"] == {"read"} and by_digit["5"] == {"read"}
    assert by_digit["9"] == {"failed"}
    assert by_digit["0"] <= {"fallback_sent", "delivered"}
    assert all(row.fallback_channel == "sms" for row in rows if row.phone.endswith("0"))
    if provider != "bsg":  # BSG documents no inbound text messages
        stop = {row.phone for row in rows if row.phone.endswith("8")}
        assert stop <= set(Suppression.objects.values_list("phone", flat=True))
    # Exactly once, counted by the provider's side.
    submitted = collections.Counter(
        r for e in sandbox.state.accepted(provider=provider, kind="rcs") for r in e["recipients"]
    )
    assert len(submitted) == 250 and max(submitted.values()) == 1
    assert send.read == sum(1 for r in rows if r.status == "read")
    assert send.failed == sum(1 for r in rows if r.status == "failed")


@pytest.mark.parametrize("provider", ["bsg", "smspartner"])
def test_chaos_sigkill_and_redis_restart_lose_nothing_and_send_nothing_twice(
    provider, wired, worker, sandbox
):
    """Kill -9 the worker three times and restart Redis once while a send is running."""
    agent = _agents(sandbox, rate=80)[provider]
    send = _send(agent, _audience(provider, 300), provider)
    services.send_start(send)
    for round_number in range(3):
        time.sleep(0.8)
        worker.kill()
        if round_number == 1:
            wired["redis"].restart()
        worker.start()
    _settle(send, sandbox, timeout=180, sweep_stale_after=5)

    rows = {row.phone: row for row in Delivery.objects.filter(send=send)}
    assert len(rows) == 300, "lost recipients"
    statuses = collections.Counter(row.status for row in rows.values())
    assert not set(statuses) & {"pending", "submitting"}, statuses
    submitted = collections.Counter(
        "+" + r.lstrip("+")
        for e in sandbox.state.accepted(provider=provider, kind="rcs")
        for r in e["recipients"]
    )
    duplicates = {phone: n for phone, n in submitted.items() if n > 1}
    assert duplicates == {}, f"submitted more than once: {duplicates}"
    for phone, row in rows.items():
        if row.status in ("accepted", "sent", "delivered", "read"):
            assert submitted.get(phone) == 1, (phone, row.status)
        if row.status == "unknown":
            assert row.error_text  # shown to a person with the "resend these" action
    print(
        f"\nchaos {provider}: {dict(statuses)}; submissions {sum(submitted.values())} for {len(rows)} recipients"
    )
