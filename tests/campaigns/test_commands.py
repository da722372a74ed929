import io

import pytest
from django.core.management import CommandError, call_command

from rcsportal.campaigns.models import Agent, Contact, ContactGroup, Template

pytestmark = pytest.mark.django_db


def _call(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_agent_creates_then_updates_and_never_prints_secrets():
    out = _call(
        "create_agent",
        "--name",
        "FR",
        "--provider",
        "smspartner",
        "--base-url",
        "http://127.0.0.1:8025/smspartner",
        "--credential",
        "apiKey=top-secret-1",
    )
    assert "Created agent 'FR'" in out and "apiKey" in out and "top-secret-1" not in out
    agent = Agent.objects.get(name="FR")
    assert agent.credentials == {"apiKey": "top-secret-1"}
    assert agent.base_url == "http://127.0.0.1:8025/smspartner"

    out = _call(
        "create_agent",
        "--name",
        "FR",
        "--provider",
        "smspartner",
        "--sender",
        "SHOP",
        "--credential",
        "other=2",
    )
    assert "Updated agent 'FR'" in out
    agent.refresh_from_db()
    assert agent.credentials == {"apiKey": "top-secret-1", "other": "2"}
    assert agent.sender_id == "SHOP"
    assert agent.base_url == "http://127.0.0.1:8025/smspartner"  # untouched when not given


def test_create_agent_rejects_unknown_provider_and_bad_credentials():
    with pytest.raises(CommandError, match="Unknown provider"):
        _call("create_agent", "--name", "X", "--provider", "nope")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        _call("create_agent", "--name", "X", "--provider", "bsg", "--credential", "novalue")
    assert not Agent.objects.filter(name="X").exists()


def test_demo_data_is_complete_and_idempotent():
    out = _call("demo_data", "--contacts-per-country", "20")
    assert "login: admin /" in out and "login: marketing /" in out
    counts = (
        Agent.objects.count(),
        Contact.objects.count(),
        ContactGroup.objects.count(),
        Template.objects.count(),
    )
    _call("demo_data", "--contacts-per-country", "20")
    assert (
        Agent.objects.count(),
        Contact.objects.count(),
        ContactGroup.objects.count(),
        Template.objects.count(),
    ) == counts
    assert set(Agent.objects.values_list("provider", flat=True)) == {
        "smspartner",
        "serwersms",
        "bsg",
        "aerialink",
    }
    assert set(Template.objects.values_list("kind", flat=True)) == {
        "text",
        "file",
        "card",
        "carousel",
    }
    assert counts[1] == 80
    for agent in Agent.objects.all():
        assert agent.base_url.endswith("/" + agent.provider)
        assert agent.credentials
