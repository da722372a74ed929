"""Template and send preview pages: who may see them, personalization, what each provider
receives (with secrets masked) and the pre-send forecast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from rcsportal.campaigns import composer, services
from rcsportal.campaigns.models import Send, SendStatus

from .factories import (
    SECRET_MARKER,
    make_agent,
    make_contact,
    make_group,
    make_send,
    make_template,
    make_user,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages"
pytestmark = pytest.mark.django_db

PERSONAL = {
    "richCard": {
        "standaloneCard": {
            "cardContent": {
                "title": "Hello {{ first_name }}",
                "description": "Your code: {{ voucher }}",
                "suggestions": [{"reply": {"text": "Thanks {{ first_name }}"}}],
            }
        }
    },
    "fallback": {"sms": {"text": "Hello {{ first_name }}, code {{ voucher }}"}},
}


@pytest.fixture
def marketer():
    client = Client()
    client.force_login(make_user("marketer", "Marketing"))
    return client


def _template_url(template, **query):
    url = reverse("campaigns:template-preview", args=[template.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def test_template_preview_renders_for_a_marketing_user(marketer):
    doc = json.loads((FIXTURES / "carousel_2.json").read_text())
    template = make_template(doc, name="Sneakers")
    response = marketer.get(_template_url(template))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Red sneakers" in html and "Blue sneakers" in html
    assert "rcs-pv-carousel" in html and "rcs-pv-medium" in html
    assert "admin/css/base.css" in html  # the admin look
    assert "What each provider can carry" in html
    assert "BSG" in html and "Aerialink" in html


def test_preview_pages_refuse_anonymous_and_unprivileged_users():
    template = make_template()
    send = make_send(template=template)
    urls = [_template_url(template), reverse("campaigns:send-preview", args=[send.pk])]
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    nobody = Client()
    nobody.force_login(make_user("staff-without-permissions"))
    for url in urls:
        assert nobody.get(url).status_code == 403
    assert nobody.get(reverse("campaigns:template-content", args=[template.pk])).status_code == 403


def test_per_contact_preview_fills_placeholders(marketer):
    template = make_template(PERSONAL)
    ada = make_contact(first_name="Ada", last_name="Lovelace", attributes={"voucher": "ADA-42"})
    bob = make_contact(first_name="Bob")
    html = marketer.get(_template_url(template)).content.decode()
    assert "Hello {{ first_name }}" in html  # as typed without a contact
    html = marketer.get(_template_url(template, contact=ada.pk)).content.decode()
    assert "Hello Ada" in html and "Your code: ADA-42" in html and "Thanks Ada" in html
    assert "Hello Ada, code ADA-42" in html  # the fallback SMS too
    html = marketer.get(_template_url(template, contact=bob.pk)).content.decode()
    assert "Empty for this contact: voucher" in html
    # the search box finds contacts
    html = marketer.get(_template_url(template, q="Love")).content.decode()
    assert f"?contact={ada.pk}" in html and f"?contact={bob.pk}" not in html
    found = marketer.get(reverse("campaigns:contact-search"), {"q": "Ada"}).json()
    assert found["results"][0]["id"] == ada.pk
    assert marketer.get(_template_url(template, contact=999999)).status_code == 404


def test_send_preview_masks_secrets_and_shows_the_wire_request(marketer):
    agent = make_agent(
        provider="smspartner",
        credentials={"apiKey": SECRET_MARKER},
        base_url="https://api.smspartner.example",
    )
    ada = make_contact(first_name="Ada", attributes={"voucher": "V-1"})
    template = make_template(PERSONAL)
    send = make_send(template=template, agent=agent)
    send.contacts.add(ada)
    response = marketer.get(reverse("campaigns:send-preview", args=[send.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET_MARKER not in html
    assert "•••" in html
    assert "What SMS Partner will receive" in html
    assert "Hello Ada" in html  # personalized for the first recipient
    assert "https://api.smspartner.example" in html
    assert ada.phone in html


@pytest.mark.parametrize(
    ("provider", "credentials"),
    [
        ("serwersms", {"username": "user1", "password": SECRET_MARKER, "rcs_id": "r1"}),
        ("bsg", {"api_key": SECRET_MARKER}),
        ("aerialink", {"username": "user1", "password": SECRET_MARKER}),
    ],
)
def test_send_preview_masks_every_provider(marketer, provider, credentials):
    agent = make_agent(
        provider=provider, credentials=credentials, base_url="https://p.example", sender_id="Shop"
    )
    send = make_send(agent=agent, template=make_template({"text": "Hello"}))
    html = marketer.get(reverse("campaigns:send-preview", args=[send.pk])).content.decode()
    assert SECRET_MARKER not in html
    assert "Request body" in html or "errornote" in html


def test_send_preview_lists_what_the_provider_cannot_carry(marketer):
    agent = make_agent(provider="bsg", credentials={"api_key": SECRET_MARKER})
    doc = json.loads((FIXTURES / "every_suggestion.json").read_text())
    send = make_send(agent=agent, template=make_template(doc))
    html = marketer.get(reverse("campaigns:send-preview", args=[send.pk])).content.decode()
    assert "BSG cannot carry" in html
    assert "cannot show a &#x27;reply&#x27; suggestion" in html
    assert SECRET_MARKER not in html
    # accepting the offered degradations makes it renderable
    send.degradations = ["drop_suggestions", "move_suggestions_to_card", "trim_suggestions"]
    send.save()
    html = marketer.get(reverse("campaigns:send-preview", args=[send.pk])).content.decode()
    assert "degradation accepted" in html


def test_send_preview_forecast(marketer, monkeypatch):
    agent = make_agent()
    contacts = [make_contact() for _ in range(3)]
    group = make_group(contacts=contacts)
    send = make_send(agent=agent, template=make_template(PERSONAL))
    send.groups.add(group)
    Send.objects.create(
        name="past",
        template=send.template,
        agent=agent,
        status=SendStatus.COMPLETED,
        recipients=100,
        fallback=25,
        cost="8.00",
        currency="EUR",
    )
    monkeypatch.setattr(
        services,
        "send_audience_summary",
        lambda s: {
            "recipients": 40,
            "excluded_suppressed": 3,
            "excluded_invalid": 2,
            "excluded_duplicate": 1,
            "by_country": {"FR": 40},
        },
        raising=False,
    )
    Send.objects.filter(name="past").update(completed_at=send.created_at)
    html = marketer.get(reverse("campaigns:send-preview", args=[send.pk])).content.decode()
    assert "Forecast unavailable" not in html
    for figure in ("40", "recipients", "suppressed", "invalid numbers", "duplicates"):
        assert figure in html
    assert "25 %" in html  # fallback share from the last completed send
    assert "3.20 EUR" in html  # 8.00 / 100 per recipient x 40
    assert "SMS segments per fallback" in html


def test_send_preview_without_the_forecast_service(marketer, monkeypatch):
    monkeypatch.delattr(services, "send_audience_summary", raising=False)
    send = make_send()
    html = marketer.get(reverse("campaigns:send-preview", args=[send.pk])).content.decode()
    assert "Forecast unavailable" in html


def test_preview_model_matches_the_document():
    doc = json.loads((FIXTURES / "card_horizontal.json").read_text())
    model = composer.preview_model(doc)
    assert model["kind"] == "card" and model["horizontal"] is True
    assert composer.preview_model({"text": "x"})["kind"] == "text"
