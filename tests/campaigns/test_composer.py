"""The composer in the Template and Send admin: server-side validation mapped to paths,
typed content never lost, widget configuration, media upload and the media URL check."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rcsportal.campaigns import composer
from rcsportal.campaigns.forms_composer import SendForm, TemplateForm
from rcsportal.campaigns.models import Template
from rcsportal.messaging import message as canonical
from rcsportal.messaging import sms
from rcsportal.messaging.providers import PROVIDERS

from .factories import make_agent, make_contact, make_send, make_template, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages"
pytestmark = pytest.mark.django_db

#: Shared with tests/browser/test_composer.py: the JS port must give the same numbers.
SMS_SAMPLES = [
    "",
    "Hello",
    "a" * 160,
    "a" * 161,
    "€" * 80,
    "a" * 152 + "€" + "a" * 152,
    "Zażółć gęślą jaźń",
    "Hi 👋 there",
    "😀" * 35,
    "😀" * 36,
    "[promo] {code} ~ ^ | \\ €",
    "Line one\nline two\r\nthree",
    "ÀÉÎÕÜ àéìòù Ç ß ¿¡",
]


def sms_expectations() -> list[dict]:
    out = []
    for text in SMS_SAMPLES:
        info = sms.segment_info(text)
        out.append(
            {
                "text": text,
                "encoding": info.encoding,
                "lengthUnits": info.length_units,
                "segments": info.segments,
                "perSegment": info.per_segment,
                "remaining": info.remaining,
                "characters": len(text),
            }
        )
    return out


def test_sms_samples_cover_both_encodings_and_multipart():
    infos = sms_expectations()
    assert {i["encoding"] for i in infos} == {"GSM-7", "UCS-2"}
    assert max(i["segments"] for i in infos) >= 3
    # the escape pair never straddles two parts
    assert sms.segment_info("a" * 152 + "€" + "a" * 152).segments == 3


@pytest.fixture
def marketer():
    user = make_user("marketer", "Marketing")
    client = Client()
    client.force_login(user)
    return client


def _carousel(title_2: str = "Blue sneakers") -> dict:
    doc = json.loads((FIXTURES / "carousel_2.json").read_text())
    doc["richCard"]["carouselCard"]["cardContents"][1]["title"] = title_2
    return doc


def _post_template(client, content, name="Spring sale", template=None, **extra):
    url = (
        reverse("admin:campaigns_template_change", args=[template.pk])
        if template
        else reverse("admin:campaigns_template_add")
    )
    data = {
        "name": name,
        "content": content if isinstance(content, str) else json.dumps(content),
        "notes": "",
        "check_agent": "",
        **extra,
    }
    return client.post(url, data)


# -------------------------------------------------------------------------------- saving


def test_add_page_renders_the_composer_with_its_configuration(marketer):
    make_contact(attributes={"voucher": "X1", "tier": "gold", "bad key": 1})
    agent = make_agent(provider="bsg", credentials={"api_key": "k"})
    response = marketer.get(reverse("admin:campaigns_template_add"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="rcs-composer"' in html
    assert "campaigns/composer.js" in html and "campaigns/composer.css" in html
    assert 'name="content"' in html  # the real field: a textarea
    assert 'name="check_agent"' in html
    form = response.context["adminform"].form
    widget = form.fields["content"].widget
    config = widget.get_context("content", "", {"id": "id_content"})["composer"]["config"]
    assert config["limits"]["card_title"] == canonical.MAX_CARD_TITLE_LENGTH
    assert set(config["providers"]) == set(PROVIDERS)
    bsg = config["providers"]["bsg"]["capabilities"]
    assert bsg["max_suggestions_per_card"] == 2 and "reply" not in bsg["suggestion_types"]
    assert config["agents"][str(agent.pk)] == {"name": agent.name, "provider": "bsg"}
    assert config["placeholders"][:6] == composer.CONTACT_FIELDS
    assert "voucher" in config["placeholders"] and "tier" in config["placeholders"]
    assert "bad key" not in config["placeholders"]
    assert config["urls"]["upload"] and config["urls"]["urlCheck"] and config["urls"]["check"]
    json.dumps(config)  # serialisable
    assert "credentials" not in html and "api_key" not in json.dumps(config["agents"])


def test_saving_valid_content(marketer):
    doc = _carousel()
    response = _post_template(marketer, doc)
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = Template.objects.get(name="Spring sale")
    assert template.content == doc
    assert template.kind == "carousel"


def test_invalid_content_errors_land_on_paths_and_the_json_is_preserved(marketer):
    long_title = "T" * (canonical.MAX_CARD_TITLE_LENGTH + 1)
    doc = _carousel(title_2=long_title)
    typed = json.dumps(doc, indent=4)
    response = _post_template(marketer, typed)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "content" in form.errors
    path = "richCard.carouselCard.cardContents.1.title"
    problems = form.fields["content"].widget.problems
    assert (path, "at most 200 characters (got 201)") in problems
    html = response.content.decode()
    assert "Card 2 › title: at most 200 characters (got 201)" in html
    # the composer config carries the problems by path
    config_json = html.split('id="id_content_composer_config" type="application/json">', 1)[1]
    config = json.loads(config_json.split("</script>", 1)[0])
    assert {
        "path": path,
        "text": "at most 200 characters (got 201)",
        "label": "Card 2 › title",
    } in (config["problems"])
    # what was typed comes back (formatted), nothing lost
    textarea = html.split('name="content"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert long_title in textarea
    assert json.loads(textarea.replace("&quot;", '"')) == doc
    assert not Template.objects.filter(name="Spring sale").exists()


def test_structure_errors_land_on_paths(marketer):
    doc = {"text": "Hi", "suggestions": [{"reply": {"text": "Yes", "colour": "red"}}]}
    response = _post_template(marketer, doc)
    assert response.status_code == 200
    problems = response.context["adminform"].form.fields["content"].widget.problems
    assert ("suggestions.0.reply.colour", "unknown key") in problems


def test_invalid_json_is_returned_exactly_as_typed(marketer):
    typed = '{"text": "Hello {{ first_name }}", oops'
    response = _post_template(marketer, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello {{ first_name }}&quot;, oops" in html
    assert response.context["adminform"].form.errors["content"]


def test_change_page_round_trips_every_fixture(marketer):
    for path in sorted(FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text())
        template = make_template(doc, name=f"fixture-{path.stem}")
        response = _post_template(marketer, doc, name=template.name, template=template)
        assert response.status_code == 302, (path.name, response.context["adminform"].form.errors)
        template.refresh_from_db()
        assert template.content == doc, path.name


def test_check_agent_is_not_saved_and_preview_link_is_shown(marketer):
    agent = make_agent(provider="aerialink", credentials={"username": "u", "password": "p"})
    response = _post_template(marketer, {"text": "Hi"}, check_agent=str(agent.pk))
    assert response.status_code == 302
    template = Template.objects.get(name="Spring sale")
    page = marketer.get(reverse("admin:campaigns_template_change", args=[template.pk]))
    assert reverse("campaigns:template-preview", args=[template.pk]) in page.content.decode()


def test_template_form_and_send_form_validate_content():
    form = TemplateForm(data={"name": "x", "content": json.dumps({"text": ""})})
    assert not form.is_valid()
    assert ("text", "must not be empty") in form.fields["content"].widget.problems
    send_form = SendForm(data={"content_override": ""})
    send_form.is_valid()
    assert "content_override" not in send_form.errors
    assert send_form.cleaned_data["content_override"] is None


def test_send_admin_uses_the_composer_for_the_override(marketer):
    send = make_send()
    response = marketer.get(reverse("admin:campaigns_send_change", args=[send.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="id_content_override"' in html
    assert '"agentField": "agent"' in html
    assert reverse("campaigns:send-preview", args=[send.pk]) in html
    data = {
        "name": send.name,
        "template": send.template_id,
        "agent": send.agent_id,
        "traffic_type": "commercial",
        "content_override": json.dumps({"text": "x" * 3073}),
        "degradations": "[]",
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
    }
    response = marketer.post(reverse("admin:campaigns_send_change", args=[send.pk]), data)
    assert response.status_code == 200
    problems = response.context["adminform"].form.fields["content_override"].widget.problems
    assert problems == [("text", "at most 3072 characters (got 3073)")]
    data["content_override"] = json.dumps({"text": "Override"})
    response = marketer.post(reverse("admin:campaigns_send_change", args=[send.pk]), data)
    assert response.status_code == 302
    send.refresh_from_db()
    assert send.content_override == {"text": "Override"}


# -------------------------------------------------------------------------------- endpoints


def test_content_check_returns_problems_and_provider_warnings(marketer):
    agent = make_agent(provider="bsg", credentials={"api_key": "k"})
    doc = json.loads((FIXTURES / "every_suggestion.json").read_text())
    response = marketer.post(
        reverse("campaigns:content-check"),
        json.dumps({"content": doc, "agent": agent.pk}),
        content_type="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["problems"] == []
    reasons = " ".join(u["reason"] for u in data["unsupported"])
    assert "BSG cannot show a 'reply' suggestion" in reasons
    assert any(
        d["key"] == "drop_suggestions" for u in data["unsupported"] for d in u["degradations"]
    )
    bad = marketer.post(
        reverse("campaigns:content-check"),
        json.dumps({"content": {"text": ""}}),
        content_type="application/json",
    ).json()
    assert bad["problems"] == [{"path": "text", "text": "must not be empty"}]


def test_endpoints_refuse_anonymous_users():
    client = Client()
    for name in ("content-check", "media-upload", "media-check"):
        assert client.post(reverse(f"campaigns:{name}")).status_code == 403


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    settings.MEDIA_URL = "/media/"
    return tmp_path


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_upload_stores_under_media_root_and_returns_a_public_url(marketer, media_root):
    upload = SimpleUploadedFile("sneakers.png", PNG, content_type="image/png")
    response = marketer.post(reverse("campaigns:media-upload"), {"file": upload, "purpose": "card"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["url"].startswith("https://portal.example.com/media/rcs/")
    assert data["url"].endswith(".png")
    assert data["mimeType"] == "image/png"
    assert data["fileSizeBytes"] == len(PNG)
    stored = media_root / data["url"].split("/media/", 1)[1]
    assert stored.read_bytes() == PNG


def test_upload_refuses_types_outside_the_media_tables(marketer, media_root):
    upload = SimpleUploadedFile("page.html", b"<html></html>", content_type="text/html")
    response = marketer.post(reverse("campaigns:media-upload"), {"file": upload})
    assert response.status_code == 400
    pdf = SimpleUploadedFile("cat.pdf", b"%PDF-1.4 ...", content_type="application/pdf")
    response = marketer.post(reverse("campaigns:media-upload"), {"file": pdf, "purpose": "card"})
    assert response.status_code == 400  # a PDF is a file message, never card media
    pdf.seek(0)
    response = marketer.post(reverse("campaigns:media-upload"), {"file": pdf, "purpose": "file"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://10.0.0.1/a.png",
        "http://[::1]/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/a.png",
        "http://0.0.0.0/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://224.0.0.1/a.png",
        "http://240.0.0.1/a.png",
        "http://192.168.1.10/a.png",
        "file:///etc/passwd",
        "http://user:pw@example.com/a.png",
    ],
)
def test_url_check_refuses_non_public_addresses(marketer, url, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("no request may be made")

    monkeypatch.setattr(composer, "_request_pinned", no_connection)
    response = marketer.post(
        reverse("campaigns:media-check"), json.dumps({"url": url}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["ok"] is False


def test_url_check_refuses_when_any_resolved_address_is_private(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(composer.MediaCheckError, match="10.1.2.3"):
        composer.check_media_url("https://cdn.example.com/a.png")


class _FakeResponse:
    def __init__(self, status, headers):
        self.status = status
        self.headers = headers

    def release_conn(self):
        pass


def _public_dns(monkeypatch, mapping):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (mapping[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


def test_url_check_reports_type_and_size_and_follows_safe_redirects(monkeypatch):
    _public_dns(
        monkeypatch, {"cdn.example.com": "93.184.216.34", "img.example.net": "93.184.216.35"}
    )
    calls = []

    def fake_request(method, url, address, timeout):
        calls.append((method, url, address))
        if url.startswith("https://cdn.example.com"):
            return _FakeResponse(302, {"Location": "https://img.example.net/p.jpg"})
        return _FakeResponse(200, {"Content-Type": "image/jpeg", "Content-Length": "48213"})

    monkeypatch.setattr(composer, "_request_pinned", fake_request)
    result = composer.check_media_url(
        "https://cdn.example.com/p.jpg", media_types=canonical.CARD_MEDIA_TYPES
    )
    assert result["mime_type"] == "image/jpeg" and result["size"] == 48213
    assert result["problems"] == []
    assert result["final_url"] == "https://img.example.net/p.jpg"
    assert calls[1][2] == "93.184.216.35"  # pinned to the checked address


def test_url_check_refuses_a_redirect_to_a_private_address(monkeypatch):
    _public_dns(monkeypatch, {"cdn.example.com": "93.184.216.34", "evil.example": "127.0.0.1"})

    def fake_request(method, url, address, timeout):
        assert address != "127.0.0.1"
        return _FakeResponse(301, {"Location": "http://evil.example/x"})

    monkeypatch.setattr(composer, "_request_pinned", fake_request)
    with pytest.raises(composer.MediaCheckError, match="loopback"):
        composer.check_media_url("https://cdn.example.com/p.jpg")


def test_url_check_stops_after_three_redirects(monkeypatch):
    _public_dns(monkeypatch, {"cdn.example.com": "93.184.216.34"})
    monkeypatch.setattr(
        composer,
        "_request_pinned",
        lambda *a: _FakeResponse(302, {"Location": "https://cdn.example.com/again"}),
    )
    with pytest.raises(composer.MediaCheckError, match="redirects"):
        composer.check_media_url("https://cdn.example.com/p.jpg")


def test_url_check_flags_wrong_type_and_size(monkeypatch):
    _public_dns(monkeypatch, {"cdn.example.com": "93.184.216.34"})
    big = str(canonical.MAX_FILE_SIZE_BYTES + 1)
    monkeypatch.setattr(
        composer,
        "_request_pinned",
        lambda *a: _FakeResponse(200, {"Content-Type": "text/html", "Content-Length": big}),
    )
    result = composer.check_media_url("https://cdn.example.com/p")
    assert len(result["problems"]) == 2


# -------------------------------------------------------------------------------- helpers


def test_mask_secrets_hides_keys_and_values():
    body = {
        "apiKey": "abc123secret",
        "nested": [{"password": "pw-value"}, {"note": "token abc123secret inside"}],
        "Authorization": "Basic xyz",
        "keep": "visible",
    }
    masked = composer.mask_secrets(body, ["abc123secret"])
    text = json.dumps(masked, ensure_ascii=False)
    assert "abc123secret" not in text and "pw-value" not in text and "xyz" not in text
    assert masked["keep"] == "visible"
    assert masked["apiKey"] == composer.MASK


def test_describe_path():
    assert composer.describe_path("richCard.carouselCard.cardContents.1.title") == "Card 2 › title"
    assert (
        composer.describe_path("richCard.standaloneCard.cardContent.suggestions.0.reply.text")
        == "Card › Suggestion 1 › reply › text"
    )
    assert composer.describe_path("") == "Message"
