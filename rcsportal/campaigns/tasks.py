"""Celery tasks: thin wrappers that take ids, call a service and own the retry policy.

Every task is safe to run twice (at-least-once delivery with acks_late): the services
claim work with row locks or conditional updates.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services
from .tasks_import import *  # noqa: F403 - registered with the same app

DB_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(acks_late=True, **DB_RETRY)
def send_dispatch(send_id: int) -> None:
    services.send_dispatch(send_id)


@shared_task(acks_late=True, **DB_RETRY)
def send_process(send_id: int) -> None:
    again_in = services.send_process(send_id)
    if again_in is not None:
        send_process.apply_async((send_id,), countdown=again_in)


@shared_task(acks_late=True, **DB_RETRY)
def delivery_fallback_sms(delivery_id: int) -> None:
    services.delivery_fallback_sms(delivery_id)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=12,
    **{k: v for k, v in DB_RETRY.items() if k != "max_retries"},
)
def webhook_process(self, call_id: int) -> None:
    unmatched = services.webhook_call_process(call_id)
    if unmatched:
        # A callback can beat the send response that tells us the provider's id.
        if self.request.is_eager:
            return  # no real countdown inline: the webhooks_retry sweeper takes it from here
        if self.request.retries >= self.max_retries:
            services.webhook_call_give_up(call_id)
            return
        raise self.retry(countdown=min(2**self.request.retries, 60))


# --- beat ---------------------------------------------------------------------------------


@shared_task
def sends_due() -> int:
    return services.sends_due_dispatch()


@shared_task
def sends_kick() -> int:
    return services.sends_kick()


@shared_task
def deliveries_reconcile() -> dict:
    return services.deliveries_reconcile_stale()


@shared_task
def deliveries_poll() -> dict:
    return services.deliveries_poll_status()


@shared_task
def webhooks_retry() -> int:
    return services.webhook_calls_retry()
