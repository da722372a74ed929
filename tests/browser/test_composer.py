"""The composer and the previews in a real browser (Playwright + Debian chromium).

Run: ``.venv/bin/pytest tests/browser -q -p no:cacheprovider`` (add ``-s`` to see the
measured preview re-render times).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from tests.campaigns.factories import SECRET_MARKER, make_agent, make_contact, make_template
from tests.campaigns.test_composer import SMS_SAMPLES, sms_expectations

from .conftest import png

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages"
CAROUSEL = "richCard.carouselCard.cardContents"


def p(path: str) -> str:
    """CSS selector of the editor input bound to a canonical path."""
    return f'.rcs-editor [data-path="{path}"]:not(button)'


def field(path: str) -> str:
    return f'.rcs-field[data-field-path="{path}"]'


def ready(page):
    page.wait_for_selector(".rcs-composer.rcs-ready", state="attached")


def preview_titles(page) -> list[str]:
    return page.locator(".rcs-phone-body .rcs-pv-carousel .rcs-pv-title").all_inner_texts()


def card_titles(page) -> list[str]:
    return [
        page.input_value(p(f"{CAROUSEL}.{i}.title"))
        for i in range(page.locator(".rcs-card-editor[data-index]").count())
    ]


def drag_card(page, source: int, target: int) -> None:
    """HTML5 drag of a card's handle onto another card (with real mouse moves)."""
    handle = page.locator(f'.rcs-card-editor[data-index="{source}"] .rcs-drag')
    handle.scroll_into_view_if_needed()
    page.locator(
        f'.rcs-card-editor[data-index="{target}"] .rcs-card-head'
    ).scroll_into_view_if_needed()
    handle.hover()
    page.mouse.down()
    box = page.locator(f'.rcs-card-editor[data-index="{target}"]').bounding_box()
    page.mouse.move(box["x"] + 120, box["y"] + min(box["height"] - 20, 200), steps=10)
    page.mouse.up()


def add_suggestion(page, list_path: str, kind: str) -> str:
    page.click(f'.rcs-editor button[data-action="add-suggestion"][data-path="{list_path}"]')
    index = (
        page.locator(f'.rcs-suggestions[data-scope-path="{list_path}"] .rcs-suggestion').count() - 1
    )
    path = f"{list_path}.{index}"
    page.select_option(f'select[data-action="suggestion-type"][data-path="{path}"]', kind)
    return path


EXPECTED = {
    "richCard": {
        "carouselCard": {
            "cardWidth": "MEDIUM",
            "cardContents": [
                {
                    "title": "Red sneakers",
                    "description": "Limited offer for you, {{ first_name }}!",
                    "media": {
                        "contentInfo": {"fileUrl": "https://cdn.example.com/rcs/red.png"},
                        "height": "MEDIUM",
                    },
                    "suggestions": [{"reply": {"text": "I want it", "postbackData": "want_red"}}],
                },
                {
                    "title": "Blue sneakers",
                    "description": "Only today.",
                    "media": {
                        "contentInfo": {"fileUrl": "https://cdn.example.com/rcs/blue.png"},
                        "height": "SHORT",
                    },
                    "suggestions": [
                        {
                            "action": {
                                "text": "Shop now",
                                "openUrlAction": {
                                    "url": "https://shop.example.com/blue",
                                    "application": "WEBVIEW",
                                    "webviewViewMode": "HALF",
                                },
                            }
                        }
                    ],
                },
                {
                    "title": "Call our store",
                    "description": "We answer 9:00-19:00.",
                    "suggestions": [
                        {
                            "action": {
                                "text": "Call us",
                                "dialAction": {"phoneNumber": "+33612345678"},
                            }
                        }
                    ],
                },
            ],
        }
    },
    "suggestions": [
        {
            "action": {
                "text": "Find a store",
                "viewLocationAction": {
                    "latLong": {"latitude": 48.8566, "longitude": 2.3522},
                    "label": "Paris store",
                },
            }
        }
    ],
    "fallback": {
        "sms": {
            "text": "Red & blue sneakers -20% today: https://shop.example.com",
            "sender": "SHOP",
        }
    },
}


