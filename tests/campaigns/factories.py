"""Small builders for test data (plain functions, no factory library)."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from rcsportal.campaigns import roles
from rcsportal.campaigns.models import Agent, Contact, ContactGroup, Membership, Send, Template

_seq = itertools.count(1)

TEXT_CONTENT = {
    "text": "Hello {{ first_name }}",
    "fallback": {"sms": {"text": "Hello {{ first_name }}"}},
}
SECRET_MARKER = "s3cr3t-VALUE-never-rendered-0x5f"


def make_user(username: str, role: str | None = None, *, superuser: bool = False):
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_staff=True, is_superuser=superuser
    )
    if role:
        roles.roles_sync()
        user.groups.add(Group.objects.get(name=role))
    return user


def make_agent(**kw) -> Agent:
    n = next(_seq)
    defaults = {
        "name": f"agent-{n}",
        "provider": "smspartner",
        "credentials": {"apiKey": SECRET_MARKER},
        "base_url": "http://127.0.0.1:9/smspartner",
    }
    defaults.update(kw)
    return Agent.objects.create(**defaults)


def make_contact(phone: str | None = None, **kw) -> Contact:
    n = next(_seq)
    return Contact.objects.create(phone=phone or f"+336{n:08d}", **kw)


def make_group(name: str | None = None, contacts=()) -> ContactGroup:
    group = ContactGroup.objects.create(name=name or f"group-{next(_seq)}")
    Membership.objects.bulk_create([Membership(group=group, contact=c) for c in contacts])
    return group


def make_template(content: dict | None = None, **kw) -> Template:
    return Template.objects.create(
        name=kw.pop("name", f"template-{next(_seq)}"), content=content or TEXT_CONTENT, **kw
    )


def make_send(**kw) -> Send:
    template = kw.pop("template", None) or make_template()
    agent = kw.pop("agent", None) or make_agent()
    return Send.objects.create(
        name=kw.pop("name", f"send-{next(_seq)}"), template=template, agent=agent, **kw
    )
