"""CSV export of contacts and deliveries: filters respected, formulas neutralized,
phone numbers kept as E.164, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin import helpers
from django.http import StreamingHttpResponse
from django.urls import reverse

from rcsportal.campaigns import roles
from rcsportal.campaigns.models import Delivery

from .factories import make_contact, make_group, make_send, make_user

pytestmark = pytest.mark.django_db


def read(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def contacts():
    evil = make_contact(
        "+33612340001",
        first_name='=HYPERLINK("http://x")',
        last_name="@SUM(A1)",
        country="FR",
        attributes={"note": "+cmd"},
    )
    plain = make_contact("+33612340002", first_name="Ada", last_name="-Lovelace", country="FR")
    other = make_contact("+48512345678", first_name="Jan", country="PL")
    make_group("Export", contacts=[evil, other])
    return evil, plain, other


def test_export_all_matching_respects_filters_and_search(admin_client, contacts):
    url = reverse("admin:campaigns_contact_export")
    rows = read(admin_client.get(url + "?country__exact=FR"))
    assert rows[0][:3] == ["phone", "first_name", "last_name"]
    assert sorted(r[0] for r in rows[1:]) == ["+33612340001", "+33612340002"]
    by_phone = {r[0]: r for r in rows[1:]}
    assert by_phone["+33612340001"][1] == '\'=HYPERLINK("http://x")'
    assert by_phone["+33612340001"][2] == "'@SUM(A1)"
    assert by_phone["+33612340002"][2] == "'-Lovelace"
    assert by_phone["+33612340001"][9] == '{"note": "+cmd"}'

    group = contacts[0].groups.get()
    rows = read(admin_client.get(url + f"?groups__id__exact={group.pk}"))
    assert sorted(r[0] for r in rows[1:]) == ["+33612340001", "+48512345678"]
    rows = read(admin_client.get(url + "?q=%2B48512345678"))
    assert [r[0] for r in rows[1:]] == ["+48512345678"]


def test_changelist_has_the_export_link_with_current_filters(admin_client, contacts):
    html = admin_client.get(
        reverse("admin:campaigns_contact_changelist") + "?country__exact=FR"
    ).content.decode()
    assert reverse("admin:campaigns_contact_export") + "?country__exact=FR" in html


def test_export_selected_action(admin_client, contacts):
    evil, plain, _ = contacts
    response = admin_client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "export_selected_csv", helpers.ACTION_CHECKBOX_NAME: [evil.pk, plain.pk]},
    )
    rows = read(response)
    assert sorted(r[0] for r in rows[1:]) == ["+33612340001", "+33612340002"]


def test_invalid_filters_redirect_with_a_message(admin_client, contacts):
    response = admin_client.get(reverse("admin:campaigns_contact_export") + "?nope__exact=1")
    assert response.status_code == 302


def test_deliveries_export_for_marketing(client, contacts):
    send = make_send(name="=Promo")
    other = make_send(name="Other")
    Delivery.objects.create(
        send=send, phone="+33612340001", reference_id="r1", status="sent", error_text="-ERR"
    )
    Delivery.objects.create(send=other, phone="+33612340002", reference_id="r2", status="failed")
    client.force_login(make_user("m", roles.MARKETING))
    changelist = client.get(reverse("admin:campaigns_delivery_changelist"))
    assert reverse("admin:campaigns_delivery_export").encode() in changelist.content
    rows = read(client.get(reverse("admin:campaigns_delivery_export") + "?status__exact=sent"))
    assert rows[0][:3] == ["phone", "send", "status"]
    assert rows[1][:4] == ["+33612340001", "'=Promo", "sent", "r1"]
    assert rows[1][6] == "'-ERR"
    assert len(rows) == 2
    response = client.post(
        reverse("admin:campaigns_delivery_changelist"),
        {
            "action": "export_selected_csv",
            helpers.ACTION_CHECKBOX_NAME: list(Delivery.objects.values_list("pk", flat=True)),
        },
    )
    assert len(read(response)) == 3


def test_export_needs_view_permission(client, contacts):
    client.force_login(make_user("nobody"))
    assert client.get(reverse("admin:campaigns_contact_export")).status_code == 403
