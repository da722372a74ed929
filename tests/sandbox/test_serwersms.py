"""SerwerSMS: send_rcs / send_sms / reports, 63xx errors, webhook arrays with base64 text."""

from __future__ import annotations

import base64

import pytest

from .conftest import RCS_ID, SERWER_AUTH


def body(phones, message=None, **extra):
    b = {
        **SERWER_AUTH,
        "rcs_id": RCS_ID,
        "phone": phones,
        "message": message
        or {"text": "Hi", "suggestions": [{"reply": {"text": "Services", "postback": "uslugi"}}]},
        "details": True,
    }
    b.update(extra)
    return b


def post(http, sb, path, payload, **kw):
    return http.post(sb.url_for("serwersms") + path, json=payload, timeout=5, **kw)


def test_send_rcs_details_items(sb, http):
    r = post(
        http,
        sb,
        "/messages/send_rcs.json",
        body(["+48500600701", "500600702"], unique_id=["abc1", "abc2"]),
    )
    b = r.json()
    assert r.status_code == 200 and b["success"] is True and b["queued"] == 2 and b["unsent"] == 0
    assert [i["phone"] for i in b["items"]] == ["+48500600701", "+48500600702"]
    assert all(len(i["id"]) == 10 and i["status"] == "queued" for i in b["items"])
    # the path without .json works too, and details=false omits items
    b = post(http, sb, "/messages/send_rcs", body("+48500600703", details=False)).json()
    assert b == {"success": True, "queued": 1, "unsent": 0}


def test_bad_login_and_bearer_token(sb, http):
    bad = body("+48500600701")
    bad["password"] = "nope"
    assert post(http, sb, "/messages/send_rcs.json", bad).json()["error"]["code"] == 1001
    tok = body("+48500600701")
    del tok["username"], tok["password"]
    r = post(
        http,
        sb,
        "/messages/send_rcs.json",
        tok,
        headers={"Authorization": "Bearer sandbox-serwersms-token"},
    )
    assert r.json()["success"] is True
    entry = sb.state.accepted("serwersms")[-1]
    assert entry["headers"]["Authorization"] == "Bearer ***"


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda b: b.pop("rcs_id"), 6303),
        (lambda b: b.update(rcs_id="00000000-0000-0000-0000-000000000000"), 6301),
        (lambda b: b.update(phone="12ab"), 6306),
        (lambda b: b.update(message={}), 6307),
        (lambda b: b.update(message={"foo": 1}), 6308),
        (lambda b: b.update(message={"text": "  "}), 6310),
        (lambda b: b.update(message={"text": "a", "file": {}}), 6302),
        (lambda b: b.update(message={"file": {"name": "f", "url": "https://x.test/f.mp4"}}), 6312),
        (
            lambda b: b.update(
                message={
                    "richcard": [
                        {
                            "title": "t",
                            "description": "d",
                            "media": {
                                "url": "https://x.test/a.pdf",
                                "size": 1,
                                "type": "application/pdf",
                            },
                        }
                    ]
                }
            ),
            6313,
        ),
        (
            lambda b: b.update(
                message={
                    "text": "a",
                    "suggestions": [{"reply": {"text": "x" * 26, "postback": "p"}}],
                }
            ),
            6309,
        ),
        (
            lambda b: b.update(
                message={
                    "text": "a",
                    "suggestions": [
                        {
                            "action": {
                                "text": "Map",
                                "postback": "m",
                                "action": "map",
                                "to": "X|95|1",
                            }
                        }
                    ],
                }
            ),
            6314,
        ),
        (lambda b: b.update(unique_id=["abc"]), 6303),
        (lambda b: b.update(phone=["+48500600701"], unique_id=["a!"]), 6302),
    ],
)
def test_rcs_errors(sb, http, mutate, code):
    b = body(["+48500600701", "+48500600702"])
    mutate(b)
    err = post(http, sb, "/messages/send_rcs.json", b).json()["error"]
    assert err["code"] == code and err["type"] == "RcsError" and err["message"]
    assert sb.state.accepted("serwersms") == []


