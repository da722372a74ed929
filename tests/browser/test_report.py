"""The campaign report after a real send through the sandbox, as a marketing user sees it."""

from __future__ import annotations

import time

from rcsportal.campaigns import services
from rcsportal.campaigns.models import Delivery, Send, WebhookCall
from rcsportal.sandbox import SandboxServer
from tests.campaigns.factories import make_contact, make_group, make_template

CONTENT = {
    "text": "Hello {{ first_name }}, our summer sale starts today!",
    "suggestions": [{"reply": {"text": "Tell me more", "postbackData": "more"}}],
    "fallback": {
        "sms": {
            "text": "Hello {{ first_name }}, our summer sale starts today!",
            "sender": "DemoShop",
        }
    },
}


def test_campaign_report_shows_the_funnel_errors_and_replies(
    page, screenshots, settings, live_server
):
    settings.PUBLIC_BASE_URL = live_server.url
    with SandboxServer(callback_delay=0) as sandbox:
        agent, _ = services.agent_upsert(
            name="SMS Partner FR",
            provider="smspartner",
            base_url=sandbox.url_for("smspartner"),
            credentials={"apiKey": "sandbox-smspartner-key"},
            webhook_allowed_ips="127.0.0.1,::1",
        )
        services.sandbox_panels_register(sandbox.base_url)
        contacts = [make_contact(f"+336123{n:05d}", first_name=f"Client {n}") for n in range(1, 61)]
        send = Send.objects.create(
            name="Summer sale",
            template=make_template(CONTENT),
            agent=agent,
            traffic_type="transactional",
        )
        send.groups.add(make_group(contacts=contacts))
        services.send_start(send)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sandbox.wait_callbacks(1)
            busy = Delivery.objects.filter(
                send=send, status__in=["pending", "submitting", "accepted", "sent"]
            ).exists()
            if not busy and not WebhookCall.objects.filter(status="received").exists():
                break
            services.webhook_calls_retry(older_than_seconds=0)
            time.sleep(0.2)

    send.refresh_from_db()
    page.goto(f"{page.base_url}/campaigns/reports/sends/{send.pk}/")
    kpis = page.locator(".rcs-kpi")
    assert kpis.first.inner_text().split()[0] == "60"
    read_kpi = page.locator(".rcs-kpi", has_text="Read").inner_text()
    assert read_kpi.startswith(str(send.read)) and send.read > 0
    assert page.get_by_role("heading", name="Errors, in words").is_visible()
    assert "Not delivered" in page.locator("section", has_text="Errors, in words").inner_text()
    assert "(opt-out)" in page.locator("section", has_text="Latest replies").inner_text()
    page.screenshot(path=str(screenshots / "report.png"), full_page=True)
