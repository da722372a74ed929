"""The role matrix: what Marketing and Administrators can and cannot do in the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from rcsportal.campaigns import roles
from rcsportal.campaigns.models import Agent, Contact, Send, SendStatus

from .factories import SECRET_MARKER, make_agent, make_send, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing_client():
    client = Client()
    client.force_login(make_user("mkt", roles.MARKETING))
    return client


@pytest.fixture
def administrator_client():
    client = Client()
    client.force_login(make_user("boss", roles.ADMINISTRATORS))
    return client


def test_roles_exist_after_migrate():
    from django.contrib.auth.models import Group

    marketing = Group.objects.get(name=roles.MARKETING)
    codenames = set(marketing.permissions.values_list("codename", flat=True))
    assert {"add_contact", "change_template", "add_send", "view_agent"} <= codenames
    assert not {"add_agent", "change_agent", "delete_agent", "change_delivery"} & codenames
    assert (
        Group.objects.get(name=roles.ADMINISTRATORS)
        .permissions.filter(codename="change_agent")
        .exists()
    )


def test_marketing_can_add_contacts(marketing_client):
    response = marketing_client.post(
        reverse("admin:campaigns_contact_add"),
        {
            "phone": "+33612345678",
            "consent_status": "granted",
            "attributes": "{}",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Contact.objects.filter(phone="+33612345678").exists()


def test_marketing_cannot_add_or_change_agents(marketing_client):
    agent = make_agent()
    assert marketing_client.get(reverse("admin:campaigns_agent_add")).status_code == 403
    response = marketing_client.post(
        reverse("admin:campaigns_agent_change", args=[agent.pk]),
        {"name": "hacked", "provider": "bsg"},
    )
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.name != "hacked"


def test_marketing_sees_agent_without_credentials_or_key_names(marketing_client):
    agent = make_agent(credentials={"apiKey": SECRET_MARKER})
    html = marketing_client.get(
        reverse("admin:campaigns_agent_change", args=[agent.pk])
    ).content.decode()
    assert agent.name in html
    assert SECRET_MARKER not in html
    assert "apiKey" not in html
    assert agent.webhook_token not in html


def test_marketing_cannot_manage_users(marketing_client):
    assert marketing_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_marketing_can_delete_draft_send_but_not_one_that_ran(marketing_client):
    draft = make_send()
    ran = make_send(status=SendStatus.COMPLETED)
    assert (
        marketing_client.get(reverse("admin:campaigns_send_delete", args=[ran.pk])).status_code
        == 403
    )
    assert (
        marketing_client.post(
            reverse("admin:campaigns_send_delete", args=[ran.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Send.objects.filter(pk=ran.pk).exists()
    response = marketing_client.post(
        reverse("admin:campaigns_send_delete", args=[draft.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Send.objects.filter(pk=draft.pk).exists()


def test_administrators_can_delete_a_send_that_ran(administrator_client):
    ran = make_send(status=SendStatus.COMPLETED)
    response = administrator_client.post(
        reverse("admin:campaigns_send_delete", args=[ran.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Send.objects.filter(pk=ran.pk).exists()


def test_administrators_configure_agents_with_write_only_credentials(administrator_client):
    response = administrator_client.post(
        reverse("admin:campaigns_agent_add"),
        {
            "name": "Paris",
            "provider": "smspartner",
            "sender_id": "",
            "base_url": "",
            "fallback_sms_sender": "",
            "webhook_allowed_ips": "",
            "rate_per_second": "20",
            "is_active": "on",
            "credentials_update": f"apiKey={SECRET_MARKER}",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    agent = Agent.objects.get(name="Paris")
    assert agent.credentials == {"apiKey": SECRET_MARKER}
    html = administrator_client.get(
        reverse("admin:campaigns_agent_change", args=[agent.pk])
    ).content.decode()
    assert "apiKey" in html  # the key name, so admins know what is set
    assert SECRET_MARKER not in html

    # Saving again with an empty credentials box keeps the stored value.
    data = {
        "name": "Paris",
        "provider": "smspartner",
        "sender_id": "",
        "base_url": "",
        "fallback_sms_sender": "",
        "webhook_allowed_ips": "",
        "rate_per_second": "20",
        "is_active": "on",
        "credentials_update": "",
    }
    administrator_client.post(reverse("admin:campaigns_agent_change", args=[agent.pk]), data)
    agent.refresh_from_db()
    assert agent.credentials == {"apiKey": SECRET_MARKER}


def test_credentials_are_not_echoed_after_a_validation_error(administrator_client):
    response = administrator_client.post(
        reverse("admin:campaigns_agent_add"),
        {
            "name": "",
            "provider": "smspartner",
            "rate_per_second": "20",
            "credentials_update": f"apiKey={SECRET_MARKER}",
        },
    )
    assert response.status_code == 200
    assert SECRET_MARKER not in response.content.decode()
