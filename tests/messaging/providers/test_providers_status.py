"""fetch_status against a local stub server (SMS Partner, SerwerSMS, BSG); Aerialink has none."""

from __future__ import annotations

from decimal import Decimal

from rcsportal.messaging.events import EventType
from rcsportal.messaging.providers import StatusQuery

from .helpers import load, make


def test_smspartner_multi_status(stub):
    stub.routes[("POST", "/sp/v1/multi-status")] = (
        200,
        {},
        load("smspartner", "multi_status_response.json"),
    )
    p = make("smspartner", base_url=stub.url + "/sp")
    qs = [
        StatusQuery("ref1", "+33612345671", "111"),
        StatusQuery("ref2", "+33612345672", "111"),
        StatusQuery("ref3", "+33612345673", "111"),
        StatusQuery("ref4", "+33612345674", ""),  # never accepted: nothing to ask
    ]
    events = p.fetch_status(qs)
    (seen,) = stub.requests
    assert seen.json == {
        "apiKey": "sandbox-smspartner-key",
        "SMSStatut_List": [
            {"phoneNumber": "+33612345671", "messageId": "111"},
            {"phoneNumber": "+33612345672", "messageId": "111"},
            {"phoneNumber": "+33612345673", "messageId": "111"},
        ],
    }
    assert [(e.reference_id, e.type) for e in events] == [
        ("ref1", EventType.DELIVERED),
        ("ref2", EventType.FAILED),
        ("ref3", EventType.UNKNOWN),
    ]
    assert events[1].opted_out and events[1].phone == "+33612345672"
    assert events[2].error_code == "4"
    assert events[0].occurred_at.timestamp() == 1517934416


def test_smspartner_status_batches_of_500(stub):
    stub.routes[("POST", "/v1/multi-status")] = (
        200,
        {},
        {"success": True, "code": 200, "StatutResponse_List": []},
    )
    p = make("smspartner", base_url=stub.url)
    p.fetch_status([StatusQuery(f"r{i}", f"+336{i:08d}", str(i)) for i in range(1001)])
    assert [len(s.json["SMSStatut_List"]) for s in stub.requests] == [500, 500, 1]


def test_serwersms_reports(stub):
    stub.routes[("POST", "/messages/reports.json")] = (
        200,
        {},
        load("serwersms", "reports_response.json"),
    )
    p = make("serwersms", base_url=stub.url)
    events = p.fetch_status(
        [StatusQuery("ref0001", "+48500600700"), StatusQuery("ref0002", "+48500600701")]
    )
    (seen,) = stub.requests
    assert seen.json["unique_id"] == ["ref0001", "ref0002"] and seen.json["username"] == "sandbox"
    assert [(e.reference_id, e.type, e.provider_message_id) for e in events] == [
        ("ref0001", EventType.DELIVERED, "1c142d81c7"),
        ("ref0002", EventType.FAILED, "1c142d81c8"),
    ]
    assert events[1].opted_out and events[1].error_code == "number_is_blacklisted"


def test_bsg_messages_by_reference(stub):
    stub.routes[("POST", "/api/auth/login")] = (200, {}, {"bearer": "tok"})
    stub.routes[("GET", "/api/messages")] = (200, {}, load("bsg", "messages_response.json"))
    p = make("bsg", base_url=stub.url)
    events = p.fetch_status([StatusQuery("ref0001", "+380661231231", "3272625619")])
    get = stub.requests[-1]
    assert get.query == {"filter[reference_id]": "ref0001"}
    assert get.headers["Authorization"] == "Bearer tok"
    assert [(e.type, e.fallback_channel) for e in events] == [
        (EventType.FAILED, ""),
        (EventType.FALLBACK_DELIVERED, "sms"),
    ]
    assert all(e.reference_id == "ref0001" and e.phone == "+380661231231" for e in events)
    assert events[0].cost == Decimal("1.2079098") and events[0].provider_message_id == "3272625619"


def test_aerialink_has_no_status_api(stub):
    p = make("aerialink", base_url=stub.url)
    assert p.capabilities.status_api is False
    assert p.fetch_status([StatusQuery("r", "+15559876543", "g")]) == []
    assert stub.requests == []
