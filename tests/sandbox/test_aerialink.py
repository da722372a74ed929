"""Aerialink: Basic auth, 400 data[] paths, messageGUID, callbacks incl. failover and MO."""

from __future__ import annotations

import uuid

import pytest

from .conftest import AERIAL_AUTH


def text_msg(dest="15559876543", **extra):
    b = {
        "messageType": "RCS_TEXT",
        "source": "CONVEY",
        "destination": dest,
        "messageText": "Hello from RCS!",
        "choices": [{"type": "REPLY", "title": "Yes", "postbackData": "yes_response"}],
    }
    b.update(extra)
    return b


def card(**extra):
    c = {
        "title": "Card",
        "description": "d",
        "height": "MEDIUM",
        "mediaUrl": "https://x.test/m.jpg",
    }
    c.update(extra)
    return c


def send(http, sb, body, auth=AERIAL_AUTH):
    return http.post(sb.url_for("aerialink") + "/v5/messages", json=body, auth=auth, timeout=5)


def test_success_and_auth(sb, http):
    r = send(http, sb, text_msg())
    b = r.json()
    assert r.status_code == 200 and b["status"] == "success"
    assert b["message"] == "Message successfully queued"
    [res] = b["data"]["results"]
    assert uuid.UUID(res["messageGUID"]).version == 4 and res["destination"] == "15559876543"
    r = send(http, sb, text_msg(), auth=("sandbox", "bad"))
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Unauthorized", "data": []}
    assert send(http, sb, text_msg(), auth=None).status_code == 401


def fields(r):
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error"
    assert body["message"] == "Missing or invalid parameters in body"
    return {d["field"]: d for d in body["data"]}


def test_documented_nested_errors(sb, http):
    b = text_msg(
        choices=[
            {
                "type": "OPEN_URL",
                "title": "Learn",
                "postbackData": "l",
                "url": "https://x.test",
                "application": "BROWSER",
            },
            {"type": "REPLY", "title": "Yes"},
            {"type": "DIAL_PHONE", "title": "Call", "postbackData": "c"},
        ]
    )
    f = fields(send(http, sb, b))
    assert f["choices.0.webviewViewMode"] == {
        "field": "choices.0.webviewViewMode",
        "description": "webviewViewMode",
        "message": "When choice type is OPEN_URL, 'webviewViewMode' is required",
    }
    assert f["choices.1.postbackData"]["message"] == "'postbackData' is required"
    assert (
        f["choices.2.phoneNumber"]["message"]
        == "When choice type is DIAL_PHONE, 'phoneNumber' is required"
    )
    b = text_msg()
    del b["messageText"]
    f = fields(send(http, sb, b))
    assert f["messageText"] == {
        "field": "messageText",
        "description": "Message Text",
        "message": "'messageText' is required",
    }


def test_carousel_errors(sb, http):
    c0 = card()
    del c0["mediaUrl"]
    c1 = card(
        choices=[
            {
                "type": "OPEN_URL",
                "title": "V",
                "postbackData": "v",
                "application": "WEBVIEW",
                "webviewViewMode": "TALL",
            }
        ]
    )
    c2 = card(
        choices=[
            {"type": "REPLY", "title": "a", "postbackData": "a"},
            {"type": "SHOW_LOCATION", "title": "Map", "postbackData": "m", "longitude": 1},
        ]
    )
    b = {
        "messageType": "RCS_CAROUSEL",
        "source": "CONVEY",
        "destination": "15559876543",
        "cards": [c0, c1, c2],
    }
    f = fields(send(http, sb, b))
    assert f["cards.0.mediaUrl"]["message"] == "'mediaUrl' is required"
    assert f["cards.1.choices.0.url"]["description"] == "url"
    assert (
        f["cards.1.choices.0.url"]["message"] == "When choice type is OPEN_URL, 'url' is required"
    )
    assert "cards.2.choices.1.latitude" in f