def test_build_a_carousel_save_and_reopen(page, screenshots, settings, tmp_path):
    from rcsportal.campaigns.models import Template

    settings.MEDIA_ROOT = tmp_path
    make_agent(name="Shop SMS Partner", provider="smspartner", credentials={"apiKey": "k"})
    page.goto(page.base_url + "/admin/campaigns/template/add/")
    ready(page)
    page.fill("#id_name", "Sneakers week")
    page.check('input[data-action="kind"][value="carousel"]')
    assert page.locator(".rcs-card-editor[data-index]").count() == 2

    # card 1: reply chip
    page.fill(p(f"{CAROUSEL}.0.title"), "Red sneakers")
    page.fill(p(f"{CAROUSEL}.0.description"), "Limited offer for you, ")
    page.select_option(".rcs-insert select", "first_name")  # inserted at the cursor
    page.type(p(f"{CAROUSEL}.0.description"), "!")
    page.fill(p(f"{CAROUSEL}.0.media.contentInfo.fileUrl"), "https://cdn.example.com/rcs/red.png")
    page.select_option(p(f"{CAROUSEL}.0.media.height"), "MEDIUM")
    s = add_suggestion(page, f"{CAROUSEL}.0.suggestions", "reply")
    page.fill(p(f"{s}.reply.text"), "I want it")
    page.fill(p(f"{s}.reply.postbackData"), "want_red")

    # card 2: open URL in a half-height webview
    page.fill(p(f"{CAROUSEL}.1.title"), "Blue sneakers")
    page.fill(p(f"{CAROUSEL}.1.description"), "Only today.")
    page.fill(p(f"{CAROUSEL}.1.media.contentInfo.fileUrl"), "https://cdn.example.com/rcs/blue.png")
    page.select_option(p(f"{CAROUSEL}.1.media.height"), "SHORT")
    s = add_suggestion(page, f"{CAROUSEL}.1.suggestions", "open_url")
    page.fill(p(f"{s}.action.text"), "Shop now")
    page.fill(p(f"{s}.action.openUrlAction.url"), "https://shop.example.com/blue")
    page.select_option(p(f"{s}.action.openUrlAction.application"), "WEBVIEW")
    page.select_option(p(f"{s}.action.openUrlAction.webviewViewMode"), "HALF")

    # card 3 (added): dial, and an uploaded image
    page.click('.rcs-editor button[data-action="add-card"]')
    page.fill(p(f"{CAROUSEL}.2.title"), "Call our store")
    page.fill(p(f"{CAROUSEL}.2.description"), "We answer 9:00-19:00.")
    page.set_input_files(
        f'input[type="file"][data-target="{CAROUSEL}.2.media.contentInfo.fileUrl"]',
        files=[
            {
                "name": "store.png",
                "mimeType": "image/png",
                "buffer": png(64, 40, (0, 0, 0), (9, 9, 9)),
            }
        ],
    )
    page.wait_for_function(
        f"() => document.querySelector('[data-path=\"{CAROUSEL}.2.media.contentInfo.fileUrl\"]').value.includes('/media/rcs/')"
    )
    s = add_suggestion(page, f"{CAROUSEL}.2.suggestions", "dial")
    page.fill(p(f"{s}.action.text"), "Call us")
    page.fill(p(f"{s}.action.dialAction.phoneNumber"), "+33612345678")

    # message-level chip: a location by latitude/longitude
    s = add_suggestion(page, "suggestions", "view_location")
    page.fill(p(f"{s}.action.text"), "Find a store")
    page.fill(p(f"{s}.action.viewLocationAction.latLong.latitude"), "48.8566")
    page.fill(p(f"{s}.action.viewLocationAction.latLong.longitude"), "2.3522")
    page.fill(p(f"{s}.action.viewLocationAction.label"), "Paris store")

    # fallback copy
    page.click('.rcs-editor button[data-action="toggle-sms"]')
    page.fill(p("fallback.sms.text"), EXPECTED["fallback"]["sms"]["text"])
    page.fill(p("fallback.sms.sender"), "SHOP")

    # reorder: drag card 2 onto card 1, then back with the keyboard buttons
    drag_card(page, 1, 0)
    assert card_titles(page) == ["Blue sneakers", "Red sneakers", "Call our store"]
    assert preview_titles(page) == ["Blue sneakers", "Red sneakers", "Call our store"]
    page.focus(f'button[data-action="move-down"][data-path="{CAROUSEL}.0"]')
    page.keyboard.press("Enter")
    assert card_titles(page) == ["Red sneakers", "Blue sneakers", "Call our store"]
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused == "Move card 2 right"  # focus follows the moved card
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Move card 2 left"
    assert card_titles(page) == ["Blue sneakers", "Red sneakers", "Call our store"]
    page.focus(f'button[data-action="move-down"][data-path="{CAROUSEL}.0"]')
    page.keyboard.press("Enter")
    assert card_titles(page) == ["Red sneakers", "Blue sneakers", "Call our store"]

    # the live preview followed every edit
    assert preview_titles(page) == ["Red sneakers", "Blue sneakers", "Call our store"]
    assert page.locator(".rcs-pv-carousel .rcs-pv-card").count() == 3
    assert page.locator(".rcs-pv-carousel .rcs-pv-card-chip").all_inner_texts() == [
        "I want it",
        "Shop now",
        "Call us",
    ]
    assert "Find a store" in page.inner_text(".rcs-pv-chips")
    assert "first_name" in page.inner_text(".rcs-pv-carousel .rcs-pv-desc >> nth=0")
    page.fill(p(f"{CAROUSEL}.0.title"), "Red sneakers!")
    assert preview_titles(page)[0] == "Red sneakers!"
    page.fill(p(f"{CAROUSEL}.0.title"), "Red sneakers")
    assert page.inner_text('.rcs-sms dd[data-sms="encoding"]') == "GSM-7"
    assert page.inner_text('.rcs-sms dd[data-sms="segments"]') == "1"
    assert page.locator(".rcs-summary li").count() == 0  # nothing to fix

    page.select_option("#id_check_agent", label="Shop SMS Partner (SMS Partner)")
    page.wait_for_selector(".rcs-warnings h4:has-text('Shop SMS Partner')")
    page.locator(".rcs-toolbar").scroll_into_view_if_needed()
    page.evaluate(
        "() => window.scrollBy(0, document.querySelector('.rcs-toolbar').getBoundingClientRect().top - 8)"
    )
    page.screenshot(path=str(screenshots / "composer.png"))

    page.click('input[name="_continue"]')
    page.wait_for_selector(".messagelist .success")
    template = Template.objects.get(name="Sneakers week")
    saved = json.loads(json.dumps(template.content))
    uploaded = saved["richCard"]["carouselCard"]["cardContents"][2].pop("media")
    assert uploaded["contentInfo"]["fileUrl"].startswith(settings.PUBLIC_BASE_URL + "/media/rcs/")
    assert uploaded["contentInfo"]["mimeType"] == "image/png"
    assert uploaded["contentInfo"]["fileSizeBytes"] > 0
    assert saved == EXPECTED
    assert template.kind == "carousel"

    # reopen: everything is where it was
    page.goto(page.base_url + f"/admin/campaigns/template/{template.pk}/change/")
    ready(page)
    assert page.is_checked('input[data-action="kind"][value="carousel"]')
    assert card_titles(page) == ["Red sneakers", "Blue sneakers", "Call our store"]
    assert page.input_value(p(f"{CAROUSEL}.1.suggestions.0.action.openUrlAction.url")) == (
        "https://shop.example.com/blue"
    )
    assert (
        page.input_value(p(f"{CAROUSEL}.1.suggestions.0.action.openUrlAction.webviewViewMode"))
        == "HALF"
    )
    assert (
        page.input_value(p("suggestions.0.action.viewLocationAction.latLong.latitude")) == "48.8566"
    )
    assert page.input_value(p("fallback.sms.sender")) == "SHOP"
    assert preview_titles(page) == ["Red sneakers", "Blue sneakers", "Call our store"]
    assert json.loads(page.input_value("#id_content")) == template.content


