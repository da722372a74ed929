"""Error shapes: every documented (or agreed) error answer -> the right exception, code and
words; per-recipient refusals; 429 Retry-After; 5xx; timeouts and connection errors."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest

from rcsportal.messaging.exceptions import ProviderRejected, ProviderTemporaryError
from rcsportal.messaging.message import Message
from rcsportal.messaging.providers import PROVIDERS, Recipient
from rcsportal.messaging.providers.serwersms import ERROR_TEXTS as SW_ERRORS
from rcsportal.messaging.providers.smspartner import ERROR_TEXTS as SP_ERRORS

from .helpers import load, make, raw

PHONES = {
    "smspartner": "+33612345678",
    "serwersms": "+48500600700",
    "bsg": "+380661231231",
    "aerialink": "+15559876543",
}


def req_for(key, n=1):
    rs = [Recipient(PHONES[key][:-2] + f"{i:02d}", f"ref{i:04d}") for i in range(n)]
    return make(key).render(Message(text="hello"), rs)[0]


def body(obj):
    return json.dumps(obj).encode()


# ------------------------------------------------------------------ SMS Partner
def test_smspartner_success_splits_cost():
    p = make("smspartner")
    req = req_for("smspartner", 2)
    res = p.parse_response(req, 200, {}, raw("smspartner", "rcs_response.json"))
    assert [r.accepted for r in res] == [True, True]
    assert {r.provider_message_id for r in res} == {"1"}
    assert res[0].cost == Decimal("0.060000") and res[0].currency == "EUR"
    assert [r.reference_id for r in res] == [r.reference_id for r in req.recipients]


def test_smspartner_error_9_with_details():
    p = make("smspartner")
    with pytest.raises(ProviderRejected) as exc:
        p.parse_response(req_for("smspartner"), 200, {}, raw("smspartner", "error_9.json"))
    e = exc.value
    assert e.code == "9" and "constraints" in e.text
    assert len(e.details) == 6
    assert e.details[1] == (
        "children[phoneNumbers].data",
        "This phone number is not valid (922264)",
    )
    assert "[9]" in e.describe()


def test_smspartner_error_key_variant_from_go_sdk():
    with pytest.raises(ProviderRejected) as exc:
        make("smspartner").parse_response(
            req_for("smspartner"), 200, {}, raw("smspartner", "error_9_go_sdk.json")
        )
    assert exc.value.details == [("children[message].data", "Message is required")]


def test_smspartner_error_10_in_words():
    with pytest.raises(ProviderRejected) as exc:
        make("smspartner").parse_response(
            req_for("smspartner"), 200, {}, raw("smspartner", "error_10.json")
        )
    assert exc.value.code == "10" and exc.value.text == "The API key is invalid"
    assert exc.value.details == [("", "Clé API incorrecte")]


@pytest.mark.parametrize("code", sorted(SP_ERRORS, key=int))
def test_smspartner_every_code(code):
    p = make("smspartner")
    data = body({"success": False, "code": int(code), "message": "x"})
    if code == "14":
        (r,) = p.parse_response(req_for("smspartner"), 200, {}, data)
        assert not r.accepted and r.opted_out and r.error_code == "14"
        with pytest.raises(ProviderRejected):
            p.parse_response(req_for("smspartner", 2), 200, {}, data)
        return
    cls = ProviderTemporaryError if code == "500" else ProviderRejected
    with pytest.raises(cls) as exc:
        p.parse_response(req_for("smspartner"), 200, {}, data)
    assert exc.value.code == code and exc.value.text == SP_ERRORS[code]


def test_smspartner_malformed_json_http_400():
    with pytest.raises(ProviderRejected) as exc:
        make("smspartner").parse_response(
            req_for("smspartner"),
            400,
            {},
            body({"success": False, "code": 90, "message": "JSON invalide"}),
        )
    assert exc.value.code == "90" and exc.value.http_status == 400


def test_smspartner_sms_response():
    p = make("smspartner")
    (req,) = p.render_sms("hi", [Recipient("+33612345678", "r01")])
    (r,) = p.parse_response(req, 200, {}, raw("smspartner", "sms_response.json"))
    assert r.accepted and r.provider_message_id == "307" and r.cost == Decimal("0.038000")


# ------------------------------------------------------------------ SerwerSMS
def test_serwersms_details_give_ids():
    (r,) = make("serwersms").parse_response(
        req_for("serwersms"), 200, {}, raw("serwersms", "response_details.json")
    )
    assert r.accepted and r.provider_message_id == "1c142d81c7"


def test_serwersms_without_details():
    (r,) = make("serwersms").parse_response(
        req_for("serwersms"), 200, {}, raw("serwersms", "response.json")
    )
    assert r.accepted and r.provider_message_id == ""


def test_serwersms_unsent_item_is_per_recipient():
    res = make("serwersms").parse_response(
        req_for("serwersms", 2), 200, {}, raw("serwersms", "response_unsent.json")
    )
    assert [r.accepted for r in res] == [True, False]
    assert res[1].error_code == "2001" and res[1].error_text == "Invalid phone number"


@pytest.mark.parametrize("code", sorted(SW_ERRORS))
def test_serwersms_every_code(code):
    data = body({"error": {"code": int(code), "type": "RcsError", "message": "raw message"}})
    with pytest.raises(ProviderRejected) as exc:
        make("serwersms").parse_response(req_for("serwersms"), 200, {}, data)
    assert exc.value.code == code and exc.value.text == SW_ERRORS[code]


def test_serwersms_documented_6300_and_bad_login():
    p = make("serwersms")
    with pytest.raises(ProviderRejected) as exc:
        p.parse_response(req_for("serwersms"), 200, {}, raw("serwersms", "error_6300.json"))
    assert exc.value.code == "6300" and "permission" in exc.value.text
    with pytest.raises(ProviderRejected) as exc:
        p.parse_response(req_for("serwersms"), 200, {}, raw("serwersms", "error_1001.json"))
    assert exc.value.code == "1001" and "password" in exc.value.text


# ------------------------------------------------------------------ BSG
def test_bsg_422_details():
    with pytest.raises(ProviderRejected) as exc:
        make("bsg").parse_response(req_for("bsg"), 422, {}, raw("bsg", "error_422.json"))
    e = exc.value
    assert e.code == "http_422" and "invalid" in e.text
    assert ("sender", "The selected sender is invalid.") in e.details


def test_bsg_reused_reference_means_already_accepted():
    (r,) = make("bsg").parse_response(
        req_for("bsg"), 422, {}, raw("bsg", "error_422_reference_taken.json")
    )
    assert r.accepted and r.error_code == "duplicate_reference_id" and r.provider_message_id == ""


def test_bsg_bad_number_is_per_recipient():
    (r,) = make("bsg").parse_response(req_for("bsg"), 422, {}, raw("bsg", "error_422_phone.json"))
    assert not r.accepted and r.error_code == "invalid_phone" and "15 characters" in r.error_text


def test_bsg_429_duplicate_requests():
    with pytest.raises(ProviderTemporaryError) as exc:
        make("bsg").parse_response(
            req_for("bsg"), 429, {"Retry-After": "3"}, raw("bsg", "error_429.json")
        )
    assert exc.value.retry_after == 3 and "duplicate" in exc.value.text


def test_bsg_refused_at_submission_status():
    data = body(
        {
            "data": {
                "id": 5,
                "status": "not_service_user",
                "amount": {"value": "0", "currency": "UAH"},
            }
        }
    )
    (r,) = make("bsg").parse_response(req_for("bsg"), 200, {}, data)
    assert not r.accepted and r.error_code == "not_service_user" and "RCS" in r.error_text


def test_bsg_login_once_and_relogin_on_401(stub):
    logins = []

    def login(seen):
        logins.append(seen.json)
        return 200, {}, {"bearer": f"tok{len(logins)}"}

    stub.routes[("POST", "/bsg/api/auth/login")] = login
    stub.routes[("POST", "/bsg/api/messages/rcs/send")] = [
        (401, {}, load("bsg", "error_401.json")),
        lambda s: (
            (
                200,
                {},
                {
                    "data": {
                        "id": 7,
                        "status": "accepted",
                        "amount": {"value": "1.1", "currency": "UAH"},
                    }
                },
            )
            if s.headers.get("Authorization") == "Bearer tok2"
            else (401, {}, {"message": "Unauthenticated."})
        ),
    ]
    p = make("bsg", base_url=stub.url + "/bsg")
    (req,) = p.render(Message(text="hi"), [Recipient("+380661231231", "ref1")])
    (r,) = p.send(req)
    assert r.accepted and r.provider_message_id == "7" and r.cost == Decimal("1.1")
    assert logins == [{"api_key": "live_sandboxbsgkey000000"}] * 2
    (r,) = p.send(req)  # cached token, no new login
    assert len(logins) == 2


def test_bsg_persistent_401_is_rejected(stub):
    stub.routes[("POST", "/api/auth/login")] = (200, {}, {"bearer": "t"})
    stub.routes[("POST", "/api/messages/rcs/send")] = (401, {}, {"message": "Unauthenticated."})
    p = make("bsg", base_url=stub.url)
    with pytest.raises(ProviderRejected) as exc:
        p.send(p.render(Message(text="hi"), [Recipient("+380661231231", "ref1")])[0])
    assert exc.value.code == "http_401" and "credentials" in exc.value.text


def test_bsg_bad_api_key(stub):
    stub.routes[("POST", "/api/auth/login")] = (401, {}, {"message": "Unauthenticated."})
    p = make("bsg", base_url=stub.url)
    with pytest.raises(ProviderRejected) as exc:
        p.send(p.render(Message(text="hi"), [Recipient("+380661231231", "ref1")])[0])
    assert "API key" in exc.value.text


# ------------------------------------------------------------------ Aerialink
def test_aerialink_success():
    (r,) = make("aerialink").parse_response(
        req_for("aerialink"), 200, {}, raw("aerialink", "response_success.json")
    )
    assert r.accepted and r.provider_message_id == "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("error_simple.json", ("messageText", "'messageText' is required")),
        (
            "error_choices.json",
            (
                "choices.0.webviewViewMode",
                "When choice type is OPEN_URL, 'webviewViewMode' is required",
            ),
        ),
        ("error_cards.json", ("cards.0.mediaUrl", "'mediaUrl' is required")),
    ],
)
def test_aerialink_400_field_paths(name, first):
    with pytest.raises(ProviderRejected) as exc:
        make("aerialink").parse_response(req_for("aerialink"), 400, {}, raw("aerialink", name))
    assert exc.value.code == "http_400" and exc.value.details[0] == first
    assert "Missing or invalid parameters" in exc.value.text


def test_aerialink_401():
    with pytest.raises(ProviderRejected) as exc:
        make("aerialink").parse_response(
            req_for("aerialink"), 401, {}, raw("aerialink", "error_401.json")
        )
    assert exc.value.code == "http_401" and "username/password" in exc.value.text


def test_aerialink_bad_destination_is_per_recipient():
    data = body(
        {
            "status": "error",
            "message": "Missing or invalid parameters in body",
            "data": [
                {"field": "destination", "description": "destination", "message": "invalid number"}
            ],
        }
    )
    (r,) = make("aerialink").parse_response(req_for("aerialink"), 400, {}, data)
    assert not r.accepted and "invalid number" in r.error_text


# ------------------------------------------------------------------ every provider: transport
@pytest.mark.parametrize("key", list(PROVIDERS))
def test_429_retry_after_seconds_and_date(key):
    p = make(key)
    with pytest.raises(ProviderTemporaryError) as exc:
        p.parse_response(req_for(key), 429, {"Retry-After": "7"}, b"")
    assert exc.value.retry_after == 7 and exc.value.code == "http_429"
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    with pytest.raises(ProviderTemporaryError) as exc:
        p.parse_response(req_for(key), 429, {"retry-after": when}, b"{}")
    assert 50 < exc.value.retry_after <= 60


@pytest.mark.parametrize("key", list(PROVIDERS))
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_temporary(key, status):
    with pytest.raises(ProviderTemporaryError) as exc:
        make(key).parse_response(req_for(key), status, {}, b"<html>oops</html>")
    assert exc.value.code == f"http_{status}" and exc.value.retry_after is None


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_non_json_success_is_rejected(key):
    with pytest.raises(ProviderRejected):
        make(key).parse_response(req_for(key), 200, {}, b"<html>hello</html>")


def _bsg_login(stub):
    stub.routes[("POST", "/api/auth/login")] = (200, {}, {"bearer": "t"})


SEND_PATHS = {
    "smspartner": "/v1/rcs/send",
    "serwersms": "/messages/send_rcs.json",
    "bsg": "/api/messages/rcs/send",
    "aerialink": "/v5/messages",
}


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_timeout_is_temporary(key, stub):
    _bsg_login(stub)
    p = make(key, base_url=stub.url, timeout=0.2)
    req = p.render(Message(text="hi"), [Recipient(PHONES[key], "ref1")])[0]
    for where in ("_sleep_before", "_sleep"):  # no answer at all / body stalls
        stub.routes[("POST", SEND_PATHS[key])] = (200, {where: "0.8"}, {})
        with pytest.raises(ProviderTemporaryError) as exc:
            p.send(req)
        assert exc.value.code == "timeout" and "0.2 s" in exc.value.text
        assert exc.value.ambiguous  # the request went out: reconcile, never re-send blindly


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_connection_refused_is_temporary(key):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    p = make(key, base_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ProviderTemporaryError) as exc:
        p.send(p.render(Message(text="hi"), [Recipient(PHONES[key], "ref1")])[0])
    assert exc.value.code == "connection_error"
    assert not exc.value.ambiguous  # nothing was sent: safe to retry


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_send_over_http_with_503_and_retry_after(key, stub):
    _bsg_login(stub)
    stub.routes[("POST", SEND_PATHS[key])] = (503, {"Retry-After": "30"}, b"busy")
    p = make(key, base_url=stub.url)
    with pytest.raises(ProviderTemporaryError) as exc:
        p.send(p.render(Message(text="hi"), [Recipient(PHONES[key], "ref1")])[0])
    assert exc.value.http_status == 503 and exc.value.retry_after == 30


def test_send_paths_and_auth_over_http(stub):
    """Base URL override keeps its path prefix; credentials travel as documented."""
    stub.routes[("POST", "/sp/v1/rcs/send")] = (200, {}, load("smspartner", "rcs_response.json"))
    stub.routes[("POST", "/sw/messages/send_rcs.json")] = (
        200,
        {},
        load("serwersms", "response_details.json"),
    )
    stub.routes[("POST", "/al/v5/messages")] = (200, {}, load("aerialink", "response_success.json"))
    m = Message(text="hi")
    p = make("smspartner", base_url=stub.url + "/sp/")
    assert p.send(p.render(m, [Recipient("+33612345678", "r1")])[0])[0].accepted
    assert stub.requests[-1].json["apiKey"] == "sandbox-smspartner-key"
    p = make("serwersms", base_url=stub.url + "/sw", credentials={"api_token": "tok"})
    assert (
        p.send(p.render(m, [Recipient("+48500600700", "r1")])[0])[0].provider_message_id
        == "1c142d81c7"
    )
    assert stub.requests[-1].headers["Authorization"] == "Bearer tok"
    p = make("aerialink", base_url=stub.url + "/al")
    assert p.send(p.render(m, [Recipient("+15559876543", "r1")])[0])[0].accepted
    assert stub.requests[-1].headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("key", list(PROVIDERS))
@pytest.mark.parametrize(
    "body", [b"<html>Bad gateway</html>", [1, 2]], ids=["not-json", "json-list"]
)
def test_a_body_that_is_not_a_json_object_is_refused_in_words(key, stub, body):
    _bsg_login(stub)
    p = make(key, base_url=stub.url, timeout=2)
    stub.routes[("POST", SEND_PATHS[key])] = (200, {}, body)
    with pytest.raises(ProviderRejected) as exc:
        p.send(p.render(Message(text="hi"), [Recipient(PHONES[key], "ref1")])[0])
    assert exc.value.code == "http_200"
    assert p.display_name in exc.value.text and (
        "not JSON" in exc.value.text or "unexpected body" in exc.value.text
    )
