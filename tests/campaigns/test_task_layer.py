"""Dispatch, claiming, retries, reconciliation, quiet hours, suppression and controls,
against the provider sandbox over real HTTP (no webhooks needed here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcsportal.campaigns import ratelimit, services
from rcsportal.campaigns.demo import SANDBOX_AGENTS
from rcsportal.campaigns.models import (
    Contact,
    Delivery,
    DeliveryStatus,
    QuietHoursRule,
    Send,
    SendStatus,
    Suppression,
)
from rcsportal.messaging.events import EventType
from rcsportal.sandbox import SandboxServer

from .factories import make_contact, make_group, make_template

pytestmark = pytest.mark.django_db
TEXT = {"text": "Hello", "fallback": {"sms": {"text": "Hello (SMS)", "sender": "DemoShop"}}}


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(callback_delay=3600) as server:  # callbacks are not what is tested here
        yield server


@pytest.fixture
def agents(sandbox):
    sandbox.reset()
    sandbox.dispatcher.delay = 3600
    made = {}
    for name, provider, sender, credentials in SANDBOX_AGENTS:
        made[provider], _ = services.agent_upsert(
            name=name,
            provider=provider,
            base_url=sandbox.url_for(provider),
            sender_id=sender,
            credentials=credentials,
            rate_per_second=10_000,
        )
    return made


def _send(agent, phones, traffic="transactional", content=TEXT) -> Send:
    contacts = [Contact.objects.get_or_create(phone=p)[0] for p in phones]
    send = Send.objects.create(
        name="s", template=make_template(content), agent=agent, traffic_type=traffic
    )
    send.groups.add(make_group(contacts=contacts))
    return send


def _submitted(sandbox, provider) -> list[str]:
    return [
        "+" + r.lstrip("+")
        for e in sandbox.state.accepted(provider=provider, kind="rcs")
        for r in e["recipients"]
    ]


def _start_and_dispatch(send):
    Send.objects.filter(pk=send.pk).update(status=SendStatus.SCHEDULED)
    assert services.send_dispatch(send.pk)
    send.refresh_from_db()


def test_dispatch_counts_every_exclusion(agents):
    valid = [make_contact(f"+3361234500{n}") for n in range(1, 5)]
    invalid = make_contact("+33700000000")  # E.164-shaped, not a number phonenumbers accepts
    suppressed = make_contact("+33612345099")
    Suppression.objects.create(phone=suppressed.phone)
    send = Send.objects.create(name="s", template=make_template(TEXT), agent=agents["smspartner"])
    send.groups.add(
        make_group(contacts=[*valid, invalid, suppressed]), make_group(contacts=valid[:2])
    )
    send.contacts.add(valid[0])
    _start_and_dispatch(send)
    assert (
        send.recipients,
        send.excluded_suppressed,
        send.excluded_invalid,
        send.excluded_duplicate,
    ) == (4, 1, 1, 3)
    assert set(Delivery.objects.filter(send=send).values_list("phone", flat=True)) == {
        c.phone for c in valid
    }
    assert send.content_snapshot == TEXT
    assert not services.send_dispatch(send.pk)  # a second dispatch does nothing
    assert Delivery.objects.filter(send=send).count() == 4


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    audience=st.sets(st.integers(10, 99), min_size=1, max_size=15),
    before=st.sets(st.integers(10, 99), max_size=8),
    after=st.sets(st.integers(10, 99), max_size=8),
)
def test_no_path_sends_to_a_suppressed_number(agents, sandbox, audience, before, after):
    """Suppressed before dispatch, or after it (STOP reply, import, staff), never sent."""
    sandbox.reset()
    phone = "+336123456{:02d}".format
    Suppression.objects.bulk_create(
        [Suppression(phone=phone(n)) for n in before], ignore_conflicts=True
    )
    send = _send(agents["smspartner"], [phone(n) for n in audience])
    _start_and_dispatch(send)
    for n in after:  # direct rows, like an import or the admin would write
        Suppression.objects.get_or_create(phone=phone(n))
    assert services.send_process(send.pk) is None
    suppressed = set(Suppression.objects.values_list("phone", flat=True))
    assert not set(_submitted(sandbox, "smspartner")) & suppressed
    assert set(_submitted(sandbox, "smspartner")) == {phone(n) for n in audience} - suppressed
    Send.objects.all().delete()
    Suppression.objects.all().delete()
    Contact.objects.all().delete()


def _freeze(monkeypatch, at: datetime):
    monkeypatch.setattr(services.timezone, "now", lambda: at)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(slot=st.integers(0, 3 * 365 * 96 - 1))
def test_commercial_sends_are_held_in_quiet_windows_through_the_claim_path(
    agents, monkeypatch, slot
):
    from rcsportal.campaigns import quiet_hours

    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * slot)
    window = quiet_hours.Window.from_rule(QuietHoursRule.objects.get(country="FR"))
    send = _send(agents["smspartner"], ["+33612345601", "+33612345602"], traffic="commercial")
    _start_and_dispatch(send)
    _freeze(monkeypatch, at)
    claimed, wait = services.deliveries_claim(send, 500, services.quiet_windows())
    if quiet_hours.is_allowed(window, at):
        assert len(claimed) == 2
    else:
        assert claimed == [] and wait > 0
        held = set(Delivery.objects.filter(send=send).values_list("status", "not_before"))
        assert held == {("pending", quiet_hours.next_allowed(window, at))}  # held, never dropped
    Send.objects.all().delete()


def test_transactional_sends_ignore_quiet_hours(agents, monkeypatch):
    sunday_night = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    send = _send(agents["smspartner"], ["+33612345601"], traffic="transactional")
    _start_and_dispatch(send)
    _freeze(monkeypatch, sunday_night)
    claimed, _ = services.deliveries_claim(send, 500, {})
    assert len(claimed) == 1


def test_server_errors_back_off_then_succeed(agents, sandbox):
    send = _send(agents["smspartner"], ["+33612345601", "+33612345602"])
    _start_and_dispatch(send)
    sandbox.fail_next("smspartner", "503", 1)
    wait = services.send_process(send.pk)
    rows = list(Delivery.objects.filter(send=send))
    assert {r.status for r in rows} == {"pending"} and all(
        r.not_before and "HTTP 503" in r.error_text for r in rows
    )
    assert wait and wait > 0
    Delivery.objects.filter(send=send).update(not_before=timezone.now())  # time passes
    assert services.send_process(send.pk) is None
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {"accepted"}
    assert sorted(_submitted(sandbox, "smspartner")) == ["+33612345601", "+33612345602"]
    send.refresh_from_db()
    assert send.status == "completed" and send.submitted == 2 and send.pending == 0


def test_429_retry_after_is_honoured(agents, sandbox):
    send = _send(agents["aerialink"], ["+12025550101"])
    _start_and_dispatch(send)
    sandbox.fail_next("aerialink", "429;retry-after=40", 1)
    before = timezone.now()
    services.send_process(send.pk)
    row = Delivery.objects.get(send=send)
    assert row.status == "pending" and row.not_before >= before + timedelta(seconds=40)


def test_gives_up_after_bounded_attempts_with_the_reason_in_words(agents, sandbox):
    send = _send(agents["smspartner"], ["+33612345601"])
    _start_and_dispatch(send)
    Delivery.objects.filter(send=send).update(attempts=services.MAX_SUBMIT_ATTEMPTS - 1)
    sandbox.fail_next("smspartner", "500", 1)
    services.send_process(send.pk)
    row = Delivery.objects.get(send=send)
    assert row.status == "failed" and row.error_text.startswith(
        f"Gave up after {services.MAX_SUBMIT_ATTEMPTS} attempts"
    )


def test_permanent_rejection_is_recorded_with_the_provider_code(agents, sandbox):
    agent = agents["smspartner"]
    agent.credentials = {"apiKey": "wrong-key"}
    agent.save()
    send = _send(agent, ["+33612345601"])
    _start_and_dispatch(send)
    services.send_process(send.pk)
    row = Delivery.objects.get(send=send)
    assert row.status == "failed" and row.error_code == "10" and row.error_text


def test_ambiguous_timeout_is_reconciled_by_reference_without_a_resend(agents, sandbox, settings):
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    send = _send(agents["bsg"], ["+380671234501"], content={"text": "Hello"})
    _start_and_dispatch(send)
    sandbox.fail_next("bsg", "timeout=1.5", 1, kind="rcs")  # BSG takes it, answers too late
    services.send_process(send.pk)
    row = Delivery.objects.get(send=send)
    assert row.status == "submitting" and row.error_code == "timeout"
    summary = services.deliveries_reconcile_stale(older_than_seconds=0)
    row.refresh_from_db()
    assert summary["found"] == 1 and row.status != "submitting" and row.provider_message_id
    assert _submitted(sandbox, "bsg") == ["+380671234501"]  # once


def test_stale_rows_without_a_reference_lookup_become_unknown_then_resend(agents, sandbox):
    send = _send(agents["aerialink"], ["+12025550101"])
    _start_and_dispatch(send)
    claimed, _ = services.deliveries_claim(send, 1, {})  # a worker claims it, then dies
    assert len(claimed) == 1
    assert services.deliveries_reconcile_stale(older_than_seconds=0)["unknown"] == 1
    row = Delivery.objects.get(send=send)
    send.refresh_from_db()
    assert row.status == "unknown" and "may or may not" in row.error_text and send.unknown == 1
    old_reference = row.reference_id
    assert services.deliveries_resend([row.pk]) == 1
    services.send_process(send.pk)
    row.refresh_from_db()
    send.refresh_from_db()
    assert row.status == "accepted" and row.reference_id != old_reference and send.unknown == 0
    assert _submitted(sandbox, "aerialink") == ["+12025550101"]


def test_lost_callbacks_are_recovered_by_status_polling(agents, sandbox, settings):
    settings.STATUS_POLL_AFTER_MINUTES = 0
    sandbox.dispatcher.delay = 0
    send = _send(agents["bsg"], ["+380671234501"], content={"text": "Hello"})
    _start_and_dispatch(send)
    sandbox.fail_next("bsg", "drop-callbacks", 1, kind="rcs")
    services.send_process(send.pk)
    sandbox.wait_callbacks(5)
    Delivery.objects.filter(send=send).update(updated_at=timezone.now() - timedelta(minutes=1))
    summary = services.deliveries_poll_status()
    row = Delivery.objects.get(send=send)
    assert summary["polled"] == 1 and row.status in ("delivered", "read"), (summary, row.status)


def test_pause_resume_cancel(agents, sandbox, django_capture_on_commit_callbacks):
    send = _send(agents["smspartner"], [f"+3361234560{n}" for n in range(1, 6)])
    _start_and_dispatch(send)
    services.send_pause(send)
    assert services.send_process(send.pk) is None and _submitted(sandbox, "smspartner") == []
    with pytest.raises(services.SendNotAllowed):
        services.send_pause(send)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_resume(send)  # enqueued on commit; eager here, so it runs now
    assert len(_submitted(sandbox, "smspartner")) == 5
    send.refresh_from_db()
    assert send.status == "completed"
    other = _send(agents["smspartner"], ["+33612345611", "+33612345612"])
    _start_and_dispatch(other)
    assert services.send_cancel(other) == 2
    other.refresh_from_db()
    assert other.status == "cancelled" and other.cancelled == 2 and other.pending == 0
    assert services.send_process(other.pk) is None and len(_submitted(sandbox, "smspartner")) == 5


def test_database_token_bucket_paces_the_agent(agents, settings, monkeypatch):
    settings.REDIS_URL = ""
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: clock[0])
    agent = agents["smspartner"]
    assert ratelimit.acquire(agent.pk, rate=10, cost=10) == 0  # a full second's worth
    assert ratelimit.acquire(agent.pk, rate=10, cost=5) == pytest.approx(0.1)  # empty: wait
    clock[0] += timedelta(seconds=0.05)
    assert ratelimit.acquire(agent.pk, rate=10, cost=500) == 0  # a provider batch may borrow
    assert ratelimit.acquire(agent.pk, rate=10, cost=1) == pytest.approx(49.95)  # debt first
    clock[0] += timedelta(seconds=50)
    assert ratelimit.acquire(agent.pk, rate=10, cost=1) == 0  # average rate kept: 510 in ~50 s


def test_counters_are_independent_of_event_order(agents):
    send = _send(agents["smspartner"], ["+33612345601", "+33612345602"])
    _start_and_dispatch(send)
    Delivery.objects.filter(send=send).update(status=DeliveryStatus.SUBMITTING)
    Send.objects.filter(pk=send.pk).update(pending=F("pending") - 2)
    first, second = Delivery.objects.filter(send=send).order_by("id")
    events = [
        EventType.ACCEPTED,
        EventType.SENT,
        EventType.DELIVERED,
        EventType.READ,
        EventType.FAILED,
    ]
    for event in events:
        services.delivery_apply(first.pk, event, source="test")
    for event in reversed(events + events):
        services.delivery_apply(second.pk, event, source="test")
    first.refresh_from_db()
    second.refresh_from_db()
    send.refresh_from_db()
    assert first.status == second.status == "read"
    assert (send.submitted, send.sent, send.delivered, send.read, send.failed, send.pending) == (
        2,
        2,
        2,
        2,
        0,
        0,
    )


def test_deliveries_with_no_final_report_expire_after_the_validity(agents, sandbox):
    send = _send(agents["aerialink"], ["+12025550101", "+12025550102"])
    _start_and_dispatch(send)
    services.send_process(send.pk)
    old, fresh = Delivery.objects.filter(send=send).order_by("id")
    Delivery.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - timedelta(hours=services.VALIDITY_HOURS, minutes=1)
    )
    summary = services.deliveries_poll_status()
    old.refresh_from_db()
    fresh.refresh_from_db()
    send.refresh_from_db()
    assert summary["expired"] == 1
    assert old.status == "expired" and "72 h" in old.error_text and old.final_at
    assert fresh.status == "accepted" and send.expired == 1