def test_over_long_title_error_on_the_field_client_side_and_after_saving(page):
    from rcsportal.campaigns.models import Template

    doc = json.loads((FIXTURES / "carousel_2.json").read_text())
    template = make_template(doc, name="Two cards")
    page.goto(page.base_url + f"/admin/campaigns/template/{template.pk}/change/")
    ready(page)
    title = f"{CAROUSEL}.1.title"
    page.fill(p(title), "T" * 201)
    assert "rcs-has-error" in page.get_attribute(field(title), "class")
    assert "at most 200 characters (got 201)" in page.inner_text(f"{field(title)} .rcs-msg")
    assert page.get_attribute(p(title), "aria-invalid") == "true"
    assert page.inner_text(f"{field(title)} .rcs-counter").startswith("201 / 200")
    assert "Card 2 › title" in page.inner_text(".rcs-summary")

    page.click('input[name="_continue"]')  # the server refuses it too
    page.wait_for_selector(".errornote")
    ready(page)
    assert "Card 2 › title: at most 200 characters (got 201)" in page.inner_text(".errorlist")
    message = page.inner_text(f"{field(title)} .rcs-msg")
    assert "at most 200 characters (got 201)" in message and "(on save)" in message
    assert page.input_value(p(title)) == "T" * 201  # nothing typed was lost
    template.refresh_from_db()
    assert template.content == doc
    # the summary link takes the keyboard to the field
    page.click('.rcs-summary a[data-goto="richCard.carouselCard.cardContents.1.title"]')
    assert page.evaluate("() => document.activeElement.dataset.path") == title
    assert Template.objects.count() == 1


