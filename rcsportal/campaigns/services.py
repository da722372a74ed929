"""Business logic, named ``<entity>_<action>``. Views, admin actions, tasks and commands
call these; they hold no HTTP or Celery concerns themselves."""

from __future__ import annotations

import logging

from django.conf import settings

from rcsportal.messaging.providers import get_provider
from rcsportal.messaging.providers.base import AgentConfig, BaseProvider

from .models import Agent

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