@pytest.mark.parametrize(
    "body, field",
    [
        (
            text_msg(choices=[{"type": "REPLY", "title": "x" * 26, "postbackData": "p"}]),
            "choices.0.title",
        ),
        (
            text_msg(choices=[{"type": "REPLY", "title": "x", "postbackData": "p" * 2049}]),
            "choices.0.postbackData",
        ),
        (text_msg(source="15551234567"), "source"),
        (text_msg(messageType="SMS"), "messageType"),
        (
            text_msg(smsFailover={"enabled": True, "failoverSource": "1555"}),
            "smsFailover.fallbackText",
        ),
        (
            text_msg(
                smsFailover={"enabled": True, "failoverSource": "1", "fallbackText": "x" * 161}
            ),
            "smsFailover.fallbackText",
        ),
        (
            {
                "messageType": "RCS_CARD",
                "source": "CONVEY",
                "destination": "15559876543",
                **card(title="t" * 101),
            },
            "title",
        ),
        (
            {
                "messageType": "RCS_CARD",
                "source": "CONVEY",
                "destination": "15559876543",
                **card(description="d" * 501),
            },
            "description",
        ),
        (
            {
                "messageType": "RCS_CARD",
                "source": "CONVEY",
                "destination": "15559876543",
                **card(choices=[{"type": "REPLY", "title": "a", "postbackData": "a"}] * 5),
            },
            "choices",
        ),
        (
            {
                "messageType": "RCS_CAROUSEL",
                "source": "CONVEY",
                "destination": "15559876543",
                "cards": [card()] * 11,
            },
            "cards",
        ),
        (
            {
                "messageType": "RCS_MEDIA",
                "source": "CONVEY",
                "destination": "15559876543",
                "mediaUrl": "https://x.test/a.jpg",
                "thumbnailUrl": "https://x.test/t.jpg",
                "filenameOverride": "a.jpg",
                "mmsFailover": {
                    "enabled": True,
                    "failoverSource": "1",
                    "fallbackText": "f",
                    "mediaUrl": "x",
                },
            },
            "mmsFailover.mediaUrl",
        ),
        (
            text_msg(
                choices=[
                    {
                        "type": "CREATE_CALENDAR_EVENT",
                        "title": "Cal",
                        "postbackData": "c",
                        "startTime": "2030-03-03 15:00",
                        "endTime": "2030-03-03T16:00:00Z",
                        "eventTitle": "M",
                    }
                ]
            ),
            "choices.0.startTime",
        ),
    ],
)
def test_validation_rules(sb, http, body, field):
    assert field in fields(send(http, sb, body))
    assert sb.state.accepted("aerialink") == []


def test_callbacks_and_inbound(sb, http, receiver):
    guid = send(http, sb, text_msg("15559876541", callbackURL=receiver.url("/ok"))).json()["data"][
        "results"
    ][0]["messageGUID"]
    send(http, sb, text_msg("15559876547", callbackURL=receiver.url("/tap")))
    send(http, sb, text_msg("15559876548", callbackURL=receiver.url("/stop")))
    send(
        http,
        sb,
        text_msg(
            "15559876540",
            callbackURL=receiver.url("/fo"),
            smsFailover={"enabled": True, "failoverSource": "15551234567", "fallbackText": "fb"},
        ),
    )
    sb.wait_callbacks(5)
    ok = receiver.wait(3, "/ok")
    assert [x["status"] for x in ok] == ["SUCCESS", "DELIVERED", "READ"]
    assert (
        ok[0]["messageGUID"] == guid and ok[0]["channel"] == "RCS" and ok[0]["source"] == "CONVEY"
    )
    tap = receiver.wait(4, "/tap")[-1]
    assert tap["type"] == "POSTBACK" and tap["postbackData"] == "yes_response"
    assert tap["messageText"] == "Yes" and tap["source"] == "15559876547"
    stop = receiver.wait(4, "/stop")[-1]
    assert stop["type"] == "MO" and stop["messageText"] == "STOP" and stop["postbackData"] is None
    fo = receiver.wait(3, "/fo")
    assert [(x["status"], x["channel"]) for x in fo] == [
        ("FAIL", "RCS"),
        ("SUCCESS", "SMS"),
        ("DELIVERED", "SMS"),
    ]
    assert fo[0]["reasonText"]