def test_switching_the_agent_shows_what_its_provider_cannot_carry(page, screenshots):
    make_agent(name="Shop BSG", provider="bsg", credentials={"api_key": SECRET_MARKER})
    make_agent(name="Shop Aerialink", provider="aerialink", credentials={"password": "x"})
    doc = json.loads((FIXTURES / "carousel_2.json").read_text())
    del doc["suggestions"][0]["action"]["fallbackUrl"]
    doc["richCard"]["carouselCard"]["cardContents"][0]["title"] = "A" * 150
    template = make_template(doc, name="Long titles")
    page.goto(page.base_url + f"/admin/campaigns/template/{template.pk}/change/")
    ready(page)
    assert "Choose an “Agent to check against”" in page.inner_text(".rcs-warnings")

    page.select_option("#id_check_agent", label="Shop BSG (BSG)")
    warnings = page.locator(".rcs-warnings")
    warnings.get_by_text("BSG cannot show a 'reply' suggestion").first.wait_for()
    assert "Remove the suggestions this provider cannot show" in warnings.inner_text()
    reply = f"{CAROUSEL}.0.suggestions.0"
    assert "cannot show a 'reply' suggestion" in page.inner_text(
        f'.rcs-suggestion[data-scope-path="{reply}"] .rcs-scope-msg'
    )

    page.select_option("#id_check_agent", label="Shop Aerialink (Aerialink (Convey))")
    warnings.get_by_text("card titles of at most 100 characters (150 given)").wait_for()
    title = f"{CAROUSEL}.0.title"
    assert "rcs-has-warning" in page.get_attribute(field(title), "class")
    assert "Aerialink (Convey) 100" in page.inner_text(f"{field(title)} .rcs-counter")
    assert "BSG" not in warnings.inner_text()


