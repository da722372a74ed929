"""The canonical message: parsing, round-trip, shape helpers, validation, placeholders.

Every validation rule has a case in ``RULE_CASES`` asserting the exact set of problem
paths, so removing or loosening a rule makes its case fail.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcsportal.messaging.exceptions import MessageInvalid
from rcsportal.messaging.message import (
    CARD_MEDIA_TYPES,
    FILE_MEDIA_TYPES,
    LIMITS,
    MAX_DOCUMENT_BYTES,
    Action,
    CardContent,
    ContentInfo,
    Message,
    OpenUrlAction,
    Reply,
    RichCard,
    StandaloneCard,
    Suggestion,
    parse_message,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "messages"
CORPUS = sorted(FIXTURES.glob("*.json"))
INVALID = FIXTURES / "invalid"
IMG = "https://cdn.example.com/a.jpg"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def problem_paths(doc: dict) -> set[str]:
    return {path for path, _ in Message.from_dict(doc).validate()}


def structure_paths(doc: object) -> set[str]:
    with pytest.raises(MessageInvalid) as info:
        Message.from_dict(doc)
    return {path for path, _ in info.value.problems}


# ---------------------------------------------------------------- builders


def text_doc(**extra) -> dict:
    return {"text": "Hello", **extra}


def card(**content) -> dict:
    base = {"title": "Title", "media": {"height": "MEDIUM", "contentInfo": {"fileUrl": IMG}}}
    base.update(content)
    return base


def standalone(content: dict | None = None, **card_fields) -> dict:
    sc = {"cardOrientation": "VERTICAL", "cardContent": content or card()}
    sc.update(card_fields)
    return {"richCard": {"standaloneCard": sc}}


def carousel(cards: list[dict], width: str = "MEDIUM") -> dict:
    return {"richCard": {"carouselCard": {"cardWidth": width, "cardContents": cards}}}


def reply(text: str = "Yes", postback: str = "yes") -> dict:
    return {"reply": {"text": text, "postbackData": postback}}


def action(**kind) -> dict:
    return {"action": {"text": "Go", "postbackData": "go", **kind}}


def with_suggestion(suggestion: dict) -> dict:
    return text_doc(suggestions=[suggestion])


def open_url(**fields) -> dict:
    return action(openUrlAction={"url": "https://example.com/", **fields})


def calendar(start: str, end: str, title: str = "Meeting") -> dict:
    return action(createCalendarEventAction={"startTime": start, "endTime": end, "title": title})


# ---------------------------------------------------------------- corpus + round trip


def test_corpus_has_every_named_document():
    names = {p.name for p in CORPUS}
    assert names == {
        "text.json",
        "text_suggestions.json",
        "file_pdf.json",
        "file_image.json",
        "card_vertical.json",
        "card_horizontal.json",
        "carousel_2.json",
        "carousel_10.json",
        "every_suggestion.json",
        "fallback_sms.json",
        "fallback_mms.json",
        "placeholders.json",
    }


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_round_trips_and_is_valid(path):
    doc = json.loads(path.read_text())
    message = Message.from_dict(doc)
    assert message.to_dict() == doc
    assert message.validate() == []
    assert parse_message(doc) == message
    assert Message.from_json(path.read_text()).to_dict() == doc


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("text.json", "text"),
        ("text_suggestions.json", "text"),
        ("file_pdf.json", "file"),
        ("file_image.json", "file"),
        ("card_vertical.json", "card"),
        ("card_horizontal.json", "card"),
        ("carousel_2.json", "carousel"),
        ("carousel_10.json", "carousel"),
        ("every_suggestion.json", "card"),
        ("fallback_sms.json", "text"),
        ("fallback_mms.json", "file"),
        ("placeholders.json", "card"),
    ],
)
def test_kind(name, kind):
    assert Message.from_dict(load(name)).kind == kind


def test_corpus_covers_every_suggestion_type():
    message = Message.from_dict(load("every_suggestion.json"))
    types = [s.type for _, s in message.all_suggestions()]
    assert set(types) == {
        "reply",
        "open_url",
        "dial",
        "view_location",
        "share_location",
        "create_calendar_event",
    }
    card_level = [p for p, _ in message.all_suggestions() if p.startswith("richCard")]
    assert len(card_level) == 4
    assert len(message.suggestions) == 8
    applications = {
        s.action.open_url_action.application for s in message.suggestions if s.type == "open_url"
    }
    assert applications == {"BROWSER", "WEBVIEW"}
    text_types = {s.type for s in Message.from_dict(load("text_suggestions.json")).suggestions}
    assert text_types == set(types)


def test_carousel_10_has_ten_medium_cards():
    doc = load("carousel_10.json")
    assert doc["richCard"]["carouselCard"]["cardWidth"] == "MEDIUM"
    assert len(doc["richCard"]["carouselCard"]["cardContents"]) == 10


def test_round_trip_keeps_present_defaults_and_empty_values():
    doc = {
        "text": "Hi",
        "suggestions": [
            {"reply": {"text": "Ok", "postbackData": ""}},
            {"action": {"text": "Go", "fallbackUrl": "", "shareLocationAction": {}}},
        ],
    }
    assert Message.from_dict(doc).to_dict() == doc
    card_doc = {
        "richCard": {
            "standaloneCard": {
                "cardOrientation": "VERTICAL",
                "thumbnailImageAlignment": "",
                "cardContent": {"title": "", "description": "d", "suggestions": []},
            }
        },
        "suggestions": [],
    }
    assert Message.from_dict(card_doc).to_dict() == card_doc


def test_round_trip_keeps_absent_defaults_absent():
    doc = {"richCard": {"carouselCard": {"cardContents": [card(), card()]}}}
    message = Message.from_dict(doc)
    assert message.rich_card.carousel_card.card_width == "MEDIUM"
    assert message.to_dict() == doc


def test_to_dict_of_python_built_message_omits_defaults():
    message = Message(
        rich_card=None,
        text="Hi",
        suggestions=[
            Suggestion(action=Action(text="Go", open_url_action=OpenUrlAction("https://e.x")))
        ],
    )
    assert message.to_dict() == {
        "text": "Hi",
        "suggestions": [{"action": {"text": "Go", "openUrlAction": {"url": "https://e.x"}}}],
    }
    card_msg = StandaloneCard(card_content=CardContent(title="T"), card_orientation="HORIZONTAL")
    assert card_msg.to_dict() == {"cardOrientation": "HORIZONTAL", "cardContent": {"title": "T"}}


def test_to_dict_reflects_changes_after_parsing():
    message = Message.from_dict({"text": "Hi"})
    message.suggestions.append(Suggestion(reply=Reply(text="Ok")))
    message.text = "Hello"
    assert message.to_dict() == {"text": "Hello", "suggestions": [{"reply": {"text": "Ok"}}]}


def test_equality_ignores_presence():
    assert Message.from_dict({"text": "Hi", "suggestions": []}) == Message(text="Hi")


def test_node_classes_parse_alone():
    info = ContentInfo.from_dict({"fileUrl": IMG, "fileSizeBytes": 3})
    assert info.file_url == IMG and info.file_size_bytes == 3
    assert info.to_dict() == {"fileUrl": IMG, "fileSizeBytes": 3}


def test_to_json_round_trips():
    doc = load("placeholders.json")
    assert json.loads(Message.from_dict(doc).to_json()) == doc


# ---------------------------------------------------------------- structure errors


@pytest.mark.parametrize(
    ("doc", "paths"),
    [
        ({"text": "Hi", "extra": 1}, {"extra"}),
        (
            {"richCard": {"standaloneCard": {"cardContent": {"titel": "x"}}}},
            {"richCard.standaloneCard.cardContent.titel"},
        ),
        ({"text": None}, {"text"}),
        ({"text": 1}, {"text"}),
        ({"suggestions": "x"}, {"suggestions"}),
        ({"suggestions": [1]}, {"suggestions.0"}),
        ({"suggestions": [{"reply": {}}]}, {"suggestions.0.reply.text"}),
        ({"contentInfo": {"fileUrl": IMG, "fileSizeBytes": True}}, {"contentInfo.fileSizeBytes"}),
        ({"contentInfo": {"fileUrl": IMG, "fileSizeBytes": 1.5}}, {"contentInfo.fileSizeBytes"}),
        ({"contentInfo": {"fileUrl": IMG, "forceRefresh": "yes"}}, {"contentInfo.forceRefresh"}),
        (
            {
                "suggestions": [
                    action(
                        viewLocationAction={"latLong": {"latitude": "1", "longitude": float("nan")}}
                    )
                ]
            },
            {
                "suggestions.0.action.viewLocationAction.latLong.latitude",
                "suggestions.0.action.viewLocationAction.latLong.longitude",
            },
        ),
        (
            {"richCard": {"carouselCard": {"cardContents": [card(), {"media": []}]}}},
            {"richCard.carouselCard.cardContents.1.media"},
        ),
        ({"richCard": {"standaloneCard": {}}}, {"richCard.standaloneCard.cardContent"}),
        (
            {"fallback": {"sms": {"sender": "X"}, "mms": {}}},
            {"fallback.sms.text", "fallback.mms.text"},
        ),
        (["text"], {""}),
        ("text", {""}),
        ({1: "x"}, {"1"}),
    ],
)
def test_structure_errors_have_paths(doc, paths):
    assert structure_paths(doc) == paths


def test_from_json_rejects_bad_json():
    with pytest.raises(MessageInvalid) as info:
        Message.from_json("{not json")
    assert info.value.problems[0][0] == ""


def test_parse_message_raises_with_all_validation_problems():
    with pytest.raises(MessageInvalid) as info:
        parse_message({"text": "", "suggestions": [reply(text="")]})
    assert {p for p, _ in info.value.problems} == {"text", "suggestions.0.reply.text"}


def test_validated_returns_self():
    message = Message.from_dict(load("text.json"))
    assert message.validated() is message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["text", "reply", "action", "suggestions", "richCard", "x", "fileUrl"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_garbage_never_raises_anything_but_message_invalid(value):
    try:
        message = Message.from_dict(value)
    except MessageInvalid as exc:
        assert exc.problems
    else:
        message.validate()


# ---------------------------------------------------------------- hypothesis round trip

short = st.text(max_size=8)
number = st.integers(-200, 200) | st.floats(-200, 200, allow_nan=False)


def obj(required: dict | None = None, optional: dict | None = None):
    return st.fixed_dictionaries(required or {}, optional=optional or {})


content_info = obj(
    optional={
        "fileUrl": short,
        "thumbnailUrl": short,
        "forceRefresh": st.booleans(),
        "mimeType": short,
        "fileSizeBytes": st.integers(0, 10**9),
        "fileName": short,
        "thumbnailMimeType": short,
        "thumbnailFileSizeBytes": st.integers(0, 10**6),
    }
)
action_kinds = {
    "openUrlAction": obj({"url": short}, {"application": short, "webviewViewMode": short}),
    "dialAction": obj({"phoneNumber": short}),
    "viewLocationAction": obj(
        optional={
            "latLong": obj({"latitude": number, "longitude": number}),
            "label": short,
            "query": short,
        }
    ),
    "createCalendarEventAction": obj(
        {"startTime": short, "endTime": short, "title": short}, {"description": short}
    ),
    "shareLocationAction": st.just({}),
}
suggestion = st.one_of(
    obj({"reply": obj({"text": short}, {"postbackData": short})}),
    obj(
        {
            "action": obj(
                {"text": short}, {"postbackData": short, "fallbackUrl": short, **action_kinds}
            )
        }
    ),
)
card_content = obj(
    optional={
        "title": short,
        "description": short,
        "media": obj(optional={"height": short, "contentInfo": content_info}),
        "suggestions": st.lists(suggestion, max_size=2),
    }
)
rich_card = obj(
    optional={
        "standaloneCard": obj(
            {"cardContent": card_content},
            {"cardOrientation": short, "thumbnailImageAlignment": short},
        ),
        "carouselCard": obj(
            {"cardContents": st.lists(card_content, max_size=3)}, {"cardWidth": short}
        ),
    }
)
message_docs = obj(
    optional={
        "text": short,
        "contentInfo": content_info,
        "richCard": rich_card,
        "suggestions": st.lists(suggestion, max_size=3),
        "fallback": obj(
            optional={
                "sms": obj({"text": short}, {"sender": short}),
                "mms": obj({"text": short}, {"mediaUrl": short, "subject": short}),
            }
        ),
    }
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(message_docs)
def test_round_trip_property(doc):
    message = Message.from_dict(copy.deepcopy(doc))
    assert message.to_dict() == doc
    assert Message.from_json(json.dumps(doc)).to_dict() == doc
    message.validate()  # never raises


# ---------------------------------------------------------------- shape helpers


def test_all_suggestions_paths_and_order():
    doc = carousel([card(suggestions=[reply()]), card(suggestions=[reply(), open_url()])])
    doc["suggestions"] = [reply()]
    paths = [p for p, _ in Message.from_dict(doc).all_suggestions()]
    assert paths == [
        "suggestions.0",
        "richCard.carouselCard.cardContents.0.suggestions.0",
        "richCard.carouselCard.cardContents.1.suggestions.0",
        "richCard.carouselCard.cardContents.1.suggestions.1",
    ]
    standalone_doc = standalone(card(suggestions=[reply()]))
    assert [p for p, _ in Message.from_dict(standalone_doc).all_suggestions()] == [
        "richCard.standaloneCard.cardContent.suggestions.0"
    ]


@pytest.mark.parametrize(
    ("suggestion", "kind"),
    [
        (reply(), "reply"),
        (open_url(), "open_url"),
        (action(dialAction={"phoneNumber": "+33612345678"}), "dial"),
        (action(viewLocationAction={"query": "x"}), "view_location"),
        (action(shareLocationAction={}), "share_location"),
        (calendar("2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z"), "create_calendar_event"),
        (action(), ""),
        ({}, ""),
    ],
)
def test_suggestion_type(suggestion, kind):
    assert Suggestion.from_dict(suggestion).type == kind


def test_suggestion_text_and_postback_helpers():
    s = Suggestion.from_dict(reply("Ok", "pb"))
    assert (s.text, s.postback_data) == ("Ok", "pb")
    s = Suggestion.from_dict(open_url())
    assert (s.text, s.postback_data) == ("Go", "go")
    assert Suggestion().text == ""


def test_media_type_sets():
    assert "application/pdf" in FILE_MEDIA_TYPES and "application/pdf" not in CARD_MEDIA_TYPES
    assert CARD_MEDIA_TYPES < FILE_MEDIA_TYPES
    assert len(FILE_MEDIA_TYPES) == 18
    assert LIMITS["text"] == 3072 and LIMITS["message_suggestions"] == 11


# ---------------------------------------------------------------- validation rules

SA = "richCard.standaloneCard"
SAC = "richCard.standaloneCard.cardContent"
CC = "richCard.carouselCard"
S0A = "suggestions.0.action"


def twelve(n: int) -> list[dict]:
    return [reply(f"R{i}", f"r{i}") for i in range(n)]


RULE_CASES = {
    # content choice
    "one content: text + card": ({**standalone(), "text": "x"}, {""}),
    "one content: file + card": ({**standalone(), "contentInfo": {"fileUrl": IMG}}, {""}),
    "text required": ({}, {"text"}),
    "text not empty": ({"text": ""}, {"text"}),
    "text max": ({"text": "a" * 3073}, {"text"}),
    # cards
    "title max": (standalone(card(title="t" * 201)), {f"{SAC}.title"}),
    "description max": (standalone(card(description="d" * 2001)), {f"{SAC}.description"}),
    "card needs content": (standalone({"suggestions": [reply()]}), {SAC}),
    "card needs content (carousel)": (
        carousel([card(), {"title": "", "description": ""}]),
        {f"{CC}.cardContents.1"},
    ),
    "card suggestions max": (standalone(card(suggestions=twelve(5))), {f"{SAC}.suggestions"}),
    "orientation": (standalone(cardOrientation="DIAGONAL"), {f"{SA}.cardOrientation"}),
    "alignment value": (
        standalone(cardOrientation="HORIZONTAL", thumbnailImageAlignment="CENTER"),
        {f"{SA}.thumbnailImageAlignment"},
    ),
    "alignment only horizontal": (
        standalone(thumbnailImageAlignment="LEFT"),
        {f"{SA}.thumbnailImageAlignment"},
    ),
    "media height": (
        standalone(card(media={"height": "HUGE", "contentInfo": {"fileUrl": IMG}})),
        {f"{SAC}.media.height"},
    ),
    "media needs contentInfo": (
        standalone(card(media={"height": "SHORT"})),
        {f"{SAC}.media.contentInfo"},
    ),
    "card media type": (
        standalone(card(media={"contentInfo": {"fileUrl": IMG, "mimeType": "application/pdf"}})),
        {f"{SAC}.media.contentInfo.mimeType"},
    ),
    "media url length": (
        standalone(card(media={"contentInfo": {"fileUrl": "https://e.x/" + "a" * 1989}})),
        {f"{SAC}.media.contentInfo.fileUrl"},
    ),
    "rich card needs one kind": ({"richCard": {}}, {"richCard"}),
    "rich card not both": (
        {"richCard": {**standalone()["richCard"], **carousel([card(), card()])["richCard"]}},
        {"richCard"},
    ),
    # carousel
    "carousel min": (carousel([card()]), {f"{CC}.cardContents"}),
    "carousel max": (carousel([card()] * 11), {f"{CC}.cardContents"}),
    "card width": (carousel([card(), card()], width="LARGE"), {f"{CC}.cardWidth"}),
    "tall in small carousel": (
        carousel(
            [card(), card(media={"height": "TALL", "contentInfo": {"fileUrl": IMG}})], "SMALL"
        ),
        {f"{CC}.cardContents.1.media.height"},
    ),
    # suggestions
    "message suggestions max": (text_doc(suggestions=twelve(12)), {"suggestions"}),
    "reply text min": (with_suggestion(reply(text="")), {"suggestions.0.reply.text"}),
    "reply text max": (with_suggestion(reply(text="x" * 26)), {"suggestions.0.reply.text"}),
    "action text max": (
        with_suggestion({"action": {**open_url()["action"], "text": "x" * 26}}),
        {f"{S0A}.text"},
    ),
    "postback max": (
        with_suggestion(reply(postback="p" * 2049)),
        {"suggestions.0.reply.postbackData"},
    ),
    "action postback max": (
        with_suggestion({"action": {**open_url()["action"], "postbackData": "p" * 2049}}),
        {f"{S0A}.postbackData"},
    ),
    "card suggestion checked": (
        standalone(card(suggestions=[reply(text="")])),
        {f"{SAC}.suggestions.0.reply.text"},
    ),
    "reply xor action (both)": (with_suggestion({**reply(), **open_url()}), {"suggestions.0"}),
    "reply xor action (neither)": (with_suggestion({}), {"suggestions.0"}),
    "one action type (none)": (with_suggestion(action()), {S0A}),
    "one action type (two)": (
        with_suggestion(action(dialAction={"phoneNumber": "+33612345678"}, shareLocationAction={})),
        {S0A},
    ),
    "url scheme": (
        with_suggestion(open_url(url="javascript:alert(1)")),
        {f"{S0A}.openUrlAction.url"},
    ),
    "url unparsable": (
        with_suggestion(open_url(url="https://[::1/x")),
        {f"{S0A}.openUrlAction.url"},
    ),
    "url host": (with_suggestion(open_url(url="https://")), {f"{S0A}.openUrlAction.url"}),
    "url max": (
        with_suggestion(open_url(url="https://e.x/" + "a" * 2037)),
        {f"{S0A}.openUrlAction.url"},
    ),
    "fallback url": (
        with_suggestion({"action": {**open_url()["action"], "fallbackUrl": "www.example.com"}}),
        {f"{S0A}.fallbackUrl"},
    ),
    "application": (
        with_suggestion(open_url(application="APP")),
        {f"{S0A}.openUrlAction.application"},
    ),
    "webview mode value": (
        with_suggestion(open_url(application="WEBVIEW", webviewViewMode="WIDE")),
        {f"{S0A}.openUrlAction.webviewViewMode"},
    ),
    "webview mode only with webview": (
        with_suggestion(open_url(application="BROWSER", webviewViewMode="FULL")),
        {f"{S0A}.openUrlAction.webviewViewMode"},
    ),
    "dial e164 plus": (
        with_suggestion(action(dialAction={"phoneNumber": "33612345678"})),
        {f"{S0A}.dialAction.phoneNumber"},
    ),
    "dial e164 short": (
        with_suggestion(action(dialAction={"phoneNumber": "+12345"})),
        {f"{S0A}.dialAction.phoneNumber"},
    ),
    "dial e164 long": (
        with_suggestion(action(dialAction={"phoneNumber": "+1234567890123456"})),
        {f"{S0A}.dialAction.phoneNumber"},
    ),
    "latitude": (
        with_suggestion(action(viewLocationAction={"latLong": {"latitude": 90.5, "longitude": 0}})),
        {f"{S0A}.viewLocationAction.latLong.latitude"},
    ),
    "longitude": (
        with_suggestion(
            action(viewLocationAction={"latLong": {"latitude": 0, "longitude": -180.1}})
        ),
        {f"{S0A}.viewLocationAction.latLong.longitude"},
    ),
    "location needs latLong or query": (
        with_suggestion(action(viewLocationAction={"label": "Shop"})),
        {f"{S0A}.viewLocationAction"},
    ),
    "calendar start format": (
        with_suggestion(calendar("2020-06-30 19:00:00", "2020-06-30T19:30:00Z")),
        {f"{S0A}.createCalendarEventAction.startTime"},
    ),
    "calendar end format": (
        with_suggestion(calendar("2020-06-30T19:00:00+02:00", "2020-06-31T19:30:00+02:00")),
        {f"{S0A}.createCalendarEventAction.endTime"},
    ),
    "calendar end after start": (
        with_suggestion(calendar("2020-06-30T19:00:00+02:00", "2020-06-30T17:00:00Z")),
        {f"{S0A}.createCalendarEventAction.endTime"},
    ),
    "calendar title": (
        with_suggestion(calendar("2020-06-30T19:00:00Z", "2020-06-30T20:00:00Z", title="")),
        {f"{S0A}.createCalendarEventAction.title"},
    ),
    # file messages
    "file url required": ({"contentInfo": {"mimeType": "image/png"}}, {"contentInfo.fileUrl"}),
    "file url scheme": (
        {"contentInfo": {"fileUrl": "file:///etc/passwd"}},
        {"contentInfo.fileUrl"},
    ),
    "thumbnail url": (
        {"contentInfo": {"fileUrl": IMG, "thumbnailUrl": "thumb.jpg"}},
        {"contentInfo.thumbnailUrl"},
    ),
    "file media type": (
        {"contentInfo": {"fileUrl": IMG, "mimeType": "text/plain"}},
        {"contentInfo.mimeType"},
    ),
    "thumbnail media type": (
        {"contentInfo": {"fileUrl": IMG, "thumbnailMimeType": "video/mp4"}},
        {"contentInfo.thumbnailMimeType"},
    ),
    "file size": (
        {"contentInfo": {"fileUrl": IMG, "fileSizeBytes": -1}},
        {"contentInfo.fileSizeBytes"},
    ),
    "file size max": (
        {"contentInfo": {"fileUrl": IMG, "fileSizeBytes": 100 * 1024 * 1024 + 1}},
        {"contentInfo.fileSizeBytes"},
    ),
    "thumbnail size": (
        {"contentInfo": {"fileUrl": IMG, "thumbnailFileSizeBytes": -5}},
        {"contentInfo.thumbnailFileSizeBytes"},
    ),
    # fallback
    "fallback needs sms or mms": (text_doc(fallback={}), {"fallback"}),
    "fallback sms text": (text_doc(fallback={"sms": {"text": ""}}), {"fallback.sms.text"}),
    "fallback mms text": (text_doc(fallback={"mms": {"text": ""}}), {"fallback.mms.text"}),
    "fallback mms url": (
        text_doc(fallback={"mms": {"text": "x", "mediaUrl": "media.jpg"}}),
        {"fallback.mms.mediaUrl"},
    ),
    # placeholders
    "placeholder unbalanced": ({"text": "Hi {{ first_name }"}, {"text"}),
    "placeholder bad name": (standalone(card(title="{{ 1st }}")), {f"{SAC}.title"}),
    "placeholder in url": (
        with_suggestion(open_url(url="https://e.x/?a={{ a")),
        {f"{S0A}.openUrlAction.url"},
    ),
    "placeholder in fallback": (
        text_doc(fallback={"sms": {"text": "}} oops"}}),
        {"fallback.sms.text"},
    ),
    # size
    "document size": ({"text": "a" * (MAX_DOCUMENT_BYTES + 1)}, {"text", ""}),
}


@pytest.mark.parametrize(("doc", "paths"), RULE_CASES.values(), ids=RULE_CASES.keys())
def test_rule(doc, paths):
    assert problem_paths(doc) == paths


@pytest.mark.parametrize(
    "doc",
    [
        {"text": "a" * 3072},
        standalone(card(title="t" * 200, description="d" * 2000, suggestions=twelve(4))),
        text_doc(suggestions=twelve(11)),
        carousel([card()] * 10),
        carousel([card(), card(media={"height": "TALL", "contentInfo": {"fileUrl": IMG}})]),
        with_suggestion(reply(text="x" * 25, postback="p" * 2048)),
        with_suggestion(open_url(url="https://e.x/" + "a" * 2036)),
        standalone(card(media={"contentInfo": {"fileUrl": "https://e.x/" + "a" * 1988}})),
        with_suggestion(open_url(application="WEBVIEW", webviewViewMode="TALL")),
        with_suggestion(action(dialAction={"phoneNumber": "+123456"})),
        with_suggestion(action(dialAction={"phoneNumber": "+123456789012345"})),
        with_suggestion(
            action(viewLocationAction={"latLong": {"latitude": -90, "longitude": 180}})
        ),
        with_suggestion(calendar("2020-06-30T19:00:00.123456789+02:00", "2020-06-30T17:00:01z")),
        standalone(cardOrientation="HORIZONTAL", thumbnailImageAlignment="RIGHT"),
        {"contentInfo": {"fileUrl": "https://e.x/a.pdf", "mimeType": "application/pdf"}},
        text_doc(fallback={"sms": {"text": "x"}, "mms": {"text": "y"}}),
        {"text": "Hi {first_name} {{ a.b_c }} {{x}}"},
        {"text": "a" * 3072, "suggestions": twelve(11)},
        {"text": "", "contentInfo": {"fileUrl": IMG}},  # empty text is not content
    ],
)
def test_boundaries_are_valid(doc):
    assert problem_paths(doc) == set()


def test_validate_reports_every_problem():
    doc = carousel([card(title="t" * 201), card(suggestions=[reply(text="")])], width="TINY")
    doc["suggestions"] = [open_url(url="ftp://x")]
    assert problem_paths(doc) == {
        "richCard.carouselCard.cardWidth",
        "richCard.carouselCard.cardContents.0.title",
        "richCard.carouselCard.cardContents.1.suggestions.0.reply.text",
        "suggestions.0.action.openUrlAction.url",
    }


def test_validate_never_raises_on_python_built_nonsense():
    message = Message(suggestions=[Suggestion()], content_info=ContentInfo())
    assert ("suggestions.0", "give exactly one of reply, action") in message.validate()


def test_invalid_corpus_matches_expected_paths():
    expected = json.loads((INVALID / "expected.json").read_text())
    files = {p.name for p in INVALID.glob("*.json")} - {"expected.json"}
    assert files == set(expected)
    for name, paths in expected.items():
        with pytest.raises(MessageInvalid) as info:
            parse_message(json.loads((INVALID / name).read_text()))
        assert sorted(p for p, _ in info.value.problems) == sorted(paths), name


# ---------------------------------------------------------------- placeholders + personalize


def test_placeholders_found_everywhere():
    message = Message.from_dict(load("placeholders.json"))
    assert message.placeholders() == {"first_name", "voucher.code", "contact_id"}
    assert message.has_placeholders
    assert not Message.from_dict(load("text.json")).has_placeholders


def test_placeholders_in_every_field_kind():
    doc = {
        "contentInfo": {
            "fileUrl": "https://e.x/{{ f1 }}.jpg",
            "thumbnailUrl": "https://e.x/{{f2}}",
            "fileName": "{{ f3 }}",
        },
        "suggestions": [
            reply("{{ r1 }}", "{{ r2 }}"),
            {
                "action": {
                    "text": "{{ a1 }}",
                    "postbackData": "{{ a2 }}",
                    "fallbackUrl": "https://e.x/{{ a3 }}",
                    "viewLocationAction": {"label": "{{ l1 }}", "query": "{{ l2 }}"},
                }
            },
            calendar("2020-06-30T19:00:00Z", "2020-06-30T20:00:00Z", title="{{ c1 }}"),
        ],
        "fallback": {
            "sms": {"text": "{{ s1 }}", "sender": "{{ no }}"},
            "mms": {"text": "{{ m1 }}", "subject": "{{ m2 }}", "mediaUrl": "https://e.x/{{ m3 }}"},
        },
    }
    doc["suggestions"][2]["action"]["createCalendarEventAction"]["description"] = "{{ c2 }}"
    names = Message.from_dict(doc).placeholders()
    assert names == {
        "f1",
        "f2",
        "f3",
        "r1",
        "r2",
        "a1",
        "a2",
        "a3",
        "l1",
        "l2",
        "c1",
        "c2",
        "s1",
        "m1",
        "m2",
        "m3",
    }


def test_personalize_replaces_and_returns_new_message():
    original = Message.from_dict(load("placeholders.json"))
    before = original.to_dict()
    result = original.personalize(
        {"first_name": "Zoé & Co", "voucher.code": "A/1", "contact_id": 42}
    )
    assert original.to_dict() == before
    content = result.rich_card.standalone_card.card_content
    assert content.title == "Zoé & Co, this one is for you"
    assert content.description == "Hi Zoé & Co, your code is A/1."
    s = content.suggestions[0].action
    assert s.postback_data == "claim_42"
    assert (
        s.open_url_action.url == "https://www.example.com/offer?name=Zo%C3%A9%20%26%20Co&code=A%2F1"
    )
    assert result.fallback.sms.text.startswith("Hi Zoé & Co, claim")
    assert not result.has_placeholders
    assert result.validate() == []
    assert result.to_dict().keys() == before.keys()


def test_personalize_missing_and_none_become_empty():
    message = Message.from_dict({"text": "Hi {{ first_name }}{{ last_name }}!"})
    assert message.personalize({"last_name": None}).text == "Hi !"


def test_personalize_is_whitespace_tolerant_and_keeps_other_braces():
    message = Message.from_dict({"text": "{{first_name}} {{   first_name   }} {single} {{ 9x }}"})
    assert message.personalize({"first_name": "Ann"}).text == "Ann Ann {single} {{ 9x }}"


def test_personalize_does_not_touch_phone_or_sender():
    doc = text_doc(
        suggestions=[action(dialAction={"phoneNumber": "{{ phone }}"})],
        fallback={"sms": {"text": "x", "sender": "{{ sender }}"}},
    )
    result = Message.from_dict(doc).personalize({"phone": "+33612345678", "sender": "ME"})
    assert result.to_dict() == doc


def test_documentation_examples_are_valid():
    text = (Path(__file__).resolve().parents[2] / "docs" / "message-format.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    for block in blocks:
        if block.lstrip().startswith('{"reply"'):  # one suggestion per line
            for line in block.split("\n{"):
                suggestion = Suggestion.from_dict(
                    json.loads(line if line[0] == "{" else "{" + line)
                )
                assert Message(text="x", suggestions=[suggestion]).validate() == []
        else:
            parse_message(json.loads(block))


def test_switching_kind_on_a_parsed_message_stays_valid():
    """Adapters' degradations mutate parsed messages (e.g. text -> card)."""
    message = Message.from_dict(load("text.json"))
    message.rich_card = RichCard(
        standalone_card=StandaloneCard(CardContent(description=message.text))
    )
    message.text = ""
    assert message.kind == "card"
    assert message.validate() == []
    assert Message.from_dict(message.to_dict()).validate() == []
