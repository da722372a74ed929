"""Contract: every provider over every corpus message either renders bodies that pass an
independent validator written here from the provider's document, or raises
UnsupportedFeature naming the path(s). Plus batching, degradations and the registry."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from rcsportal.messaging.exceptions import ProviderRejected, UnsupportedFeature
from rcsportal.messaging.message import (
    Action,
    CardContent,
    ContentInfo,
    Media,
    Message,
    OpenUrlAction,
    RichCard,
    StandaloneCard,
    Suggestion,
)
from rcsportal.messaging.providers import PROVIDERS, Recipient, get_provider, provider_choices
from rcsportal.messaging.providers.base import DEGRADATIONS

from .helpers import MESSAGES, make

CORPUS = sorted(MESSAGES.glob("*.json"))
ROOTS = ("text", "contentInfo", "richCard", "suggestions", "fallback", "scheduleAt")
ALNUM = re.compile(r"^[A-Za-z0-9]+$")


def recipients(n, country="+336"):
    return [Recipient(f"{country}{i:08d}", f"ref{i:05d}") for i in range(n)]


# ------------------------------------------------------------------ independent validators
def v_smspartner(body, n):
    """Seed 000."""
    assert set(body) <= {
        "apiKey",
        "phoneNumbers",
        "isUnicode",
        "richContent",
        "failover",
        "scheduledDeliveryDate",
        "time",
        "minute",
    }
    assert body["apiKey"]
    assert isinstance(body["phoneNumbers"], list) and 1 <= len(body["phoneNumbers"]) <= 500
    assert len(body["phoneNumbers"]) == n
    assert body["isUnicode"] == 1
    conv = body["richContent"]["conversation"]
    kinds = [k for k in ("text", "file", "richCard", "carousel") if k in conv]
    assert len(kinds) == 1
    kind = kinds[0]
    assert len(conv.get("suggestions", [])) <= (4 if kind in ("text", "file") else 8)

    def sugg(s):
        assert len(s) == 1
        if "reply" in s:
            assert set(s["reply"]) == {"text", "postbackData"}
            assert 1 <= len(s["reply"]["text"]) <= 25
            return
        a = s["action"]
        acts = [
            k
            for k in (
                "openUrlAction",
                "dialAction",
                "viewLocationAction",
                "createCalendarEventAction",
            )
            if k in a
        ]
        assert len(acts) == 1 and set(a) == {"text", "postbackData", acts[0]}
        assert 1 <= len(a["text"]) <= 25
        if acts[0] == "openUrlAction":
            assert set(a["openUrlAction"]) == {"url"}
        if acts[0] == "viewLocationAction":
            assert "latLong" in a["viewLocationAction"]
        if acts[0] == "createCalendarEventAction":
            ev = a["createCalendarEventAction"]
            for k in ("startTime", "endTime"):
                datetime.strptime(ev[k], "%Y-%m-%d %H:%M:%S")

    def card(c, orientation):
        assert len(c.get("title", "")) <= 200 and len(c.get("description", "")) <= 500
        assert len(c["suggestions"]) <= 4
        for s in c["suggestions"]:
            sugg(s)
        if "media" in c:
            assert c["media"]["mediaUrl"]
            if "height" in c["media"]:
                assert orientation == "VERTICAL" and c["media"]["height"] in {
                    "SHORT",
                    "MEDIUM",
                    "TALL",
                }

    for s in conv.get("suggestions", []):
        sugg(s)
    if kind == "text":
        assert isinstance(conv["text"], str) and conv["text"]
    elif kind == "file":
        assert conv["file"]["media"]["fileUrl"].startswith("http")
    elif kind == "richCard":
        rc = conv["richCard"]
        assert rc["orientation"] in {"VERTICAL", "HORIZONTAL"}
        if "thumbnailImageAlignment" in rc:
            assert rc["orientation"] == "HORIZONTAL"
        card(rc, rc["orientation"])
    else:
        car = conv["carousel"]
        assert car["cardWidth"] in {"SMALL", "MEDIUM"}
        assert 2 <= len(car["cards"]) <= 10
        for c in car["cards"]:
            card(c, "VERTICAL")
    if "failover" in body:
        assert set(body["failover"]) <= {"sender", "message", "isStopSms", "isUnicode"}
        assert body["failover"]["message"]
        if "sender" in body["failover"]:
            assert 3 <= len(body["failover"]["sender"]) <= 11
    if "scheduledDeliveryDate" in body:
        assert body["minute"] % 5 == 0 and 0 <= body["time"] <= 24


def v_serwersms(body, n):
    """Seed 002."""
    assert body["rcs_id"] and body["username"] and body["password"]
    assert (
        isinstance(body["phone"], list)
        and 1 <= len(body["phone"]) <= 50
        and len(body["phone"]) == n
    )
    assert len(body["unique_id"]) == len(body["phone"])
    assert len(set(body["unique_id"])) == len(body["unique_id"])
    for u in body["unique_id"]:
        assert ALNUM.match(u) and 3 <= len(u) <= 50
    assert body["details"] is True
    msg = body["message"]
    kinds = [k for k in ("text", "file", "richcard") if k in msg]
    assert len(kinds) == 1

    def sugg(s):
        assert len(s) == 1
        if "reply" in s:
            assert set(s["reply"]) == {"text", "postback"} and len(s["reply"]["text"]) <= 25
            return
        a = s["action"]
        assert set(a) == {"text", "postback", "action", "to"} and len(a["text"]) <= 25
        assert a["action"] in {"url", "dial", "map", "calendar"}
        if a["action"] == "map":
            label, lat, lng = a["to"].split("|")
            float(lat), float(lng)
        if a["action"] == "calendar":
            start, end, _title = a["to"].split("|")
            for t in (start, end):
                datetime.strptime(t, "%Y-%m-%d %H:%M:%S")

    def media(m):
        assert m["url"] and isinstance(m["size"], int) and m["size"] > 0 and "/" in m["type"]
        if "thumbnail" in m:
            assert isinstance(m["thumbnailSize"], int) and m["thumbnailType"]

    for s in msg["suggestions"]:
        sugg(s)
    if "file" in msg:
        f = msg["file"]
        assert set(f) == {"name", "url", "type", "size"} and all(f.values())
    if "richcard" in msg:
        cards = msg["richcard"]
        assert len(cards) >= 1
        if len(cards) > 1:
            assert msg["cardWidth"] in {"SMALL", "MEDIUM"}
        else:
            assert cards[0]["layout"]["cardOrientation"] in {"VERTICAL", "HORIZONTAL"}
        for c in cards:
            assert c["title"] and c["description"]  # error 6313
            media(c["media"])
            for s in c["suggestions"]:
                sugg(s)


def v_bsg(body, n):
    """Seed 001 + SDK limits (providers-notes 2.2)."""
    assert n == 1
    assert set(body) <= {"phone", "sender", "options", "alternative_channel", "callback_url"}
    ph = body["phone"]
    assert re.fullmatch(r"\d{9,15}", ph["number"])
    assert ALNUM.match(ph["reference_id"]) and len(ph["reference_id"]) <= 32
    assert 1 <= len(body["sender"]) <= 40
    opts = body["options"]
    assert len(opts) == 1
    if "text" in opts:
        assert 1 <= len(opts["text"]) <= 160
    else:
        assert 1 <= len(opts["cards"]) <= 5
        for c in opts["cards"]:
            assert c.get("text") or c.get("media")
            assert len(c.get("text", "")) <= 1000 and len(c.get("title", "")) <= 200
            assert len(c["suggestions"]) <= 2
            for s in c["suggestions"]:
                assert s["type"] in {"link", "call"} and len(s["text"]) <= 25
                if s["type"] == "link":
                    assert s["url"].startswith("http")
                else:
                    assert re.fullmatch(r"\d{9,15}", s["phone"])
                assert len(s.get("postback_data", "")) <= 25
    if "callback_url" in body:
        assert len(body["callback_url"]) <= 100
    if "alternative_channel" in body:
        assert body["alternative_channel"]["sms"]["text"]


def v_aerialink(body, n):
    """Seed 003."""
    assert n == 1
    t = body["messageType"]
    assert t in {"RCS_TEXT", "RCS_MEDIA", "RCS_CARD", "RCS_CAROUSEL"}
    assert body["source"] and re.fullmatch(r"\d+", body["destination"])

    def choice(c):
        assert c["type"] in {
            "REPLY",
            "OPEN_URL",
            "DIAL_PHONE",
            "SHOW_LOCATION",
            "REQUEST_LOCATION",
            "CREATE_CALENDAR_EVENT",
        }
        assert 1 <= len(c["title"]) <= 25 and 1 <= len(c["postbackData"]) <= 2048
        if c["type"] == "OPEN_URL":
            assert c["url"] and c["application"] in {"BROWSER", "WEBVIEW"}
            assert c["webviewViewMode"] in {"FULL", "HALF", "TALL"}
        if c["type"] == "DIAL_PHONE":
            assert 1 <= len(c["phoneNumber"]) <= 20
        if c["type"] == "SHOW_LOCATION":
            assert -90 <= c["latitude"] <= 90 and -180 <= c["longitude"] <= 180
        if c["type"] == "CREATE_CALENDAR_EVENT":
            assert c["startTime"] and c["endTime"] and len(c["eventTitle"]) <= 100

    def card(c):
        assert c["title"] and len(c["title"]) <= 100
        assert c["description"] and len(c["description"]) <= 500
        assert c["height"] in {"SHORT", "MEDIUM", "TALL"} and c["mediaUrl"]
        assert len(c.get("choices", [])) <= 4
        for ch in c.get("choices", []):
            choice(ch)

    if t == "RCS_TEXT":
        assert body["messageText"]
        assert "mmsFailover" not in body
    else:
        assert "smsFailover" not in body
    if t == "RCS_MEDIA":
        assert body["mediaUrl"] and body["thumbnailUrl"] and body["filenameOverride"]
    if t in ("RCS_TEXT", "RCS_MEDIA"):
        for ch in body.get("choices", []):
            choice(ch)
    if t == "RCS_CARD":
        card(body)
    if t == "RCS_CAROUSEL":
        assert "choices" not in body and 1 <= len(body["cards"]) <= 10
        for c in body["cards"]:
            card(c)
    for k, extra in (("smsFailover", set()), ("mmsFailover", {"mediaUrl", "subject"})):
        if k in body:
            f = body[k]
            assert set(f) == {"enabled", "failoverSource", "fallbackText"} | extra
            assert f["enabled"] is True and 1 <= len(f["failoverSource"]) <= 50
            assert 1 <= len(f["fallbackText"]) <= 160
            if "subject" in f:
                assert 1 <= len(f["subject"]) <= 100 and f["mediaUrl"]


VALIDATORS = {
    "smspartner": v_smspartner,
    "serwersms": v_serwersms,
    "bsg": v_bsg,
    "aerialink": v_aerialink,
}
COUNTRY = {"smspartner": "+336", "serwersms": "+48500", "bsg": "+380661", "aerialink": "+1555"}


def assert_unsupported_has_paths(exc: UnsupportedFeature):
    assert exc.problems and exc.path
    for p in exc.problems:
        assert p.path.split(".")[0] in ROOTS, p.path
        assert p.reason
        for d in p.degradations:
            assert d.key in DEGRADATIONS


def render_or_unsupported(key, message, n=3):
    p = make(key)
    try:
        reqs = p.render(message, recipients(n, COUNTRY[key]))
    except UnsupportedFeature as exc:
        assert_unsupported_has_paths(exc)
        # check() reports exactly the same problems
        assert [(u.path, u.reason) for u in p.check(message)] == [
            (u.path, u.reason) for u in exc.problems
        ]
        return None
    assert sum(len(r.recipients) for r in reqs) == n
    for r in reqs:
        assert r.method == "POST" and r.kind == "rcs"
        VALIDATORS[key](r.json, len(r.recipients))
        json.dumps(r.json)  # serialisable
    return reqs


@pytest.mark.parametrize("key", list(PROVIDERS))
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_renders_or_refuses_with_paths(key, path):
    message = Message.from_dict(json.loads(path.read_text()))
    render_or_unsupported(key, message)


@pytest.mark.parametrize("key", list(PROVIDERS))
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_after_offered_degradations(key, path):
    """Taking the first degradation offered for each problem (repeatedly) either makes the
    message renderable or leaves only problems no degradation can fix (data to add)."""
    message = Message.from_dict(json.loads(path.read_text()))
    p = make(key)
    original = message.to_dict()
    for _ in range(6):
        problems = p.check(message)
        keys = sorted({u.degradations[0].key for u in problems if u.degradations})
        if not keys:
            break
        message = p.degrade(message, keys)
    assert all(not u.degradations for u in p.check(message))
    render_or_unsupported(key, message)
    assert Message.from_dict(json.loads(path.read_text())).to_dict() == original


def _complete_card_message():
    ci = ContentInfo(
        file_url="https://cdn.example.com/a.jpg", mime_type="image/jpeg", file_size_bytes=1000
    )
    return Message(
        rich_card=RichCard(
            standalone_card=StandaloneCard(
                card_content=CardContent(
                    title="T",
                    description="D",
                    media=Media(height="MEDIUM", content_info=ci),
                    suggestions=[
                        Suggestion(
                            action=Action(
                                text="Go",
                                postback_data="go",
                                open_url_action=OpenUrlAction(url="https://example.com"),
                            )
                        )
                    ],
                )
            )
        )
    )


@pytest.mark.parametrize("key", list(PROVIDERS))
def test_every_provider_renders_a_complete_card(key):
    assert render_or_unsupported(key, _complete_card_message()) is not None


# ------------------------------------------------------------------ batching
@pytest.mark.parametrize(
    ("key", "sizes"),
    [
        ("smspartner", [500, 500, 201]),
        ("serwersms", [50] * 24 + [1]),
        ("bsg", [1] * 1201),
        ("aerialink", [1] * 1201),
    ],
)
def test_batching_1201_recipients(key, sizes):
    rs = recipients(1201, COUNTRY[key])
    reqs = make(key).render(_complete_card_message(), rs)
    assert [len(r.recipients) for r in reqs] == sizes
    assert [x for r in reqs for x in r.recipients] == rs
    for r in reqs:
        VALIDATORS[key](r.json, len(r.recipients))
        if key == "serwersms":
            assert r.json["unique_id"] == [x.reference_id for x in r.recipients]
            assert r.json["phone"] == [x.phone for x in r.recipients]
        if key == "smspartner":
            assert r.json["phoneNumbers"] == [x.phone for x in r.recipients]
        if key == "bsg":
            (x,) = r.recipients
            assert r.json["phone"] == {"number": x.phone[1:], "reference_id": x.reference_id}
        if key == "aerialink":
            assert r.json["destination"] == r.recipients[0].phone[1:]


def test_sms_batching_1201():
    reqs = make("smspartner").render_sms("hello", recipients(1201))
    assert [len(r.recipients) for r in reqs] == [500, 500, 201]
    assert all(len(r.json["phoneNumbers"].split(",")) == len(r.recipients) for r in reqs)


def test_no_recipients_no_requests():
    assert make("bsg").render(Message(text="x"), []) == []


# ------------------------------------------------------------------ degradations
@pytest.mark.parametrize("key", list(PROVIDERS))
def test_degrade_refuses_unknown_key(key):
    with pytest.raises(ValueError):
        make(key).degrade(Message(text="x"), ["no_such_thing"])


def test_aerialink_title_over_100_offers_truncate():
    m = _complete_card_message()
    m.rich_card.standalone_card.card_content.title = "x" * 150
    p = make("aerialink")
    (u,) = p.check(m)
    assert u.path == "richCard.standaloneCard.cardContent.title"
    assert [d.key for d in u.degradations] == ["truncate"]
    with pytest.raises(UnsupportedFeature) as exc:
        p.render(m, recipients(1, "+1555"))
    assert exc.value.path == u.path
    fixed = p.degrade(m, ["truncate"])
    assert len(fixed.rich_card.standalone_card.card_content.title) == 100
    assert m.rich_card.standalone_card.card_content.title == "x" * 150
    assert p.render(fixed, recipients(1, "+1555"))


def test_aerialink_horizontal_offers_vertical():
    m = _complete_card_message()
    m.rich_card.standalone_card.card_orientation = "HORIZONTAL"
    m.rich_card.standalone_card.thumbnail_image_alignment = "LEFT"
    p = make("aerialink")
    (u,) = p.check(m)
    assert (u.path, [d.key for d in u.degradations]) == (
        "richCard.standaloneCard.cardOrientation",
        ["vertical"],
    )
    fixed = p.degrade(m, ["vertical"])
    assert fixed.rich_card.standalone_card.card_orientation == "VERTICAL"
    assert p.check(fixed) == []


def test_bsg_carousel_to_first_card_and_suggestions_moved():
    m = Message.from_dict(json.loads((MESSAGES / "carousel_2.json").read_text()))
    p = make("bsg")
    keys = {d.key for u in p.check(m) for d in u.degradations}
    assert "drop_message_suggestions" in keys or not m.suggestions
    one = p.degrade(m, ["first_card"])
    assert one.rich_card.standalone_card is not None
    assert (
        one.rich_card.standalone_card.card_content.title
        == m.rich_card.carousel_card.card_contents[0].title
    )


def test_bsg_text_with_suggestions_offers_text_as_card():
    m = Message.from_dict(json.loads((MESSAGES / "text_suggestions.json").read_text()))
    p = make("bsg")
    (u,) = [u for u in p.check(m) if u.path == "suggestions"]
    assert "text_as_card" in [d.key for d in u.degradations]
    card = p.degrade(m, ["text_as_card"])
    assert card.rich_card.standalone_card.card_content.description == m.text
    assert card.suggestions == []


def test_scheduling_refused_where_not_supported():
    with pytest.raises(UnsupportedFeature) as exc:
        make("aerialink").render(
            Message(text="x"), recipients(1, "+1555"), schedule_at=datetime(2030, 1, 1)
        )
    assert exc.value.path == "scheduleAt"


def test_bsg_callback_url_too_long_refused_before_sending():
    p = make("bsg", callback_url="https://portal.example.com/webhooks/bsg/" + "t" * 80 + "/")
    with pytest.raises(ProviderRejected) as exc:
        p.render(Message(text="x"), recipients(1, "+380661"))
    assert exc.value.code == "callback_url_too_long"
    assert "100" in exc.value.text


def test_smspartner_bad_failover_sender_is_reported():
    m = Message.from_dict({"text": "x", "fallback": {"sms": {"text": "y", "sender": "AB"}}})
    (u,) = make("smspartner").check(m)
    assert u.path == "fallback.sms.sender"


def test_serwersms_needs_media_metadata():
    m = Message.from_dict({"contentInfo": {"fileUrl": "https://x.example/a.png"}})
    paths = [u.path for u in make("serwersms").check(m)]
    assert paths == ["contentInfo.mimeType", "contentInfo.fileSizeBytes"]


def test_serwersms_has_no_fallback():
    m = Message.from_dict({"text": "x", "fallback": {"sms": {"text": "y"}}})
    (u,) = make("serwersms").check(m)
    assert u.path == "fallback.sms" and [d.key for d in u.degradations] == ["drop_fallback"]


def test_aerialink_fallback_per_message_type():
    p = make("aerialink")
    card_sms = _complete_card_message()
    card_sms.fallback = Message.from_dict(
        {"text": "x", "fallback": {"sms": {"text": "y"}}}
    ).fallback
    (u,) = p.check(card_sms)
    assert u.path == "fallback.sms"
    text_mms = Message.from_dict(
        {
            "text": "x",
            "fallback": {
                "mms": {"text": "y", "mediaUrl": "https://a.example/b.jpg", "subject": "s"}
            },
        }
    )
    (u,) = p.check(text_mms)
    assert u.path == "fallback.mms" and [d.key for d in u.degradations] == [
        "mms_as_sms",
        "drop_fallback",
    ]
    fixed = p.degrade(text_mms, ["mms_as_sms"])
    assert fixed.fallback.sms.text == "y" and fixed.fallback.mms is None
    assert p.render(fixed, recipients(1, "+1555"))[0].json["smsFailover"]["fallbackText"] == "y"


# ------------------------------------------------------------------ registry / purity
def test_registry():
    assert list(PROVIDERS) == ["smspartner", "serwersms", "bsg", "aerialink"]
    assert provider_choices() == [(k, c.display_name) for k, c in PROVIDERS.items()]
    for key, cls in PROVIDERS.items():
        assert get_provider(key) is cls and cls.key == key
    with pytest.raises(KeyError):
        get_provider("nope")
    assert [k for k, c in PROVIDERS.items() if c.supports_sms] == ["smspartner"]
    assert [k for k, c in PROVIDERS.items() if not c.capabilities.status_api] == ["aerialink"]


def test_providers_import_without_django():
    root = Path(__file__).resolve().parents[3]
    code = (
        # rcsportal/__init__.py loads Celery (which loads parts of Django): take it as baseline
        "import sys; import rcsportal; before = set(sys.modules); "
        "import rcsportal.messaging.providers, rcsportal.messaging.providers.matrix; "
        "bad = [m for m in set(sys.modules) - before "
        "if m == 'django' or m.startswith(('django.', 'rcsportal.campaigns'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
