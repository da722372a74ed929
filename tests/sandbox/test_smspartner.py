"""SMS Partner: documented shapes, codes, callbacks, status endpoints."""

from __future__ import annotations

from .conftest import SMSP_KEY


def rcs_body(phones, **extra):
    body = {
        "apiKey": SMSP_KEY,
        "phoneNumbers": phones,
        "isUnicode": 1,
        "richContent": {
            "conversation": {
                "text": "Hello",
                "suggestions": [{"reply": {"text": "Yes", "postbackData": "pb_yes"}}],
            }
        },
    }
    body.update(extra)
    return body


def post(http, sb, path, body):
    return http.post(sb.url_for("smspartner") + path, json=body, timeout=5)


def test_rcs_send_success_shape(sb, http):
    r = post(http, sb, "/v1/rcs/send", rcs_body(["+33612345671", "0612345672"]))
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True and body["code"] == 200
    assert isinstance(body["message_id"], int)
    assert body["nb_rcs"] == 2 and body["currency"] == "EUR"
    [entry] = sb.state.accepted("smspartner")
    assert entry["recipients"] == ["+33612345671", "+33612345672"]
    assert entry["ids"] == [body["message_id"]]


def test_auth_errors(sb, http):
    b = rcs_body(["+33612345671"])
    del b["apiKey"]
    assert post(http, sb, "/v1/rcs/send", b).json() == {
        "success": False,
        "code": 1,
        "message": "API Key is required",
    }
    b["apiKey"] = "wrong"
    r = post(http, sb, "/v1/rcs/send", b)
    assert r.status_code == 200 and r.json()["code"] == 10
    assert sb.state.accepted() == []
    assert len(sb.state.rejected_entries("smspartner")) == 2


def test_phone_errors_codes_2_9_50(sb, http):
    b = rcs_body([])
    assert post(http, sb, "/v1/rcs/send", b).json()["code"] == 2
    b = rcs_body([f"+336{n:08d}" for n in range(501)])
    assert post(http, sb, "/v1/rcs/send", b).json()["code"] == 50
    b = rcs_body(["+33612345671", "0612345671", "922264"])
    body = post(http, sb, "/v1/rcs/send", b).json()
    assert body["success"] is False and body["code"] == 9
    msgs = [e["message"] for e in body["errors"]]
    assert all(e["elementId"] == "children[phoneNumbers].data" for e in body["errors"])
    assert any("Duplicate" in m for m in msgs)
    assert "This phone number is not valid (922264)" in msgs


def test_rich_content_validation_paths(sb, http):
    b = rcs_body(["+33612345671"])
    b["richContent"]["conversation"]["suggestions"] = [
        {"reply": {"text": "x" * 26, "postbackData": "p"}},
        {"action": {"text": "Open", "postbackData": "p", "openUrlAction": {"url": "nope"}}},
    ]
    body = post(http, sb, "/v1/rcs/send", b).json()
    assert body["code"] == 9
    ids = {e["elementId"] for e in body["errors"]}
    base = "children[richContent].children[conversation].children[suggestions]"
    assert f"{base}.children[0].children[reply].children[text].data" in ids
    assert f"{base}.children[1].children[action].children[openUrlAction].children[url].data" in ids


def test_suggestion_limits_and_card_rules(sb, http):
    sugg = [{"reply": {"text": f"S{i}", "postbackData": f"p{i}"}} for i in range(5)]
    b = rcs_body(["+33612345671"])
    b["richContent"]["conversation"]["suggestions"] = sugg
    assert post(http, sb, "/v1/rcs/send", b).json()["code"] == 9  # text: max 4
    b["richContent"] = {
        "conversation": {
            "richCard": {
                "orientation": "HORIZONTAL",
                "title": "t" * 201,
                "media": {"height": "MEDIUM", "mediaUrl": "https://x.test/a.png"},
                "suggestions": sugg,
            },
            "suggestions": sugg * 2,
        }
    }
    body = post(http, sb, "/v1/rcs/send", b).json()
    msgs = " | ".join(e["message"] for e in body["errors"])
    assert "Maximum 4 suggestions" in msgs and "Maximum 8 suggestions" in msgs
    assert "cannot exceed 200" in msgs and "only allowed when orientation is VERTICAL" in msgs


def test_carousel_and_failover_validation(sb, http):
    card = {"title": "A", "media": {"height": "MEDIUM", "mediaUrl": "https://x.test/a.png"}}
    b = rcs_body(["+33612345671"], failover={"sender": "ab", "message": ""})
    b["richContent"] = {"conversation": {"carousel": {"cardWidth": "HUGE", "cards": [card]}}}
    body = post(http, sb, "/v1/rcs/send", b).json()
    ids = {e["elementId"] for e in body["errors"]}
    assert (
        "children[richContent].children[conversation].children[carousel].children[cards].data"
        in ids
    )
    assert "children[failover].children[message].data" in ids
    assert "children[failover].children[sender].data" in ids
    b["richContent"]["conversation"]["carousel"] = {"cardWidth": "SMALL", "cards": [card, card]}
    b["failover"] = {"sender": "cyril", "message": "fallback", "isStopSms": 1, "isUnicode": 1}
    assert post(http, sb, "/v1/rcs/send", b).json()["success"] is True


