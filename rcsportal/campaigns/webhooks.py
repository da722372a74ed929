"""Provider webhooks: authenticate, store the raw call, answer fast, process in a task.

One URL per provider and agent: ``/webhooks/<provider>/<agent token>/[<kind>/]``. These are
the only CSRF-exempt views; each call is authenticated by the agent's secret token (compared
in constant time) and by the provider's own rules (source IP allow-list for SerwerSMS).
Every call, accepted or not, is kept as a ``WebhookCall`` for audit.
"""

from __future__ import annotations

import hmac
import logging

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rcsportal.messaging.exceptions import WebhookRejected

from .models import Agent, WebhookCall, WebhookCallStatus

logger = logging.getLogger(__name__)

_KEPT_HEADERS = ("content-type", "content-length", "user-agent", "x-forwarded-for", "x-real-ip")
MAX_BODY_BYTES = 1024 * 1024


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _reject(call: WebhookCall, status: int, reason: str) -> JsonResponse:
    call.status = WebhookCallStatus.REJECTED
    call.reason = reason
    call.processed_at = timezone.now()
    call.save()
    logger.warning("webhook rejected: %s %s (%s)", call.provider, reason, call.remote_addr)
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _find_agent(provider: str, token: str) -> Agent | None:
    agent = Agent.objects.filter(provider=provider, webhook_token=token).first()
    # The lookup is by unique index; compare again in constant time so a timing difference
    # cannot reveal a token prefix.
    if agent is None or not hmac.compare_digest(agent.webhook_token, token):
        return None
    return agent


@csrf_exempt
@require_POST
def receive(request: HttpRequest, provider: str, token: str, kind: str = ""):
    from . import services, tasks

    body = request.body[: MAX_BODY_BYTES + 1]
    call = WebhookCall.objects.create(
        provider=provider[:32],
        path_kind=kind[:32],
        remote_addr=_client_ip(request) or None,
        headers={k: v for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS},
        body=body[:MAX_BODY_BYTES].decode("utf-8", errors="replace"),
    )
    if len(body) > MAX_BODY_BYTES:
        return _reject(call, 413, "body too large")
    agent = _find_agent(provider, token)
    if agent is None:
        return _reject(call, 404, "unknown provider or agent token")
    call.agent = agent
    if not agent.is_active:
        return _reject(call, 403, "agent is inactive")
    adapter = services.agent_adapter(agent)
    try:
        adapter.verify_webhook(
            path_kind=kind,
            headers=dict(request.headers),
            body=body,
            remote_addr=call.remote_addr or "",
        )
        adapter.parse_webhook(path_kind=kind, headers=dict(request.headers), body=body)
    except WebhookRejected as exc:
        return _reject(call, exc.status_code, exc.reason)
    except Exception as exc:  # a body shape the adapter did not foresee: refuse, keep, log
        logger.exception("webhook %s: unexpected body", provider)
        return _reject(call, 400, f"could not read the body ({type(exc).__name__})")
    call.save()
    tasks.webhook_process.delay_on_commit(call.pk)
    return JsonResponse({"ok": True})
