"""Celery tasks: thin wrappers that take ids, call a service and own the retry policy."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def webhook_process(call_id: int) -> None:
    from . import services

    services.webhook_call_process(call_id)
