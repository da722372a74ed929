"""Business logic, named ``<entity>_<action>``. Views, admin actions, tasks and commands
call these; they hold no HTTP or Celery concerns themselves."""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from datetime import timedelta

import phonenumbers
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rcsportal.messaging.events import EventType, InboundEvent, InboundKind
from rcsportal.messaging.exceptions import (
    MessageInvalid,
    ProviderRejected,
    ProviderTemporaryError,
    UnsupportedFeature,
    WebhookRejected,
)
from rcsportal.messaging.message import Message, parse_message
from rcsportal.messaging.providers import get_provider
from rcsportal.messaging.providers.base import (
    AgentConfig,
    BaseProvider,
    Recipient,
    StatusQuery,
    SubmitResult,
)

from . import quiet_hours, ratelimit, states
from .models import (
    Agent,
    Contact,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    InboundMessage,
    Membership,
    QuietHoursRule,
    Send,
    SendStatus,
    StopKeyword,
    Suppression,
    SuppressionReason,
    TrafficType,
    WebhookCall,
    WebhookCallStatus,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------------


def agent_base_url(agent: Agent) -> str:
    """The agent's override, else the deployment default (``{provider}`` is substituted)."""
    if agent.base_url:
        return agent.base_url
    return settings.PROVIDER_BASE_URL_DEFAULT.replace("{provider}", agent.provider)


def agent_config(agent: Agent) -> AgentConfig:
    allowed = tuple(ip.strip() for ip in agent.webhook_allowed_ips.split(",") if ip.strip())
    return AgentConfig(
        provider=agent.provider,
        credentials=dict(agent.credentials or {}),
        sender_id=agent.sender_id,
        base_url=agent_base_url(agent),
        callback_url=agent.webhook_url(),
        fallback_sms_sender=agent.fallback_sms_sender,
        allowed_webhook_ips=allowed or None,
    )


def agent_adapter(agent: Agent, session=None) -> BaseProvider:
    provider_class = get_provider(agent.provider)
    return provider_class(
        agent_config(agent), session=session, timeout=settings.PROVIDER_HTTP_TIMEOUT
    )


def agent_upsert(
    *,
    name: str,
    provider: str,
    base_url: str | None = None,
    sender_id: str | None = None,
    credentials: dict[str, str] | None = None,
    **fields,
) -> tuple[Agent, bool]:
    """Create or update an agent by name; credentials are merged key by key."""
    get_provider(provider)  # raises KeyError for an unknown provider
    agent = Agent.objects.filter(name=name).first()
    created = agent is None
    if created:
        agent = Agent(name=name, provider=provider)
    agent.provider = provider
    if base_url is not None:
        agent.base_url = base_url
    if sender_id is not None:
        agent.sender_id = sender_id
    for key, value in fields.items():
        setattr(agent, key, value)
    merged = dict(agent.credentials or {})
    merged.update(credentials or {})
    agent.credentials = merged
    agent.full_clean(exclude=["credentials", "webhook_token"])
    agent.save()
    return agent, created


# --------------------------------------------------------------------------------------------
# Sandbox
# --------------------------------------------------------------------------------------------


def sandbox_panels_register(sandbox_url: str | None = None) -> int:
    """Tell the provider sandbox where account-level webhooks go (what a person would set in
    the SMS Partner dashboard or the SerwerSMS bot configuration). Returns how many were set."""
    import requests

    sandbox_url = (sandbox_url or settings.SANDBOX_URL).rstrip("/")
    count = 0
    for agent in Agent.objects.filter(is_active=True, provider__in=["smspartner", "serwersms"]):
        if not agent_base_url(agent).startswith(sandbox_url):
            continue
        if agent.provider == "smspartner":
            payload = {
                "provider": "smspartner",
                "account": agent.credentials.get("apiKey", ""),
                "dlr_url": agent.webhook_url("status"),
                "reply_url": agent.webhook_url("inbound"),
            }
        else:
            payload = {
                "provider": "serwersms",
                "account": agent.credentials.get("rcs_id", ""),
                "webhook_url": agent.webhook_url(),
            }
        response = requests.post(f"{sandbox_url}/_sandbox/panel", json=payload, timeout=5)
        response.raise_for_status()
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# Sends: preparing, starting, controlling
# --------------------------------------------------------------------------------------------

MAX_SUBMIT_ATTEMPTS = 6
FALLBACK_CLAIMED = "claimed"
PERSONALIZED_BATCH = 50
PROCESS_TIME_BUDGET_SECONDS = 20.0
VALIDITY_HOURS = 72  # RCS validity most providers default to (BSG documents 72 h)


class SendNotAllowed(Exception):
    """The send cannot move to the requested state; the message says why, in words."""


def send_prepared_message(send: Send, adapter: BaseProvider | None = None) -> Message:
    """The message that will go out: content, degradations the user chose, fully checked.

    Raises MessageInvalid or UnsupportedFeature (each with paths) when it cannot be sent.
    """
    adapter = adapter or agent_adapter(send.agent)
    message = parse_message(send.content)
    if send.degradations:
        message = adapter.degrade(message, send.degradations)
    problems = message.validate()
    if problems:
        raise MessageInvalid(problems)
    unsupported = adapter.check(wire_message(message, send.agent, adapter))
    if unsupported:
        raise UnsupportedFeature(adapter.key, unsupported)
    return message


def app_side_fallback(agent: Agent, adapter: BaseProvider) -> bool:
    """True when we send the fallback SMS ourselves (provider has no failover field)."""
    return (
        agent.sms_fallback_agent_id is not None and "sms" not in adapter.capabilities.fallback_kinds
    )


def wire_message(message: Message, agent: Agent, adapter: BaseProvider) -> Message:
    """What goes into the provider request: without the fallback when we carry it ourselves."""
    if message.fallback is not None and app_side_fallback(agent, adapter):
        return Message.from_dict({k: v for k, v in message.to_dict().items() if k != "fallback"})
    return message


def _audience_contacts(send: Send):
    group_members = Membership.objects.filter(group__in=send.groups.all()).values("contact_id")
    direct = Send.contacts.through.objects.filter(send_id=send.pk).values("contact_id")
    return Contact.objects.filter(Q(id__in=group_members) | Q(id__in=direct))


def _audience_entries(send: Send) -> int:
    """How many (group or direct) entries name a contact: more than contacts = duplicates."""
    return (
        Membership.objects.filter(group__in=send.groups.all()).count()
        + Send.contacts.through.objects.filter(send_id=send.pk).count()
    )


def phone_region(phone: str) -> str | None:
    """ISO region of a valid number, None when phonenumbers says it is not a valid number."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed) or ""


def send_audience_summary(send: Send) -> dict:
    """Forecast of who would receive the send now (same rules as dispatch, nothing written)."""
    entries = _audience_entries(send)
    suppressed = invalid = recipients = 0
    by_country: dict[str, int] = {}
    for chunk in _chunked(
        _audience_contacts(send)
        .order_by("id")
        .values_list("phone", flat=True)
        .iterator(chunk_size=5000),
        5000,
    ):
        blocked = set(Suppression.objects.filter(phone__in=chunk).values_list("phone", flat=True))
        for phone in chunk:
            if phone in blocked:
                suppressed += 1
                continue
            region = phone_region(phone)
            if region is None:
                invalid += 1
                continue
            recipients += 1
            by_country[region] = by_country.get(region, 0) + 1
    distinct = recipients + suppressed + invalid
    return {
        "recipients": recipients,
        "excluded_suppressed": suppressed,
        "excluded_invalid": invalid,
        "excluded_duplicate": max(0, entries - distinct),
        "by_country": dict(sorted(by_country.items(), key=lambda kv: -kv[1])),
    }


def _chunked(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def new_reference_id() -> str:
    """Ours, unique per delivery: 32 alphanumerics fit BSG (≤32) and SerwerSMS (3–50)."""
    return uuid.uuid4().hex


def send_start(send: Send, user=None) -> Send:
    """Check the send can go, then schedule it or dispatch it now (on commit)."""
    from . import tasks

    if send.status not in (SendStatus.DRAFT,):
        raise SendNotAllowed(
            f"Only a draft can be started (this send is {send.get_status_display().lower()})."
        )
    if not send.agent.is_active:
        raise SendNotAllowed(f"Agent {send.agent.name} is inactive.")
    if not send.groups.exists() and not send.contacts.exists():
        raise SendNotAllowed("The send has no audience: choose groups or contacts.")
    try:
        send_prepared_message(send)
    except (MessageInvalid, UnsupportedFeature) as exc:
        raise SendNotAllowed(
            f"The message cannot be sent through {send.agent.get_provider_display()}: {exc}"
        ) from exc
    updated = Send.objects.filter(pk=send.pk, status=SendStatus.DRAFT).update(
        status=SendStatus.SCHEDULED, updated_at=timezone.now()
    )
    if not updated:
        raise SendNotAllowed("The send changed meanwhile; reload the page.")
    send.refresh_from_db()
    if send.scheduled_at is None or send.scheduled_at <= timezone.now():
        tasks.send_dispatch.delay_on_commit(send.pk)
    return send


def send_dispatch(send_id: int) -> bool:
    """Snapshot content and audience, create one Delivery per recipient, start processing.

    Idempotent: only a SCHEDULED send is dispatched; a second call does nothing.
    """
    from . import tasks

    with transaction.atomic():
        send = (
            Send.objects.select_for_update()
            .select_related("agent", "template")
            .filter(pk=send_id)
            .first()
        )
        if send is None or send.status != SendStatus.SCHEDULED:
            return False
        if send.scheduled_at and send.scheduled_at > timezone.now():
            return False
        try:
            message = send_prepared_message(send)
        except (MessageInvalid, UnsupportedFeature) as exc:
            send.status = SendStatus.FAILED
            send.last_error = f"Not dispatched: {exc}"
            send.completed_at = timezone.now()
            send.save(update_fields=["status", "last_error", "completed_at", "updated_at"])
            return False
        send.content_snapshot = message.to_dict()
        counts = _deliveries_create(send)
        send.recipients = counts["recipients"]
        send.pending = counts["recipients"]
        send.excluded_suppressed = counts["excluded_suppressed"]
        send.excluded_invalid = counts["excluded_invalid"]
        send.excluded_duplicate = counts["excluded_duplicate"]
        send.status = SendStatus.RUNNING
        send.dispatched_at = timezone.now()
        send.save()
    logger.info("send %s dispatched: %s", send.pk, counts)
    transaction.on_commit(lambda: tasks.send_process.delay(send.pk))
    if counts["recipients"] == 0:
        send_complete_if_done(send.pk)
    return True


def _deliveries_create(send: Send) -> dict:
    entries = _audience_entries(send)
    suppressed = invalid = created = 0
    contacts = _audience_contacts(send).order_by("id").values_list("id", "phone")
    for chunk in _chunked(contacts.iterator(chunk_size=5000), 5000):
        blocked = set(
            Suppression.objects.filter(phone__in=[p for _, p in chunk]).values_list(
                "phone", flat=True
            )
        )
        rows = []
        for contact_id, phone in chunk:
            if phone in blocked:
                suppressed += 1
                continue
            region = phone_region(phone)
            if region is None:
                invalid += 1
                continue
            rows.append(
                Delivery(
                    send=send,
                    contact_id=contact_id,
                    phone=phone,
                    country=region,
                    reference_id=new_reference_id(),
                )
            )
        Delivery.objects.bulk_create(rows, batch_size=2000)
        created += len(rows)
    return {
        "recipients": created,
        "excluded_suppressed": suppressed,
        "excluded_invalid": invalid,
        "excluded_duplicate": max(0, entries - created - suppressed - invalid),
    }


def send_pause(send: Send) -> None:
    if not Send.objects.filter(pk=send.pk, status=SendStatus.RUNNING).update(
        status=SendStatus.PAUSED, updated_at=timezone.now()
    ):
        raise SendNotAllowed("Only a running send can be paused.")


def send_resume(send: Send) -> None:
    from . import tasks

    if not Send.objects.filter(pk=send.pk, status=SendStatus.PAUSED).update(
        status=SendStatus.RUNNING, updated_at=timezone.now()
    ):
        raise SendNotAllowed("Only a paused send can be resumed.")
    tasks.send_process.delay_on_commit(send.pk)


def send_cancel(send: Send) -> int:
    """Stop a send: nothing more goes out; what was pending is marked cancelled."""
    with transaction.atomic():
        updated = Send.objects.filter(
            pk=send.pk,
            status__in=[
                SendStatus.DRAFT,
                SendStatus.SCHEDULED,
                SendStatus.RUNNING,
                SendStatus.PAUSED,
            ],
        ).update(
            status=SendStatus.CANCELLED, completed_at=timezone.now(), updated_at=timezone.now()
        )
        if not updated:
            raise SendNotAllowed("This send already finished.")
        cancelled = Delivery.objects.filter(send=send, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, final_at=timezone.now(), updated_at=timezone.now()
        )
        if cancelled:
            Send.objects.filter(pk=send.pk).update(
                pending=F("pending") - cancelled, cancelled=F("cancelled") + cancelled
            )
    return cancelled


def send_complete_if_done(send_id: int) -> bool:
    """Mark a running send completed when no delivery is waiting to be submitted."""
    busy = Delivery.objects.filter(
        send_id=send_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SUBMITTING]
    ).exists()
    if busy:
        return False
    return bool(
        Send.objects.filter(pk=send_id, status=SendStatus.RUNNING).update(
            status=SendStatus.COMPLETED, completed_at=timezone.now(), updated_at=timezone.now()
        )
    )


def sends_due_dispatch() -> int:
    """Beat: dispatch scheduled sends whose time has come."""
    due = list(
        Send.objects.filter(status=SendStatus.SCHEDULED)
        .filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=timezone.now()))
        .values_list("pk", flat=True)[:100]
    )
    return sum(1 for pk in due if send_dispatch(pk))


def sends_kick() -> int:
    """Beat: re-enqueue processing for running sends with work ready (lost enqueues)."""
    from . import tasks

    now = timezone.now()
    ready = (
        Delivery.objects.filter(send__status=SendStatus.RUNNING, status=DeliveryStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .values_list("send_id", flat=True)
        .distinct()[:200]
    )
    send_ids = set(ready)
    for send_id in send_ids:
        tasks.send_process.delay(send_id)
    for send_id in (
        Send.objects.filter(status=SendStatus.RUNNING)
        .exclude(pk__in=send_ids)
        .values_list("pk", flat=True)[:200]
    ):
        send_complete_if_done(send_id)
    return len(send_ids)


# --------------------------------------------------------------------------------------------
# Deliveries: claim, submit, record
# --------------------------------------------------------------------------------------------


def quiet_windows() -> dict[str, quiet_hours.Window]:
    return {
        rule.country.upper(): quiet_hours.Window.from_rule(rule)
        for rule in QuietHoursRule.objects.all()
    }


def send_process(send_id: int, time_budget: float = PROCESS_TIME_BUDGET_SECONDS) -> float | None:
    """Submit pending deliveries of a running send for up to ``time_budget`` seconds.

    Returns the number of seconds after which to run again (work is held by quiet hours,
    backoff or the rate limit, or the budget ran out), or None when there is nothing left.
    Safe to run concurrently for the same send: rows are claimed under lock.
    """
    send = Send.objects.select_related("agent").filter(pk=send_id).first()
    if send is None or send.status != SendStatus.RUNNING:
        return None
    adapter = agent_adapter(send.agent)
    message = wire_message(Message.from_dict(send.content_snapshot), send.agent, adapter)
    batch_size = adapter.capabilities.max_recipients_per_request
    if message.has_placeholders:
        # One request per recipient anyway (each body differs): claim fewer rows at a time
        # so a pause or a crash leaves less in flight.
        batch_size = min(batch_size, PERSONALIZED_BATCH)
    windows = quiet_windows() if send.traffic_type == TrafficType.COMMERCIAL else {}
    deadline = time.monotonic() + time_budget
    while time.monotonic() < deadline:
        if (
            Send.objects.filter(pk=send_id).values_list("status", flat=True).first()
            != SendStatus.RUNNING
        ):
            return None
        claimed, wait = deliveries_claim(send, batch_size, windows)
        if claimed:
            deliveries_submit(send, adapter, message, claimed)
            continue
        if wait is not None:
            send_complete_if_done(send_id)
            return max(0.05, wait)
        send_complete_if_done(send_id)
        return None
    return 0.0


def deliveries_claim(
    send: Send, batch_size: int, windows: dict
) -> tuple[list[Delivery], float | None]:
    """Lock up to ``batch_size`` due pending rows and mark them submitting, in one transaction.

    Rows outside their country's quiet-hours window get ``not_before`` = the next allowed
    time and stay pending (held, never dropped). Returns (claimed rows, seconds to wait when
    nothing could be claimed; None when no pending row remains at all).
    """
    now = timezone.now()
    with transaction.atomic():
        due = Q(not_before__isnull=True) | Q(not_before__lte=now)
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(send_id=send.pk, status=DeliveryStatus.PENDING)
            .filter(due)
            .order_by("id")[:batch_size]
        )
        if rows:
            # Checked again at the last moment: a number may have opted out (STOP reply,
            # import, staff) since the audience was snapshotted.
            rows = _drop_suppressed(send, rows, now)
        if rows and windows:
            rows = _hold_for_quiet_hours(rows, windows, now)
        if not rows:
            next_due = (
                Delivery.objects.filter(send_id=send.pk, status=DeliveryStatus.PENDING)
                .order_by("not_before")
                .values_list("not_before", flat=True)
                .first()
            )
            if next_due is None:
                if Delivery.objects.filter(send_id=send.pk, status=DeliveryStatus.PENDING).exists():
                    return [], 0.5  # rows exist but are locked by another worker
                return [], None
            return [], max(0.0, (next_due - now).total_seconds())
        wait = ratelimit.acquire(send.agent_id, send.agent.rate_per_second, len(rows))
        if wait > 0:
            return [], wait
        ids = [row.pk for row in rows]
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SUBMITTING,
            submitted_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        Send.objects.filter(pk=send.pk).update(pending=F("pending") - len(ids))
        for row in rows:
            row.status = DeliveryStatus.SUBMITTING
            row.submitted_at = now
            row.attempts += 1
    return rows, None


def _drop_suppressed(send: Send, rows: list[Delivery], now) -> list[Delivery]:
    blocked = set(
        Suppression.objects.filter(phone__in=[r.phone for r in rows]).values_list(
            "phone", flat=True
        )
    )
    if not blocked:
        return rows
    ids = [r.pk for r in rows if r.phone in blocked]
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.CANCELLED,
        error_text="Number is on the stop list",
        final_at=now,
        updated_at=now,
    )
    Send.objects.filter(pk=send.pk).update(
        pending=F("pending") - len(ids),
        cancelled=F("cancelled") + len(ids),
        excluded_suppressed=F("excluded_suppressed") + len(ids),
    )
    return [r for r in rows if r.phone not in blocked]


def _hold_for_quiet_hours(rows: list[Delivery], windows: dict, now) -> list[Delivery]:
    allowed = []
    held: dict = {}
    for row in rows:
        window = windows.get((row.country or "").upper())
        if window is None:
            allowed.append(row)
            continue
        at = quiet_hours.next_allowed(window, now)
        if at <= now:
            allowed.append(row)
        else:
            held.setdefault(at, []).append(row.pk)
    for at, ids in held.items():
        Delivery.objects.filter(pk__in=ids).update(not_before=at, updated_at=now)
    return allowed


def deliveries_submit(
    send: Send, adapter: BaseProvider, message: Message, rows: list[Delivery]
) -> None:
    """Render and submit claimed rows; record every outcome. Never raises for provider errors."""
    by_ref = {row.reference_id: row for row in rows}
    if message.has_placeholders:
        contacts = Contact.objects.in_bulk([r.contact_id for r in rows if r.contact_id])
        groups = []
        for row in rows:
            contact = contacts.get(row.contact_id)
            fields = contact.placeholder_fields() if contact else {"phone": row.phone}
            groups.append(
                (
                    message.personalize(fields),
                    [Recipient(phone=row.phone, reference_id=row.reference_id)],
                )
            )
    else:
        groups = [(message, [Recipient(phone=r.phone, reference_id=r.reference_id) for r in rows])]

    for personal_message, recipients in groups:
        try:
            wires = adapter.render(personal_message, recipients)
        except (MessageInvalid, UnsupportedFeature) as exc:
            deliveries_fail(send, [by_ref[r.reference_id] for r in recipients], "render", str(exc))
            continue
        for wire in wires:
            batch = [by_ref[r.reference_id] for r in wire.recipients]
            try:
                results = adapter.send(wire)
            except ProviderTemporaryError as exc:
                deliveries_retry_later(send, batch, exc)
            except ProviderRejected as exc:
                deliveries_fail(send, batch, exc.code or "rejected", exc.describe())
            else:
                deliveries_record_results(send, batch, results)


def deliveries_fail(send: Send, rows: list[Delivery], code: str, text: str) -> None:
    for row in rows:
        delivery_apply(
            row.pk, EventType.FAILED, source="response", error_code=str(code)[:50], error_text=text
        )


def deliveries_retry_later(send: Send, rows: list[Delivery], exc: ProviderTemporaryError) -> None:
    """Temporary failure. Ambiguous ones (the provider may have the message) stay
    submitting for the reconciler; the others go back to pending after a backoff with
    jitter, until MAX_SUBMIT_ATTEMPTS, then fail in words."""
    now = timezone.now()
    ids = [row.pk for row in rows]
    if exc.ambiguous:
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SUBMITTING).update(
            error_code=exc.code[:50], error_text=exc.describe(), updated_at=now
        )
        return
    give_up = [row for row in rows if row.attempts >= MAX_SUBMIT_ATTEMPTS]
    again = [row for row in rows if row.attempts < MAX_SUBMIT_ATTEMPTS]
    if give_up:
        deliveries_fail(
            send,
            give_up,
            exc.code,
            f"Gave up after {MAX_SUBMIT_ATTEMPTS} attempts: {exc.describe()}",
        )
    if again:
        attempts = max(row.attempts for row in again)
        delay = get_exponential_backoff_interval(
            factor=2, retries=attempts, maximum=600, full_jitter=True
        )
        delay = max(delay, exc.retry_after or 0, 1)
        with transaction.atomic():
            moved = Delivery.objects.filter(
                pk__in=[r.pk for r in again], status=DeliveryStatus.SUBMITTING
            ).update(
                status=DeliveryStatus.PENDING,
                not_before=now + timedelta(seconds=delay),
                error_code=exc.code[:50],
                error_text=f"Retrying: {exc.describe()}",
                updated_at=now,
            )
            Send.objects.filter(pk=send.pk).update(pending=F("pending") + moved)


def deliveries_record_results(
    send: Send, rows: list[Delivery], results: list[SubmitResult]
) -> None:
    by_ref = {row.reference_id: row for row in rows}
    seen = set()
    accepted = [r for r in results if r.accepted and r.reference_id in by_ref and not r.opted_out]
    done = _accept_submitting(send, [(by_ref[r.reference_id], r) for r in accepted])
    seen.update(done)
    for result in results:
        row = by_ref.get(result.reference_id)
        if row is None or row.reference_id in done:
            continue
        seen.add(row.reference_id)
        if result.opted_out:
            suppression_add(
                row.phone,
                SuppressionReason.PROVIDER_OPT_OUT,
                f"{send.agent.name}: {result.error_text}",
            )
        if result.accepted:
            delivery_apply(
                row.pk,
                EventType.ACCEPTED,
                source="response",
                provider_message_id=result.provider_message_id,
                cost=result.cost,
                currency=result.currency,
            )
        else:
            delivery_apply(
                row.pk,
                EventType.FAILED,
                source="response",
                error_code=result.error_code,
                error_text=result.error_text or "Refused by the provider",
            )
            delivery_fallback_if_needed(row.pk)
    missing = [row for ref, row in by_ref.items() if ref not in seen]
    if missing:
        # The provider answered without mentioning these numbers: we cannot know.
        Delivery.objects.filter(
            pk__in=[r.pk for r in missing], status=DeliveryStatus.SUBMITTING
        ).update(
            status=DeliveryStatus.UNKNOWN,
            error_text="The provider's answer did not mention this number",
            updated_at=timezone.now(),
        )
        Send.objects.filter(pk=send.pk).update(unknown=F("unknown") + len(missing))


def _accept_submitting(send: Send, pairs: list[tuple[Delivery, SubmitResult]]) -> set[str]:
    """The common case in bulk: rows still ``submitting`` that the provider accepted move to
    ``accepted`` in a few statements (one UPDATE per provider id, one INSERT of events, one
    counter update) instead of four per row. Rows something else touched meanwhile (an early
    callback) are left to ``delivery_apply``. Returns the reference ids handled."""
    if not pairs:
        return set()
    now = timezone.now()
    with transaction.atomic():
        ids = [row.pk for row, _ in pairs]
        still = set(
            Delivery.objects.select_for_update()
            .filter(pk__in=ids, status=DeliveryStatus.SUBMITTING, accepted_at__isnull=True)
            .values_list("pk", flat=True)
        )
        pairs = [(row, result) for row, result in pairs if row.pk in still]
        by_update: dict[tuple, list[int]] = {}
        for row, result in pairs:
            key = (result.provider_message_id[:100], result.cost, result.currency[:3])
            by_update.setdefault(key, []).append(row.pk)
        cost_total = 0
        for (provider_id, cost, currency), pks in by_update.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.ACCEPTED,
                accepted_at=now,
                provider_message_id=provider_id,
                cost=cost,
                currency=currency,
                updated_at=now,
            )
            if cost is not None:
                cost_total += cost * len(pks)
        DeliveryEvent.objects.bulk_create(
            [
                DeliveryEvent(
                    delivery_id=row.pk,
                    agent_id=send.agent_id,
                    type=EventType.ACCEPTED.value,
                    source="response",
                    provider_message_id=result.provider_message_id[:100],
                    occurred_at=now,
                    applied=True,
                )
                for row, result in pairs
            ],
            batch_size=1000,
        )
        updates = {"submitted": F("submitted") + len(pairs)}
        if cost_total:
            updates["cost"] = F("cost") + cost_total
            updates["currency"] = next((r.currency[:3] for _, r in pairs if r.currency), "")
        Send.objects.filter(pk=send.pk).update(**updates)
    return {row.reference_id for row, _ in pairs}


def delivery_apply(
    delivery_id: int,
    event_type: EventType,
    *,
    source: str,
    at=None,
    provider_message_id: str = "",
    error_code: str = "",
    error_text: str = "",
    cost=None,
    currency: str = "",
    fallback_channel: str = "",
    raw: dict | None = None,
    agent_id: int | None = None,
) -> bool:
    """Apply one event to one delivery under a row lock; update the send's counters.

    Returns True when the status moved. Duplicates and out-of-order events are harmless.
    """
    at = at or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return False
        before = states.DeliveryState.of(delivery)
        after = states.DeliveryState.of(delivery)
        moved = states.apply_event(
            after,
            event_type,
            at,
            error_code=error_code,
            error_text=error_text,
            fallback_channel=fallback_channel,
        )
        changed = after.copy_to(delivery)
        if provider_message_id and not delivery.provider_message_id:
            delivery.provider_message_id = provider_message_id[:100]
            changed.append("provider_message_id")
        deltas = states.counter_deltas(before, after)
        cost_delta = None
        if cost is not None and delivery.cost is None:
            delivery.cost, delivery.currency = cost, currency[:3]
            changed += ["cost", "currency"]
            cost_delta = cost
        if after.status in states.FINAL_STATES and delivery.final_at is None:
            delivery.final_at = at
            changed.append("final_at")
        if changed:
            delivery.updated_at = timezone.now()
            delivery.save(update_fields=[*set(changed), "updated_at"])
        DeliveryEvent.objects.create(
            delivery=delivery,
            agent_id=agent_id,
            type=event_type.value,
            source=source,
            provider_message_id=provider_message_id[:100],
            occurred_at=at,
            error_code=error_code[:50],
            error_text=error_text,
            applied=moved,
            raw=raw or {},
        )
        updates = {name: F(name) + value for name, value in deltas.items()}
        if cost_delta is not None:
            updates["cost"] = F("cost") + cost_delta
            updates["currency"] = currency[:3]
        if updates:
            Send.objects.filter(pk=delivery.send_id).update(**updates)
    return moved


# --------------------------------------------------------------------------------------------
# Fallback through our own SMS (providers without a failover field)
# --------------------------------------------------------------------------------------------


def delivery_fallback_if_needed(delivery_id: int) -> None:
    from . import tasks

    delivery = Delivery.objects.select_related("send__agent").get(pk=delivery_id)
    agent = delivery.send.agent
    if agent.sms_fallback_agent_id is None or delivery.fallback_channel:
        return
    if get_provider(agent.provider).capabilities.fallback_kinds:
        return  # the provider runs the fallback itself (failover field in the request)
    fallback = (delivery.send.content_snapshot or {}).get("fallback") or {}
    if not (fallback.get("sms") or {}).get("text"):
        return
    tasks.delivery_fallback_sms.delay_on_commit(delivery_id)


def delivery_fallback_sms(delivery_id: int) -> None:
    """Send the fallback SMS once (the claim is a conditional UPDATE on fallback_message_id)."""
    delivery = Delivery.objects.select_related("send__agent__sms_fallback_agent", "contact").get(
        pk=delivery_id
    )
    sms_agent = delivery.send.agent.sms_fallback_agent
    if sms_agent is None:
        return
    # Claim with a conditional UPDATE so two workers can never both send it; "claimed" is
    # replaced by the provider's id once the SMS is accepted.
    claimed = Delivery.objects.filter(
        pk=delivery_id, fallback_channel="", fallback_message_id=""
    ).update(fallback_message_id=FALLBACK_CLAIMED, updated_at=timezone.now())
    if not claimed:
        return  # already done or in progress
    message = Message.from_dict(delivery.send.content_snapshot)
    if delivery.contact is not None and message.has_placeholders:
        message = message.personalize(delivery.contact.placeholder_fields())
    sms = message.fallback.sms
    adapter = agent_adapter(sms_agent)
    recipient = Recipient(phone=delivery.phone, reference_id=delivery.reference_id)
    try:
        wires = adapter.render_sms(
            sms.text, [recipient], sender=sms.sender or delivery.send.agent.fallback_sms_sender
        )
        results = [r for wire in wires for r in adapter.send_sms(wire)]
    except (ProviderRejected, ProviderTemporaryError) as exc:
        delivery_apply(
            delivery_id,
            EventType.FALLBACK_FAILED,
            source="response",
            error_code=exc.code,
            error_text=f"Fallback SMS: {exc.describe()}",
            fallback_channel="sms",
        )
        return
    result = results[0] if results else None
    if result is not None and result.accepted:
        Delivery.objects.filter(pk=delivery_id).update(
            fallback_message_id=result.provider_message_id[:100]
        )
        delivery_apply(
            delivery_id,
            EventType.FALLBACK_SENT,
            source="response",
            fallback_channel="sms",
            cost=result.cost,
            currency=result.currency,
        )
    else:
        text = result.error_text if result else "no answer for this number"
        delivery_apply(
            delivery_id,
            EventType.FALLBACK_FAILED,
            source="response",
            error_text=f"Fallback SMS refused: {text}",
            fallback_channel="sms",
        )


# --------------------------------------------------------------------------------------------
# Reconciliation, polling, expiry, manual resend
# --------------------------------------------------------------------------------------------


def deliveries_reconcile_stale(older_than_seconds: int | None = None) -> dict:
    """Rows left in ``submitting`` (worker killed, ambiguous timeout) are never re-sent
    blindly: asked about through the status API by our reference id where the provider
    has one; otherwise marked unknown for a person to decide."""
    older_than_seconds = (
        settings.SUBMITTING_STALE_SECONDS if older_than_seconds is None else older_than_seconds
    )
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(
        Delivery.objects.filter(status=DeliveryStatus.SUBMITTING, submitted_at__lt=cutoff)
        .select_related("send__agent")
        .order_by("id")[:5000]
    )
    summary = {"found": 0, "requeued": 0, "unknown": 0}
    by_send: dict[int, list[Delivery]] = {}
    for row in stale:
        by_send.setdefault(row.send_id, []).append(row)
    for rows in by_send.values():
        send = rows[0].send
        adapter = agent_adapter(send.agent)
        caps = adapter.capabilities
        if caps.status_api and caps.reference_id_on_wire:
            for batch in _chunked(rows, 100):
                events = _fetch_status(adapter, send, batch)
                if events is None:
                    continue  # the rows stay submitting: the next sweep asks again
                known = {}
                for event in events:
                    if event.reference_id:
                        known.setdefault(event.reference_id, []).append(event)
                for row in batch:
                    found = known.get(row.reference_id)
                    if found:
                        summary["found"] += 1
                        for event in found:
                            delivery_apply(
                                row.pk,
                                EventType.ACCEPTED,
                                source="poll",
                                provider_message_id=event.provider_message_id,
                            )
                            delivery_event_apply(
                                row.pk, event, source="poll", agent_id=send.agent_id
                            )
                    else:
                        # The provider does not know this reference: it never got it.
                        with transaction.atomic():
                            if Delivery.objects.filter(
                                pk=row.pk, status=DeliveryStatus.SUBMITTING
                            ).update(
                                status=DeliveryStatus.PENDING,
                                not_before=None,
                                updated_at=timezone.now(),
                            ):
                                Send.objects.filter(pk=send.pk).update(pending=F("pending") + 1)
                                summary["requeued"] += 1
        else:
            for row in rows:
                reason = (
                    f"{send.agent.get_provider_display()} may or may not have received this message "
                    "(the worker stopped or the provider did not answer in time) and it has no status "
                    "lookup by our reference. Check, then use “Resend these” if it did not arrive."
                )
                if delivery_apply(
                    row.pk,
                    EventType.UNKNOWN,
                    source="system",
                    error_code="unknown",
                    error_text=reason,
                ):
                    summary["unknown"] += 1
    if summary["requeued"]:
        from . import tasks

        for send_id in by_send:
            tasks.send_process.delay(send_id)
    return summary


def delivery_event_apply(
    delivery_id: int, event, *, source: str, agent_id: int | None = None
) -> bool:
    return delivery_apply(
        delivery_id,
        event.type,
        source=source,
        at=event.occurred_at,
        provider_message_id=event.provider_message_id,
        error_code=event.error_code,
        error_text=event.error_text,
        cost=event.cost,
        currency=event.currency,
        fallback_channel=event.fallback_channel,
        raw=event.raw,
        agent_id=agent_id,
    )


def _fetch_status(adapter: BaseProvider, send: Send, batch: list[Delivery]) -> list | None:
    """Status API answer for these rows, or None (logged) when the provider is unreachable."""
    queries = [
        StatusQuery(
            reference_id=r.reference_id, phone=r.phone, provider_message_id=r.provider_message_id
        )
        for r in batch
    ]
    try:
        return adapter.fetch_status(queries)
    except (ProviderTemporaryError, ProviderRejected) as exc:
        logger.warning(
            "status API of %s failed for send %s: %s", adapter.display_name, send.pk, exc
        )
        return None


def deliveries_resend(delivery_ids: list[int]) -> int:
    """A person decided these unknown (or failed) deliveries did not arrive: send again
    with a fresh reference id."""
    from . import tasks

    moved = 0
    send_ids = set()
    with transaction.atomic():
        for row in Delivery.objects.select_for_update().filter(
            pk__in=delivery_ids, status__in=[DeliveryStatus.UNKNOWN, DeliveryStatus.FAILED]
        ):
            before = states.DeliveryState.of(row)
            row.status = DeliveryStatus.PENDING
            row.reference_id = new_reference_id()
            row.provider_message_id = ""
            row.error_code = row.error_text = ""
            row.not_before = None
            row.final_at = None
            row.attempts = 0
            row.save()
            deltas = states.counter_deltas(before, states.DeliveryState.of(row))
            Send.objects.filter(pk=row.send_id).update(**{k: F(k) + v for k, v in deltas.items()})
            Send.objects.filter(pk=row.send_id, status=SendStatus.COMPLETED).update(
                status=SendStatus.RUNNING, completed_at=None
            )
            send_ids.add(row.send_id)
            moved += 1
    for send_id in send_ids:
        tasks.send_process.delay_on_commit(send_id)
    return moved


def deliveries_poll_status() -> dict:
    """Ask status APIs about deliveries with no final report after a while; expire old ones."""
    now = timezone.now()
    summary = {"polled": 0, "updated": 0, "expired": 0}
    expired = Delivery.objects.filter(
        status__in=list(states.OPEN_STATES), submitted_at__lt=now - timedelta(hours=VALIDITY_HOURS)
    ).values_list("pk", flat=True)[:5000]
    for pk in list(expired):
        if delivery_apply(
            pk,
            EventType.EXPIRED,
            source="system",
            error_text=f"No final report within {VALIDITY_HOURS} h",
        ):
            summary["expired"] += 1
    cutoff = now - timedelta(minutes=settings.STATUS_POLL_AFTER_MINUTES)
    rows = list(
        Delivery.objects.filter(status__in=list(states.OPEN_STATES), updated_at__lt=cutoff)
        .exclude(provider_message_id="", reference_id="")
        .select_related("send__agent")
        .order_by("updated_at")[:2000]
    )
    by_send: dict[int, list[Delivery]] = {}
    for row in rows:
        by_send.setdefault(row.send_id, []).append(row)
    for group in by_send.values():
        send = group[0].send
        adapter = agent_adapter(send.agent)
        if not adapter.capabilities.status_api:
            continue
        for batch in _chunked(group, 100):
            summary["polled"] += len(batch)
            events = _fetch_status(adapter, send, batch)
            if events is None:
                continue
            for event in events:
                delivery = _match_delivery(send.agent, event, candidates=batch)
                if delivery is not None and delivery_event_apply(
                    delivery.pk, event, source="poll", agent_id=send.agent_id
                ):
                    summary["updated"] += 1
            Delivery.objects.filter(pk__in=[r.pk for r in batch]).update(updated_at=now)
    return summary


# --------------------------------------------------------------------------------------------
# Webhooks and inbound messages
# --------------------------------------------------------------------------------------------


def _match_delivery(agent: Agent, event, candidates=None) -> Delivery | None:
    """Find the delivery an event is about: our reference first, then the provider's id
    (with the phone when one provider id covers a whole batch, as SMS Partner's does)."""
    reference = getattr(event, "reference_id", "") or getattr(event, "in_reply_to_reference_id", "")
    provider_id = getattr(event, "provider_message_id", "")
    if isinstance(event, InboundEvent):
        provider_id = event.in_reply_to_message_id
    phone = getattr(event, "phone", "")
    if candidates is not None:
        for row in candidates:
            if reference and row.reference_id == reference:
                return row
        for row in candidates:
            if (
                provider_id
                and row.provider_message_id == provider_id
                and (not phone or _same_number(row.phone, phone))
            ):
                return row
        return None
    qs = Delivery.objects.filter(send__agent=agent)
    if provider_id and getattr(event, "fallback_channel", ""):
        # A report about our own fallback SMS, sent through this (SMS) agent for another.
        fallbacks = Delivery.objects.filter(
            send__agent__sms_fallback_agent=agent, fallback_message_id=provider_id
        )
        for row in fallbacks[:501]:
            if not phone or _same_number(row.phone, phone):
                return row
    if reference:
        found = qs.filter(reference_id=reference).first()
        if found:
            return found
    if provider_id:
        matches = list(qs.filter(provider_message_id=provider_id)[:501])
        if len(matches) == 1 and (not phone or _same_number(matches[0].phone, phone)):
            return matches[0]
        for row in matches:
            if phone and _same_number(row.phone, phone):
                return row
        if phone and not matches:
            # The provider reports on a message whose send response we never recorded (the
            # worker died after the provider took it): its callback settles the row.
            orphan = _orphan_delivery(agent, phone)
            if orphan is not None:
                return orphan
    return None


def _orphan_delivery(agent: Agent, phone: str) -> Delivery | None:
    e164 = phone if phone.startswith("+") else "+" + "".join(c for c in phone if c.isdigit())
    candidates = list(
        Delivery.objects.filter(
            send__agent=agent,
            phone=e164,
            provider_message_id="",
            status__in=[DeliveryStatus.SUBMITTING, DeliveryStatus.UNKNOWN],
        ).order_by("-submitted_at")[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _same_number(a: str, b: str) -> bool:
    da, db = "".join(c for c in a if c.isdigit()), "".join(c for c in b if c.isdigit())
    return bool(da and db) and (da == db or da[-9:] == db[-9:])


def webhook_call_process(call_id: int) -> int:
    """Apply a stored webhook call. Returns how many events matched no delivery yet (a
    callback can arrive before the send response: the task retries those)."""
    call = WebhookCall.objects.select_related("agent").get(pk=call_id)
    if (
        call.status in (WebhookCallStatus.PROCESSED, WebhookCallStatus.REJECTED)
        or call.agent is None
    ):
        return 0
    adapter = agent_adapter(call.agent)
    try:
        events = adapter.parse_webhook(
            path_kind=call.path_kind, headers=call.headers, body=call.body.encode("utf-8")
        )
    except WebhookRejected as exc:
        call.status, call.reason, call.processed_at = (
            WebhookCallStatus.REJECTED,
            exc.reason,
            timezone.now(),
        )
        call.save(update_fields=["status", "reason", "processed_at"])
        return 0
    unmatched = 0
    done = set((call.reason or "").split(",")) if call.reason.startswith("partial:") else set()
    for index, event in enumerate(events):
        key = str(index)
        if key in done:
            continue
        if isinstance(event, InboundEvent):
            inbound_record(call.agent, event)
            done.add(key)
            continue
        delivery = _match_delivery(call.agent, event)
        if delivery is None:
            unmatched += 1
            continue
        delivery_event_apply(delivery.pk, event, source="webhook", agent_id=call.agent_id)
        if event.opted_out:
            suppression_add(
                delivery.phone, SuppressionReason.PROVIDER_OPT_OUT, f"{call.agent.name} stop list"
            )
        if event.type in (EventType.FAILED, EventType.EXPIRED) and not event.fallback_channel:
            delivery_fallback_if_needed(delivery.pk)
        done.add(key)
    if unmatched:
        call.reason = "partial:" + ",".join(sorted(done))
        call.save(update_fields=["reason"])
    else:
        call.status, call.reason, call.processed_at = (
            WebhookCallStatus.PROCESSED,
            "",
            timezone.now(),
        )
        call.save(update_fields=["status", "reason", "processed_at"])
    return unmatched


def webhook_call_give_up(call_id: int) -> None:
    WebhookCall.objects.filter(pk=call_id, status=WebhookCallStatus.RECEIVED).update(
        status=WebhookCallStatus.FAILED,
        reason="Some events matched no delivery",
        processed_at=timezone.now(),
    )


def webhook_calls_retry(older_than_seconds: int = 30, give_up_after_hours: int = 24) -> int:
    """Beat: process again calls whose task was lost or whose events matched no delivery
    yet (a callback that beat the send response); give up on them after a day."""
    from . import tasks

    now = timezone.now()
    waiting = WebhookCall.objects.filter(
        status=WebhookCallStatus.RECEIVED,
        received_at__lt=now - timedelta(seconds=older_than_seconds),
    )
    for pk in waiting.filter(
        received_at__lt=now - timedelta(hours=give_up_after_hours)
    ).values_list("pk", flat=True)[:500]:
        webhook_call_give_up(pk)
    ids = list(waiting.values_list("pk", flat=True)[:500])
    for pk in ids:
        tasks.webhook_process.delay(pk)
    return len(ids)


def stop_keywords() -> set[str]:
    return {_fold(k) for k in StopKeyword.objects.values_list("keyword", flat=True)}


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "Arrêt " -> "ARRET"."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def is_stop_reply(text: str, keywords: set[str] | None = None) -> bool:
    folded = _fold(text).strip(" .!")
    return bool(folded) and folded in (keywords if keywords is not None else stop_keywords())


def inbound_record(agent: Agent, event: InboundEvent) -> InboundMessage:
    """Store a reply or tap, link it to the contact and the delivery, honour STOP at once."""
    phone = (
        event.phone
        if event.phone.startswith("+")
        else "+" + "".join(c for c in event.phone if c.isdigit())
    )
    delivery = _match_delivery(agent, event)
    if delivery is None:
        delivery = (
            Delivery.objects.filter(send__agent=agent, phone=phone).order_by("-created_at").first()
        )
    contact = Contact.objects.filter(phone=phone).first()
    opt_out = event.kind == InboundKind.TEXT and is_stop_reply(event.text)
    inbound = InboundMessage.objects.create(
        agent=agent,
        contact=contact,
        delivery=delivery,
        phone=phone[:16],
        kind=event.kind.value,
        text=event.text,
        postback_data=event.postback_data[:2048],
        provider_message_id=event.provider_message_id[:100],
        is_opt_out=opt_out,
        occurred_at=event.occurred_at,
        raw=event.raw,
    )
    if opt_out:
        suppression_add(phone, SuppressionReason.STOP_REPLY, f"{agent.name}: “{event.text[:50]}”")
    if delivery is not None:
        field = "replied_at" if event.kind in (InboundKind.TEXT,) else "clicked_at"
        with transaction.atomic():
            locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
            if getattr(locked, field) is None:
                setattr(locked, field, event.occurred_at or timezone.now())
                locked.save(update_fields=[field, "updated_at"])
                counter = "replied" if field == "replied_at" else "clicked"
                Send.objects.filter(pk=locked.send_id).update(**{counter: F(counter) + 1})
    return inbound


def suppression_add(phone: str, reason: str, source: str = "") -> bool:
    """Add a number to the stop list (idempotent). Pending deliveries to it are cancelled."""
    _, created = Suppression.objects.get_or_create(
        phone=phone[:16], defaults={"reason": reason, "source": source[:200]}
    )
    pending = list(
        Delivery.objects.filter(phone=phone, status=DeliveryStatus.PENDING).values_list(
            "pk", "send_id"
        )
    )
    for pk, send_id in pending:
        with transaction.atomic():
            if Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.CANCELLED,
                error_text="Number is on the stop list",
                final_at=timezone.now(),
            ):
                Send.objects.filter(pk=send_id).update(
                    pending=F("pending") - 1,
                    cancelled=F("cancelled") + 1,
                    excluded_suppressed=F("excluded_suppressed") + 1,
                )
    return created
