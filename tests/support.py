"""Shared test data for the tests that drive the provider sandbox end to end."""

from __future__ import annotations

from rcsportal.campaigns import services
from rcsportal.campaigns.demo import SANDBOX_AGENTS

TEXT_WITH_REPLY = {
    "text": "Hello {{ first_name }}",
    "suggestions": [{"reply": {"text": "Yes", "postbackData": "yes"}}],
    "fallback": {"sms": {"text": "Hello {{ first_name }} (SMS)", "sender": "DemoShop"}},
}
# BSG carries neither reply chips nor plain text with suggestions: a card with a link.
CARD_WITH_LINK = {
    "richCard": {
        "standaloneCard": {
            "cardContent": {
                "title": "Hello",
                "description": "Hello {{ first_name }}",
                "media": {
                    "height": "MEDIUM",
                    "contentInfo": {
                        "fileUrl": "https://example.com/a.png",
                        "mimeType": "image/png",
                        "fileSizeBytes": 1000,
                    },
                },
                "suggestions": [
                    {
                        "action": {
                            "text": "Site",
                            "postbackData": "site",
                            "openUrlAction": {"url": "https://example.com/"},
                        }
                    }
                ],
            }
        }
    },
    "fallback": {"sms": {"text": "Hello {{ first_name }} (SMS)", "sender": "DemoShop"}},
}


def content_for(provider: str) -> dict:
    return CARD_WITH_LINK if provider == "bsg" else TEXT_WITH_REPLY


def sandbox_agents(sandbox, *, rate: int = 500, register_panels: bool = True) -> dict:
    """One agent per provider on the sandbox, with the demo credentials; SerwerSMS (no
    failover field) falls back through the SMS Partner agent."""
    agents = {}
    for name, provider, sender, credentials in SANDBOX_AGENTS:
        agents[provider], _ = services.agent_upsert(
            name=name,
            provider=provider,
            base_url=sandbox.url_for(provider),
            sender_id=sender,
            credentials=credentials,
            fallback_sms_sender="DemoShop",
            webhook_allowed_ips="127.0.0.1,::1",
            rate_per_second=rate,
        )
    agents["serwersms"].sms_fallback_agent = agents["smspartner"]
    agents["serwersms"].save()
    if register_panels:
        services.sandbox_panels_register(sandbox.base_url)
    return agents