def test_not_rcs_capable_is_unsent_6317(sb, http):
    b = post(http, sb, "/messages/send_rcs.json", body(["+48500600700", "+48500600701"])).json()
    assert b["queued"] == 1 and b["unsent"] == 1
    unsent = b["items"][0]
    assert unsent["status"] == "unsent" and unsent["error_code"] == 6317
    assert unsent["error_message"] == "Network not supported"


def test_form_encoded_body(sb, http):
    data = {
        **SERWER_AUTH,
        "rcs_id": RCS_ID,
        "phone[]": ["+48500600701", "+48500600702"],
        "message[text]": "Hi",
        "details": "true",
    }
    r = http.post(sb.url_for("serwersms") + "/messages/send_rcs.json", data=data, timeout=5)
    assert r.json()["queued"] == 2
    assert sb.state.accepted("serwersms")[0]["body"]["message"] == {"text": "Hi"}


def test_webhook_reports_and_inbound(sb, http, receiver):
    sb.register("serwersms", RCS_ID, webhook_url=receiver.url("/hook"))
    b = post(
        http,
        sb,
        "/messages/send_rcs.json",
        body(["+48500600701", "+48500600707", "+48500600708", "+48500600706"]),
    ).json()
    ids = {i["phone"]: i["id"] for i in b["items"]}
    sb.wait_callbacks(5)
    events = receiver.wait(15, "/hook")
    assert all(isinstance(e, list) and len(e) == 1 for e in events)
    evs = [e[0] for e in events]
    reports = [e for e in evs if e["type"] == "report" and e["phone"] == "+48500600701"]
    assert [e["status"] for e in reports] == ["sent", "delivered", "displayed"]
    assert reports[0]["smsid"] == ids["+48500600701"] and reports[0]["rcs_id"] == RCS_ID
    [tap] = [e for e in evs if e["type"] == "reply"]
    assert tap["phone"] == "+48500600707" and tap["data"] == "uslugi"
    assert base64.b64decode(tap["text"]).decode() == "Services"
    texts = {
        e["phone"]: base64.b64decode(e["text"]).decode() for e in evs if e["type"] == "message"
    }
    assert texts == {"+48500600708": "STOP", "+48500600706": "Hello"}


def test_action_tap_type(sb, http, receiver):
    sb.register("serwersms", RCS_ID, webhook_url=receiver.url("/hook"))
    msg = {
        "text": "a",
        "suggestions": [
            {
                "action": {
                    "text": "Site",
                    "postback": "my_url",
                    "action": "url",
                    "to": "https://x.test",
                }
            }
        ],
    }
    post(http, sb, "/messages/send_rcs.json", body("+48500600707", msg))
    sb.wait_callbacks(5)
    [tap] = [e[0] for e in receiver.wait(4, "/hook") if e[0]["type"] != "report"]
    assert tap["type"] == "action" and tap["data"] == "my_url"


def test_reports_and_send_sms(sb, http):
    b = post(
        http,
        sb,
        "/messages/send_rcs.json",
        body(["+48500600701", "+48500600709"], unique_id=["u1x", "u2x"]),
    ).json()
    sb.wait_callbacks(5)
    r = post(
        http, sb, "/messages/reports.json", {**SERWER_AUTH, "unique_id": ["u1x", "u2x"]}
    ).json()
    st = {i["unique_id"]: i["status"] for i in r["items"]}
    assert st == {"u1x": "delivered", "u2x": "undelivered"} and r["paging"]["count"] == 2
    r = post(
        http, sb, "/messages/reports.json", {**SERWER_AUTH, "id": [b["items"][0]["id"]]}
    ).json()
    assert r["items"][0]["phone"] == "+48500600701" and r["items"][0]["displayed"]
    s = post(
        http,
        sb,
        "/messages/send_sms.json",
        {**SERWER_AUTH, "phone": "+48500600701", "text": "hello", "details": True},
    ).json()
    assert s["queued"] == 1 and s["items"][0]["parts"] == 1
    e = post(http, sb, "/messages/send_sms.json", {**SERWER_AUTH, "phone": "+48500600701"}).json()
    assert e["error"]["code"] == 2000
