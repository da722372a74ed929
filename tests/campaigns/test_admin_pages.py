"""Every admin page renders, never shows a secret, and never counts big tables in full."""

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rcsportal.campaigns import roles
from rcsportal.campaigns.models import (
    ContactImport,
    Delivery,
    DeliveryEvent,
    InboundMessage,
    QuietHoursRule,
    StopKeyword,
    Suppression,
    WebhookCall,
)

from .factories import SECRET_MARKER, make_agent, make_contact, make_group, make_send, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated():
    agent = make_agent(credentials={"apiKey": SECRET_MARKER, "password": SECRET_MARKER})
    contact = make_contact(first_name="Ada")
    make_group(contacts=[contact])
    send = make_send(agent=agent)
    delivery = Delivery.objects.create(
        send=send, contact=contact, phone=contact.phone, reference_id="r1"
    )
    DeliveryEvent.objects.create(delivery=delivery, agent=agent, type="delivered")
    InboundMessage.objects.create(
        agent=agent, contact=contact, delivery=delivery, phone=contact.phone, kind="text", text="hi"
    )
    Suppression.objects.create(phone="+33700000001")
    StopKeyword.objects.create(keyword="STOPTEST")
    QuietHoursRule.objects.get_or_create(
        country="DE", defaults={"timezone": "Europe/Berlin", "start": "08:00", "end": "20:00"}
    )
    WebhookCall.objects.create(provider="bsg", agent=agent, body="{}")
    ContactImport.objects.create(file="imports/x.csv", original_name="x.csv")
    return agent


def _campaign_models():
    return [m for m in admin.site._registry if m._meta.app_label == "campaigns"]


def _pages(model):
    opts = model._meta
    yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if admin.site._registry[model].has_add_permission(_FakeRequest()):
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    obj = model.objects.first()
    if obj is not None:
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


class _FakeRequest:
    class user:  # noqa: N801 - a stand-in superuser for has_add_permission
        is_superuser = True
        is_active = True

        @staticmethod
        def has_perm(perm, obj=None):
            return True


@pytest.mark.parametrize("role", ["superuser", roles.ADMINISTRATORS, roles.MARKETING])
def test_every_admin_page_renders_without_secrets(populated, role):
    user = make_user(
        f"u-{role}".lower(), None if role == "superuser" else role, superuser=role == "superuser"
    )
    client = Client()
    client.force_login(user)
    seen = 0
    for model in _campaign_models():
        for url in _pages(model):
            response = client.get(url)
            if role == roles.MARKETING and response.status_code == 403:
                continue
            assert response.status_code == 200, (url, response.status_code)
            assert SECRET_MARKER not in response.content.decode(), url
            seen += 1
    assert seen >= 20


_FULL_COUNT = re.compile(
    r'SELECT COUNT\(\*\) AS "__count" FROM "campaigns_(contact|delivery)"', re.IGNORECASE
)


@pytest.mark.parametrize(
    ("model_name", "query"),
    [
        ("contact", ""),
        ("contact", "?consent_status__exact=granted"),
        ("contact", "?q=%2B33600000001"),
        ("delivery", ""),
        ("delivery", "?status__exact=pending"),
        ("delivery", "?q=%2B33600000001"),
    ],
)
def test_big_changelists_never_count_the_whole_table(populated, admin_client, model_name, query):
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse(f"admin:campaigns_{model_name}_changelist") + query)
    assert response.status_code == 200
    full_counts = [q["sql"] for q in ctx.captured_queries if _FULL_COUNT.search(q["sql"])]
    assert full_counts == [], full_counts


def test_group_members_inline_is_paginated(admin_client):
    contacts = [make_contact() for _ in range(30)]
    group = make_group(contacts=contacts)
    url = reverse("admin:campaigns_contactgroup_change", args=[group.pk])
    first = admin_client.get(url).content.decode()
    second = admin_client.get(url + "?memberships-page=2").content.decode()
    shown = re.compile(r'name="memberships-\d+-contact" value="(\d+)"')
    first_ids = {int(pk) for pk in shown.findall(first)}
    second_ids = {int(pk) for pk in shown.findall(second)}
    assert len(first_ids) == 25 and len(second_ids) == 5
    assert contacts[-1].pk in first_ids  # newest first
    assert contacts[0].pk in second_ids and not first_ids & second_ids
