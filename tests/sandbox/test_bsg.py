"""BSG: login/refresh, 401/422 shapes, reference_id duplicates, callbacks, GET /api/messages."""

from __future__ import annotations

import pytest

from .conftest import BSG_KEY


def login(http, sb):
    r = http.post(sb.url_for("bsg") + "/api/auth/login", json={"api_key": BSG_KEY}, timeout=5)
    assert r.status_code == 200
    return {"Authorization": "Bearer " + r.json()["bearer"]}


def msg(number="380661231231", ref="ref1", **extra):
    b = {
        "phone": {"number": number, "reference_id": ref},
        "sender": "rcs_sender",
        "options": {
            "cards": [
                {
                    "text": "Card",
                    "media": {"url": "https://x.test/a.png"},
                    "suggestions": [
                        {"text": "Go to site", "url": "https://x.test/", "postback_data": "click"}
                    ],
                }
            ]
        },
    }
    b.update(extra)
    return b


def send(http, sb, body, headers):
    return http.post(
        sb.url_for("bsg") + "/api/messages/rcs/send", json=body, headers=headers, timeout=5
    )


def test_auth_flow(sb, http):
    r = http.post(sb.url_for("bsg") + "/api/auth/login", json={"api_key": "live_wrong"}, timeout=5)
    assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}
    r = http.post(sb.url_for("bsg") + "/api/auth/login", json={}, timeout=5)
    assert r.status_code == 422 and "api_key" in r.json()["errors"]
    assert send(http, sb, msg(), {}).status_code == 401
    assert send(http, sb, msg(), {"Authorization": "Bearer a.b.c"}).status_code == 401
    h = login(http, sb)
    assert h["Authorization"].count(".") == 2
    r = http.post(sb.url_for("bsg") + "/api/auth/refresh", headers=h, timeout=5)
    h2 = {"Authorization": "Bearer " + r.json()["bearer"]}
    assert send(http, sb, msg(), h2).status_code == 200
    http.post(sb.base_url + "/_sandbox/config", json={"bsg_revoke_tokens": True}, timeout=5)
    assert send(http, sb, msg(ref="ref2"), h2).status_code == 401


def test_send_success_shape(sb, http):
    r = send(http, sb, msg(), login(http, sb))
    d = r.json()["data"]
    assert r.status_code == 200 and isinstance(d["id"], int) and d["status"] == "accepted"
    assert d["reference_id"] == "ref1" and d["phone"] == 380661231231 and d["type"] == "rcs"
    assert d["amount"]["currency"] == "UAH" and d["validity"] == 72


def test_duplicate_reference_id_rejected(sb, http):
    h = login(http, sb)
    assert send(http, sb, msg(), h).status_code == 200
    r = send(http, sb, msg(), h)
    assert r.status_code == 422
    assert r.json() == {
        "message": "The given data was invalid.",
        "errors": {"phone.reference_id": ["The reference id has already been taken."]},
    }
    assert len(sb.state.accepted("bsg", "rcs")) == 1


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b["phone"].update(number="+380661231231"), "phone.number"),
        (lambda b: b["phone"].update(number="12345678"), "phone.number"),
        (lambda b: b["phone"].update(reference_id="x" * 33), "phone.reference_id"),
        (lambda b: b["phone"].update(reference_id="a-b"), "phone.reference_id"),
        (lambda b: b.update(sender=""), "sender"),
        (lambda b: b.update(options={"text": "x" * 161}), "options.text"),
        (lambda b: b.update(options={"text": "a", "cards": []}), "options"),
        (lambda b: b["options"].update(cards=[b["options"]["cards"][0]] * 6), "options.cards"),
        (
            lambda b: b["options"]["cards"][0].update(
                suggestions=[{"text": "a", "url": "https://x.test"}] * 3
            ),
            "options.cards.0.suggestions",
        ),
        (
            lambda b: b["options"]["cards"][0]["suggestions"][0].update(text="x" * 26),
            "options.cards.0.suggestions.0.text",
        ),
        (lambda b: b.update(callback_url="https://x.test/" + "a" * 100), "callback_url"),
        (lambda b: b.update(validity=5, validity_seconds=60), "validity_seconds"),
        (lambda b: b.update(validity=73), "validity"),
        (
            lambda b: b.update(alternative_channel={"sms": {"sender": "s"}}),
            "alternative_channel.sms.text",
        ),
    ],
)
def test_validation_422(sb, http, mutate, field):
    b = msg()
    mutate(b)
    r = send(http, sb, b, login(http, sb))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] == "The given data was invalid." and field in body["errors"]
    assert all(isinstance(v, list) and v for v in body["errors"].values())


def test_callbacks_click_and_fallback(sb, http, receiver):
    h = login(http, sb)
    send(http, sb, msg("380661231231", "a1", callback_url=receiver.url("/a")), h)
    send(http, sb, msg("380661231237", "a2", callback_url=receiver.url("/b")), h)
    send(
        http,
        sb,
        msg(
            "380661231230",
            "a3",
            callback_url=receiver.url("/c"),
            alternative_channel={"sms": {"text": "fb", "sender": "Shop"}},
        ),
        h,
    )
    send(http, sb, msg("380661231239", "a4", callback_url=receiver.url("/d")), h)
    sb.wait_callbacks(5)
    a = receiver.wait(3, "/a")
    assert [x["status"] for x in a] == ["sent", "delivered", "read"]
    assert a[0]["error"] == 0 and a[0]["errorDescription"] == "No errors"
    assert a[0]["msisdn"] == "380661231231" and a[0]["reference"] == "a1"
    b = receiver.wait(4, "/b")
    click = b[-1]
    assert click["text"] == "Go to site" and click["postback"] == "click" and "time_click" in click
    c = receiver.wait(3, "/c")
    assert [(x["status"], x.get("channel")) for x in c] == [
        ("not_service_user", None),
        ("sent", "sms"),
        ("delivered", "sms"),
    ]
    d = receiver.wait(2, "/d")
    assert [x["status"] for x in d] == ["sent", "undelivered"] and d[-1]["error"] != 0


def test_panel_callback_url_used_without_request_url(sb, http, receiver):
    sb.register("bsg", BSG_KEY, dlr_url=receiver.url("/panel"))
    send(http, sb, msg(), login(http, sb))
    sb.wait_callbacks(5)
    assert len(receiver.wait(3, "/panel")) == 3


def test_get_messages(sb, http):
    h = login(http, sb)
    mid = send(http, sb, msg(ref="q1"), h).json()["data"]["id"]
    send(http, sb, msg(ref="q2"), h)
    sb.wait_callbacks(5)
    r = http.get(
        sb.url_for("bsg") + "/api/messages",
        params={"filter[reference_id]": "q1"},
        headers=h,
        timeout=5,
    ).json()
    assert [d["id"] for d in r["data"]] == [mid] and r["data"][0]["status"] == "read"
    assert r["meta"]["page"]["total"] == 1
    r = http.get(sb.url_for("bsg") + "/api/messages", headers=h, timeout=5).json()
    assert r["meta"]["page"] == {"limit": 50, "offset": 0, "total": 2}
    assert http.get(sb.url_for("bsg") + "/api/messages", timeout=5).status_code == 401