def test_send_override_panel_checks_the_template_against_the_agent(page):
    from tests.campaigns.factories import make_send

    agent = make_agent(name="Shop BSG", provider="bsg", credentials={"api_key": SECRET_MARKER})
    doc = json.loads((FIXTURES / "every_suggestion.json").read_text())
    send = make_send(agent=agent, template=make_template(doc, name="Every chip"))
    page.goto(page.base_url + f"/admin/campaigns/send/{send.pk}/change/")
    ready(page)
    page.locator("fieldset:has(.rcs-composer) summary").first.click()
    page.locator(".rcs-warnings").get_by_text("cannot show a 'reply' suggestion").first.wait_for()
    assert page.locator('.rcs-warnings input[data-degradation="drop_suggestions"]').count() >= 1
    page.locator('.rcs-warnings input[data-degradation="drop_suggestions"]').first.check()
    assert json.loads(page.input_value("#id_degradations")) == ["drop_suggestions"]
    page.click('button[data-action="start-override"]')
    page.wait_for_selector(p("richCard.standaloneCard.cardContent.title"))
    assert (
        page.input_value(p("richCard.standaloneCard.cardContent.title")) == "Everything you can tap"
    )
    assert json.loads(page.input_value("#id_content_override")) == doc
    assert SECRET_MARKER not in page.content()


def test_json_tab_accepts_rbm_material_and_reports_bad_json(page):
    page.goto(page.base_url + "/admin/campaigns/template/add/")
    ready(page)
    page.fill("#id_name", "Pasted")
    page.click('[role="tab"][data-tab="json"]')
    rbm = {
        "contentMessage": {
            "text": "From RBM, {{ first_name }}",
            "suggestions": [{"reply": {"text": "OK", "postbackData": "ok"}}],
        }
    }
    page.fill("#id_content", json.dumps(rbm))
    assert "contentMessage" in page.inner_text(".rcs-json-error")
    assert "From RBM" in page.inner_text(".rcs-phone-body")
    page.click('[role="tab"][data-tab="visual"]')
    assert page.input_value(p("text")) == "From RBM, {{ first_name }}"
    assert page.input_value(p("suggestions.0.reply.text")) == "OK"

    page.click('[role="tab"][data-tab="json"]')
    page.fill("#id_content", '{"text": "broken",')
    assert "Not valid JSON" in page.inner_text(".rcs-json-error")
    page.click('[role="tab"][data-tab="visual"]')
    assert page.get_attribute('[role="tab"][data-tab="json"]', "aria-selected") == "true"
    page.click('input[name="_continue"]')
    page.wait_for_selector(".errornote")
    ready(page)
    assert page.input_value("#id_content") == '{"text": "broken",'
    assert page.get_attribute('[role="tab"][data-tab="json"]', "aria-selected") == "true"


def test_sms_counts_match_sms_py(page):
    page.goto(page.base_url + "/admin/campaigns/template/add/")
    ready(page)
    js = page.evaluate(
        "samples => samples.map(t => window.RcsComposer.segmentInfo(t))", SMS_SAMPLES
    )
    for expected, got in zip(sms_expectations(), js, strict=True):
        assert {k: got[k] for k in expected if k != "text"} == {
            k: v for k, v in expected.items() if k != "text"
        }, expected["text"]
    # and what the user sees for a few of them
    page.fill(p("text"), "Hi")
    page.click('.rcs-editor button[data-action="toggle-sms"]')
    for expected in sms_expectations():
        if not expected["text"] or "\r" in expected["text"]:
            continue  # a textarea normalizes line breaks
        page.fill(p("fallback.sms.text"), expected["text"])
        shown = {
            k: page.inner_text(f'.rcs-sms dd[data-sms="{k}"]')
            for k in ("encoding", "segments", "characters", "units")
        }
        assert shown == {
            "encoding": expected["encoding"],
            "segments": str(expected["segments"]),
            "characters": str(expected["characters"]),
            "units": str(expected["lengthUnits"]),
        }, expected["text"]