def test_malformed_json_is_400_code_90(sb, http):
    r = http.post(
        sb.url_for("smspartner") + "/v1/rcs/send",
        data=b"{nope",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert r.status_code == 400 and r.json()["code"] == 90


def test_insufficient_credit_code_11(sb, http):
    http.post(sb.base_url + "/_sandbox/config", json={"smspartner_credit": 0.1}, timeout=5)
    assert post(http, sb, "/v1/rcs/send", rcs_body(["+33612345671"])).json()["code"] == 11


def test_sms_send_errors_and_success(sb, http):
    body = post(
        http,
        sb,
        "/v1/send",
        {
            "apiKey": SMSP_KEY,
            "phoneNumbers": "+33612345671",
            "sender": "averylongsender",
            "message": "",
        },
    ).json()
    assert body["code"] == 9
    assert {"elementId": "children[message].data", "message": "Message is required"} in body[
        "errors"
    ]
    assert {
        "elementId": "children[sender].data",
        "message": "Sender cannot exceed 11 characters",
    } in body["errors"]
    body = post(
        http,
        sb,
        "/v1/send",
        {
            "apiKey": SMSP_KEY,
            "phoneNumbers": "+33612345671",
            "message": "x",
            "scheduledDeliveryDate": "21/10/2099",
        },
    ).json()
    msgs = {e["message"] for e in body["errors"]}
    assert msgs == {"Hour is required", "Minute is required"}
    body = post(
        http,
        sb,
        "/v1/send",
        {
            "apiKey": SMSP_KEY,
            "phoneNumbers": "+33612345671,0612345672",
            "message": "a" * 161,
            "sender": "mycompany",
        },
    ).json()
    assert body["success"] is True and body["nb_sms"] == 4 and "message_id" in body


def test_callbacks_lifecycle_and_inbound(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"), reply_url=receiver.url("/mo"))
    phones = ["+33612345671", "+33612345679", "+33612345678", "+33612345677", "+33612345676"]
    mid = str(post(http, sb, "/v1/rcs/send", rcs_body(phones)).json()["message_id"])
    assert sb.wait_callbacks(5)
    dlr = receiver.wait(11, "/dlr")
    by = {}
    for d in dlr:
        assert d["messageId"] == mid and d["channel"] == "rcs" and d["currency"] == "EUR"
        by.setdefault(d["phoneNumber"], []).append(d["statut"])
    assert by["+33612345671"] == ["Waiting", "Delivered", "Read"]
    assert by["+33612345679"] == ["Waiting", "Not delivered"]
    mo = receiver.wait(3, "/mo")
    kinds = {(m["phone_number"], m["type"], m["text"]) for m in mo}
    assert ("+33612345678", "response", "STOP") in kinds
    assert ("+33612345676", "response", "Hello") in kinds
    [tap] = [m for m in mo if m["type"] == "postback"]
    assert tap == {
        "type": "postback",
        "phone_number": "+33612345677",
        "text": "Yes",
        "postbackData": "pb_yes",
        "message_id": mid,
    }


def test_not_rcs_capable_uses_failover(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    b = rcs_body(["+33612345670"], failover={"sender": "cyril", "message": "fb"})
    post(http, sb, "/v1/rcs/send", b)
    post(http, sb, "/v1/rcs/send", rcs_body(["+33612345680"]))  # no failover requested
    sb.wait_callbacks(5)
    got = [(d["phoneNumber"], d["statut"], d["channel"]) for d in receiver.wait(4, "/dlr")]
    assert [g for g in got if g[0] == "+33612345670"] == [
        ("+33612345670", "Not delivered", "rcs"),
        ("+33612345670", "Waiting", "sms"),
        ("+33612345670", "Delivered", "sms"),
    ]
    assert [g for g in got if g[0] == "+33612345680"] == [("+33612345680", "Not delivered", "rcs")]


def test_status_endpoints(sb, http):
    mid = post(http, sb, "/v1/rcs/send", rcs_body(["+33612345671", "+33612345679"])).json()[
        "message_id"
    ]
    sb.wait_callbacks(5)
    r = http.get(
        sb.url_for("smspartner") + "/v1/message-status",
        timeout=5,
        params={"apiKey": SMSP_KEY, "messageId": mid, "phoneNumber": "0612345671"},
    ).json()
    assert r["success"] is True and r["statut"] == "Read" and r["number"] == "0612345671"
    r = post(
        http,
        sb,
        "/v1/multi-status",
        {
            "apiKey": SMSP_KEY,
            "SMSStatut_List": [
                {"phoneNumber": "+33612345679", "messageId": mid},
                {"phoneNumber": "+33600000000", "messageId": mid},
            ],
        },
    ).json()
    a, b = r["StatutResponse_List"]
    assert a["status"] == "Not delivered" and a["code"] == 200
    assert b == {
        "success": False,
        "code": 4,
        "phoneNumber": "+33600000000",
        "messageId": mid,
        "status": "Numéro introuvable",
    }
    r = http.get(
        sb.url_for("smspartner") + "/v1/message-status",
        timeout=5,
        params={"apiKey": SMSP_KEY, "messageId": 999999, "phoneNumber": "0612345671"},
    )
    assert r.json()["code"] == 4
    r = http.get(
        sb.url_for("smspartner") + "/v1/bulk-status",
        timeout=5,
        params={"apiKey": SMSP_KEY, "messageId": mid},
    ).json()
    assert len(r["StatutResponse_List"]) == 2
