"""Webhooks: each documented / agreed callback body -> normalized events; refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rcsportal.messaging.events import DeliveryEvent, EventType, InboundEvent, InboundKind
from rcsportal.messaging.exceptions import WebhookRejected
from rcsportal.messaging.providers import PROVIDERS

from .helpers import make, raw

SW_IP = "94.152.153.158"


def parse(key, name, path_kind="", **cfg):
    return make(key, **cfg).parse_webhook(path_kind=path_kind, headers={}, body=raw(key, name))


# ------------------------------------------------------------------ SMS Partner
def test_smspartner_dlr_rcs():
    (e,) = parse("smspartner", "webhook_dlr_rcs.json", "status")
    assert isinstance(e, DeliveryEvent)
    assert (e.type, e.provider_message_id, e.phone) == (EventType.DELIVERED, "123", "+33612345678")
    assert e.occurred_at == datetime(2025, 1, 25, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert e.cost == Decimal("0.12") and e.currency == "EUR" and e.fallback_channel == ""


def test_smspartner_dlr_failover_sms():
    (e,) = parse("smspartner", "webhook_dlr_sms.json", "status")
    assert e.type == EventType.FALLBACK_DELIVERED and e.fallback_channel == "sms"


@pytest.mark.parametrize(
    ("statut", "channel", "expected"),
    [
        ("Waiting", "rcs", EventType.SENT),
        ("Read", "rcs", EventType.READ),
        ("Not delivered", "rcs", EventType.FAILED),
        ("Expired", "rcs", EventType.EXPIRED),
        ("Waiting", "sms", EventType.FALLBACK_SENT),
        ("Not delivered", "sms", EventType.FALLBACK_FAILED),
        ("Something new", "rcs", EventType.UNKNOWN),
    ],
)
def test_smspartner_status_vocabulary(statut, channel, expected):
    body = (
        f'{{"messageId": "9", "phoneNumber": "0612345678", "statut": "{statut}", "channel": "{channel}", '
        '"date": "2025-01-25 09:00:00"}'
    ).encode()
    (e,) = make("smspartner").parse_webhook(path_kind="status", headers={}, body=body)
    assert e.type == expected and e.phone == "+33612345678"


def test_smspartner_stop_sms_flag_is_opt_out():
    body = b'{"messageId": "9", "phoneNumber": "+33612345678", "statut": "Not delivered", "stopSms": true}'
    (e,) = make("smspartner").parse_webhook(path_kind="status", headers={}, body=body)
    assert e.opted_out


def test_smspartner_reply_and_postback():
    (e,) = parse("smspartner", "webhook_reply.json", "inbound")
    assert isinstance(e, InboundEvent)
    assert (e.kind, e.phone, e.text, e.in_reply_to_message_id) == (
        InboundKind.TEXT,
        "+33612345678",
        "STOP",
        "123",
    )
    (e,) = parse("smspartner", "webhook_postback.json", "inbound")
    assert (e.kind, e.postback_data, e.text) == (
        InboundKind.REPLY,
        "postback_data_1234",
        "Réponse 2",
    )


def test_smspartner_long_number_reply_as_form():
    body = b"msisdn=33612345678&to=33700000000&messageId=abc&text=Bonjour&type=text&keyword=BONJOUR&message-timestamp=2025-01-25+09%3A00%3A00"
    (e,) = make("smspartner").parse_webhook(path_kind="inbound", headers={}, body=body)
    assert (e.kind, e.phone, e.text, e.provider_message_id) == (
        InboundKind.TEXT,
        "+33612345678",
        "Bonjour",
        "abc",
    )


def test_smspartner_one_url_detects_the_shape():
    assert isinstance(parse("smspartner", "webhook_dlr_rcs.json")[0], DeliveryEvent)
    assert isinstance(parse("smspartner", "webhook_reply.json")[0], InboundEvent)


# ------------------------------------------------------------------ SerwerSMS
def test_serwersms_report_displayed_is_read():
    (e,) = parse("serwersms", "webhook_report.json")
    assert (e.type, e.provider_message_id, e.phone) == (EventType.READ, "7HydhfmN", "+48100100100")
    assert e.occurred_at == datetime(2022, 5, 4, 16, 55, 45, tzinfo=ZoneInfo("Europe/Warsaw"))


def test_serwersms_reply_action_message_base64():
    (e,) = parse("serwersms", "webhook_reply.json")
    assert (e.kind, e.text, e.postback_data, e.provider_message_id) == (
        InboundKind.REPLY,
        "Service",
        "my_service",
        "Mx1j==djUhfjHfkghNfhg",
    )
    (e,) = parse("serwersms", "webhook_action.json")
    assert (e.kind, e.text, e.postback_data) == (InboundKind.ACTION, "Open website", "my_url")
    (e,) = parse("serwersms", "webhook_message.json")
    assert (e.kind, e.text, e.postback_data) == (InboundKind.TEXT, "Text message", "")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", EventType.SENT),
        ("delivered", EventType.DELIVERED),
        ("undelivered", EventType.FAILED),
        ("expired", EventType.EXPIRED),
        ("mystery", EventType.UNKNOWN),
    ],
)
def test_serwersms_report_vocabulary(status, expected):
    body = (
        f'[{{"type":"report","status":"{status}","smsid":"a1","phone":"+48100100100","date":"2022-05-04 16:55:45"}}]'
    ).encode()
    (e,) = make("serwersms").parse_webhook(path_kind="", headers={}, body=body)
    assert e.type == expected


def test_serwersms_ip_allow_list():
    p = make("serwersms")
    body = raw("serwersms", "webhook_report.json")
    p.verify_webhook(path_kind="", headers={}, body=body, remote_addr=SW_IP)
    with pytest.raises(WebhookRejected) as exc:
        p.verify_webhook(path_kind="", headers={}, body=body, remote_addr="203.0.113.9")
    assert exc.value.status_code == 403 and SW_IP in exc.value.reason
    sandbox = make("serwersms", allowed_webhook_ips=("127.0.0.1",))
    sandbox.verify_webhook(path_kind="", headers={}, body=body, remote_addr="127.0.0.1")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"type": "report"}',  # must be an array
        b"[]",
        b'[{"type":"message","text":"%%%not-base64","phone":"+48100100100"}]',
        b'[{"type":"report","status":"delivered","phone":"+48100100100"}]',  # no smsid
        b'[{"type":"weird","phone":"+48100100100"}]',
        b"[1, 2]",
    ],
)
def test_serwersms_malformed(body):
    p = make("serwersms")
    with pytest.raises(WebhookRejected) as exc:
        p.verify_webhook(path_kind="", headers={}, body=body, remote_addr=SW_IP)
    assert exc.value.status_code == 400


# ------------------------------------------------------------------ BSG
def test_bsg_status_callback():
    (e,) = parse("bsg", "callback_status.json")
    assert (e.type, e.provider_message_id, e.reference_id, e.phone) == (
        EventType.DELIVERED,
        "3272625618",
        "f2d3a1b2c3",
        "+380661231231",
    )
    assert e.cost == Decimal("0.1000000") and e.currency == "EUR" and e.error_code == ""
    assert e.occurred_at == datetime(2025, 4, 14, 10, 56, 12, tzinfo=ZoneInfo("Europe/Kyiv"))


def test_bsg_fallback_channel_and_stop_list():
    (e,) = parse("bsg", "callback_status_sms.json")
    assert e.type == EventType.FALLBACK_DELIVERED and e.fallback_channel == "sms"
    (e,) = parse("bsg", "callback_status_failed.json")
    assert e.type == EventType.FAILED and e.opted_out and e.error_code == "1"
    assert "stop list" in e.error_text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("accepted", EventType.ACCEPTED),
        ("sent", EventType.SENT),
        ("read", EventType.READ),
        ("undelivered", EventType.FAILED),
        ("expired", EventType.EXPIRED),
        ("not_service_user", EventType.FAILED),
    ],
)
def test_bsg_status_vocabulary(status, expected):
    body = (
        f'{{"id": "1", "msisdn": "380661231231", "reference": "r1", "status": "{status}"}}'
    ).encode()
    (e,) = make("bsg").parse_webhook(path_kind="", headers={}, body=body)
    assert e.type == expected


def test_bsg_click_callback():
    (e,) = parse("bsg", "callback_click.json")
    assert (e.kind, e.phone, e.text, e.postback_data, e.in_reply_to_message_id) == (
        InboundKind.ACTION,
        "+380661231231",
        "Go to site",
        "click",
        "3272625618",
    )


@pytest.mark.parametrize(
    "body", [b"", b"[", b'{"hello": 1}', b'{"status": 3, "id": "1"}', b'{"status": "sent"}']
)
def test_bsg_malformed(body):
    with pytest.raises(WebhookRejected) as exc:
        make("bsg").verify_webhook(path_kind="", headers={}, body=body, remote_addr="198.51.100.1")
    assert exc.value.status_code == 400


# ------------------------------------------------------------------ Aerialink
def test_aerialink_status_and_failover():
    (e,) = parse("aerialink", "callback_status.json")
    assert (e.type, e.provider_message_id, e.phone) == (
        EventType.DELIVERED,
        "550e8400-e29b-41d4-a716-446655440000",
        "+15559876543",
    )
    assert e.occurred_at == datetime(2030, 3, 3, 15, 0, tzinfo=UTC)
    (e,) = parse("aerialink", "callback_status_sms.json")
    assert e.type == EventType.FALLBACK_SENT and e.fallback_channel == "sms"


def test_aerialink_inbound():
    (e,) = parse("aerialink", "callback_mo.json")
    assert (e.kind, e.phone, e.text, e.in_reply_to_message_id) == (
        InboundKind.TEXT,
        "+15559876548",
        "STOP",
        "550e8400-e29b-41d4-a716-446655440000",
    )
    (e,) = parse("aerialink", "callback_postback.json")
    assert (e.kind, e.postback_data, e.text) == (InboundKind.REPLY, "yes_response", "Yes")


@pytest.mark.parametrize(
    ("status", "channel", "expected"),
    [
        ("QUEUED", "RCS", EventType.ACCEPTED),
        ("SUCCESS", "RCS", EventType.SENT),
        ("READ", "RCS", EventType.READ),
        ("FAIL", "RCS", EventType.FAILED),
        ("BLOCKED", "RCS", EventType.FAILED),
        ("EXPIRED", "RCS", EventType.EXPIRED),
        ("DELIVERED", "MMS", EventType.FALLBACK_DELIVERED),
        ("FAIL", "SMS", EventType.FALLBACK_FAILED),
    ],
)
def test_aerialink_status_vocabulary(status, channel, expected):
    body = (
        f'{{"messageGUID": "g", "destination": "15559876543", "status": "{status}", "channel": "{channel}"}}'
    ).encode()
    (e,) = make("aerialink").parse_webhook(path_kind="", headers={}, body=body)
    assert e.type == expected


@pytest.mark.parametrize("body", [b"nope", b'{"status": "DELIVERED"}', b'{"type": "MO"}', b"[]"])
def test_aerialink_malformed(body):
    with pytest.raises(WebhookRejected) as exc:
        make("aerialink").verify_webhook(
            path_kind="", headers={}, body=body, remote_addr="198.51.100.1"
        )
    assert exc.value.status_code == 400


# ------------------------------------------------------------------ all
@pytest.mark.parametrize("key", list(PROVIDERS))
def test_unknown_path_kind_is_refused(key):
    with pytest.raises(WebhookRejected) as exc:
        make(key, allowed_webhook_ips=()).verify_webhook(
            path_kind="bogus", headers={}, body=b"{}", remote_addr="127.0.0.1"
        )
    assert exc.value.status_code == 400


@pytest.mark.parametrize("key", ["smspartner", "bsg", "aerialink"])
def test_configured_allow_list_applies_to_every_provider(key):
    with pytest.raises(WebhookRejected) as exc:
        make(key, allowed_webhook_ips=("10.0.0.1",)).verify_webhook(
            path_kind="", headers={}, body=b"{}", remote_addr="10.0.0.2"
        )
    assert exc.value.status_code == 403
