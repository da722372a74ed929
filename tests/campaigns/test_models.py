import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rcsportal.campaigns.models import (
    Contact,
    Delivery,
    Membership,
    MessageKind,
    Suppression,
    kind_of,
)

from .factories import make_agent, make_contact, make_group, make_send, make_template

pytestmark = pytest.mark.django_db


def test_contact_phone_is_unique():
    make_contact("+33612345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(phone="+33612345678")


@pytest.mark.parametrize(
    "phone", ["0612345678", "+0612345678", "33612345678", "+33 6 12 34 56 78", "+3361234567890123"]
)
def test_contact_phone_must_be_e164(phone):
    with pytest.raises(ValidationError) as excinfo:
        Contact(phone=phone).full_clean()
    assert "phone" in excinfo.value.message_dict


def test_membership_is_unique_per_group_and_contact():
    contact = make_contact()
    group = make_group(contacts=[contact])
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(group=group, contact=contact)


def test_one_delivery_per_send_and_phone():
    send = make_send()
    Delivery.objects.create(send=send, phone="+33612345678", reference_id="ref1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(send=send, phone="+33612345678", reference_id="ref2")


def test_delivery_reference_id_is_globally_unique():
    Delivery.objects.create(send=make_send(), phone="+33612345678", reference_id="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(send=make_send(), phone="+33612345679", reference_id="same")


def test_suppression_phone_is_unique():
    Suppression.objects.create(phone="+33612345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        Suppression.objects.create(phone="+33612345678")


def test_agent_name_unique_and_webhook_tokens_differ():
    first = make_agent(name="one")
    second = make_agent(name="two")
    assert first.webhook_token != second.webhook_token
    assert len(first.webhook_token) >= 32
    with pytest.raises(IntegrityError), transaction.atomic():
        make_agent(name="one")


def test_agent_webhook_url_fits_bsg_callback_limit(settings):
    settings.PUBLIC_BASE_URL = "https://rcs.example.com"
    agent = make_agent(provider="bsg")
    url = agent.webhook_url()
    assert url.startswith("https://rcs.example.com/webhooks/bsg/")
    assert len(url) <= 100


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"text": "hi"}, MessageKind.TEXT),
        ({"contentInfo": {"fileUrl": "https://x/y.pdf"}}, MessageKind.FILE),
        ({"richCard": {"standaloneCard": {"cardContent": {"title": "t"}}}}, MessageKind.CARD),
        ({"richCard": {"carouselCard": {"cardContents": []}}}, MessageKind.CAROUSEL),
    ],
)
def test_template_kind_follows_content(content, kind):
    assert kind_of(content) == kind
    assert make_template(content=content).kind == kind


def test_send_content_prefers_snapshot_then_override_then_template():
    template = make_template(content={"text": "template"})
    send = make_send(template=template)
    assert send.content == {"text": "template"}
    send.content_override = {"text": "override"}
    assert send.content == {"text": "override"}
    send.content_snapshot = {"text": "snapshot"}
    assert send.content == {"text": "snapshot"}


def test_contact_placeholder_fields_merge_attributes_and_columns():
    contact = make_contact(first_name="Léa", attributes={"points": 12, "first_name": "ignored"})
    fields = contact.placeholder_fields()
    assert fields["first_name"] == "Léa"
    assert fields["points"] == 12