def _stats(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms"


def test_preview_rerender_time_of_a_ten_card_carousel(page):
    doc = json.loads((FIXTURES / "carousel_10.json").read_text())
    template = make_template(doc, name="Ten cards")
    page.goto(page.base_url + f"/admin/campaigns/template/{template.pk}/change/")
    ready(page)
    assert page.locator(".rcs-pv-carousel .rcs-pv-card").count() == 10
    page.click(p(f"{CAROUSEL}.4.title"))
    page.evaluate(
        "() => { const c = window.rcsComposers[0]; c.timings.render = []; c.timings.update = []; }"
    )
    text = "Fresh arrivals: 50 keystrokes of live preview!!!!"[:50].ljust(50, "!")
    page.keyboard.type(text)
    timings = page.evaluate("() => window.rcsComposers[0].timings")
    assert len(timings["render"]) == 50
    assert preview_titles(page)[4].endswith(text)
    print(
        f"\n10-card carousel, 50 keystrokes: preview re-render {_stats(timings['render'])}; "
        f"whole keystroke handler (validate + provider check + counters + preview + SMS) "
        f"{_stats(timings['update'])}"
    )


def test_preview_pages(page, screenshots):
    from tests.campaigns.factories import make_send

    ada = make_contact(first_name="Ada", last_name="Lovelace", attributes={"voucher": "ADA-42"})
    doc = json.loads((FIXTURES / "carousel_2.json").read_text())
    doc["richCard"]["carouselCard"]["cardContents"][0]["title"] = (
        "Red sneakers for {{ first_name }}"
    )
    doc["fallback"] = {"sms": {"text": "Hi {{ first_name }}, sneakers -20% with {{ voucher }}"}}
    del doc["suggestions"][0]["action"]["fallbackUrl"]  # no provider has a field for it
    del doc["suggestions"][0]["action"]["openUrlAction"]["application"]  # SMS Partner: none
    for card in doc["richCard"]["carouselCard"]["cardContents"]:
        url = card["media"]["contentInfo"]["fileUrl"]
        card["media"]["contentInfo"]["fileUrl"] = url.replace(".jpg", ".png")
        card["media"]["contentInfo"]["mimeType"] = "image/png"
    template = make_template(doc, name="Sneakers")
    page.goto(page.base_url + f"/campaigns/preview/template/{template.pk}/")
    page.fill("#rcs-contact-q", "Love")
    page.click(".rcs-contact-picker button[type=submit]")
    page.click(f'a[href="?contact={ada.pk}"]')
    assert "Red sneakers for Ada" in page.inner_text(".rcs-phone-body")
    assert "with ADA-42" in page.inner_text(".rcs-sms")
    page.screenshot(path=str(screenshots / "preview-template.png"), full_page=True)

    agent = make_agent(
        name="Shop SMS Partner",
        provider="smspartner",
        credentials={"apiKey": SECRET_MARKER},
        base_url="https://api.smspartner.fr",
    )
    send = make_send(agent=agent, template=template, name="Sneakers week")
    send.contacts.add(ada)
    page.goto(page.base_url + f"/campaigns/preview/send/{send.pk}/")
    html = page.content()
    assert SECRET_MARKER not in html
    assert "•••" in page.inner_text(".rcs-wire")
    assert "Red sneakers for Ada" in page.inner_text(".rcs-wire")
    page.screenshot(path=str(screenshots / "preview-send.png"), full_page=True)


@pytest.mark.parametrize("theme", ["dark"])
def test_dark_theme_renders(page, screenshots, theme):
    doc = json.loads((FIXTURES / "card_horizontal.json").read_text())
    template = make_template(doc, name="Horizontal")
    page.emulate_media(color_scheme="dark")
    page.goto(page.base_url + f"/admin/campaigns/template/{template.pk}/change/")
    ready(page)
    assert page.locator(".rcs-pv-horizontal").count() == 1
    bg = page.evaluate(
        "() => getComputedStyle(document.querySelector('.rcs-pv-card')).backgroundColor"
    )
    assert bg != "rgb(255, 255, 255)"
    page.evaluate(
        "() => window.scrollBy(0, document.querySelector('.rcs-toolbar').getBoundingClientRect().top - 8)"
    )
    page.screenshot(path=str(screenshots / "composer-dark.png"))
