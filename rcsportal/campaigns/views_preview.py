"""Preview pages and the composer's endpoints (content check, media upload, media URL check).

Every view needs a logged-in staff user (anonymous -> the admin login page) and the
admin's view permission on the object (else 403). The send preview shows what the provider
will receive: ``adapter.render`` output with every credential masked.
"""

from __future__ import annotations

import json
import mimetypes
import os
import uuid
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rcsportal.messaging import message as canonical
from rcsportal.messaging.exceptions import MessageInvalid, MessagingError, UnsupportedFeature
from rcsportal.messaging.message import Message
from rcsportal.messaging.providers import PROVIDERS
from rcsportal.messaging.providers.base import Recipient

from . import composer, services
from .models import Agent, Contact, Send, SendStatus, Template

MAX_UPLOAD_BYTES = canonical.MAX_FILE_SIZE_BYTES
PREVIEW_REFERENCE = "PREVIEW0001"
SAMPLE_PHONE = "+33600000000"


# --------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------


def _model_admin(model):
    return admin.site._registry[model]


def _require_view(request, obj):
    if not _model_admin(type(obj)).has_view_permission(request, obj):
        raise PermissionDenied


def _can_edit_content(user) -> bool:
    return any(
        user.has_perm(f"campaigns.{perm}")
        for perm in ("add_template", "change_template", "add_send", "change_send")
    )


def staff_json(view):
    """Staff-only JSON endpoint: anonymous or non-staff get 403 JSON, not a login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_active):
            return JsonResponse({"error": "login required"}, status=403)
        if not request.user.is_staff:
            return JsonResponse({"error": "staff only"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _admin_context(request, title: str, **extra) -> dict:
    context = dict(admin.site.each_context(request))
    context.update(title=title, **extra)
    return context


# --------------------------------------------------------------------------------------------
# Contacts (personalization)
# --------------------------------------------------------------------------------------------


def _contact_search(query: str, limit: int = 10):
    query = (query or "").strip()
    if not query:
        return []
    qs = Contact.objects.all()
    condition = Q(phone__startswith=query) | Q(email__istartswith=query)
    for word in query.split()[:3]:
        condition |= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
    return list(qs.filter(condition).order_by("last_name", "first_name", "id")[:limit])


def _picked_contact(request):
    raw = request.GET.get("contact", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("Unknown contact")
    if not request.user.has_perm("campaigns.view_contact"):
        raise PermissionDenied
    return get_object_or_404(Contact, pk=int(raw))


@require_GET
@staff_json
def contact_search(request):
    if not request.user.has_perm("campaigns.view_contact"):
        return JsonResponse({"error": "permission denied"}, status=403)
    results = [
        {"id": c.pk, "label": str(c), "phone": c.phone}
        for c in _contact_search(request.GET.get("q"))
    ]
    return JsonResponse({"results": results})


def _personalized(doc: dict, contact) -> tuple[dict, list[str], list[str]]:
    """``(document, placeholders used, placeholders empty for the contact)``."""
    try:
        message = Message.from_dict(doc)
    except MessageInvalid:
        return doc, [], []
    names = sorted(message.placeholders())
    if contact is None:
        return doc, names, []
    fields = contact.placeholder_fields()
    empty = [n for n in names if fields.get(n) in (None, "")]
    return message.personalize(fields).to_dict(), names, empty


# --------------------------------------------------------------------------------------------
# Template preview
# --------------------------------------------------------------------------------------------


def _provider_matrix(doc: dict) -> list[dict]:
    rows = []
    for key, cls in PROVIDERS.items():
        problems = [
            {**p, "where": composer.describe_path(p["path"])}
            for p in composer.provider_problems(doc, provider_key=key)
        ]
        rows.append({"key": key, "name": cls.display_name, "problems": problems})
    return rows


@staff_member_required
@require_GET
def template_preview(request, pk: int):
    template = get_object_or_404(Template, pk=pk)
    _require_view(request, template)
    contact = _picked_contact(request)
    query = request.GET.get("q", "")
    content, placeholders, empty = _personalized(template.content, contact)
    problems = composer.content_problems(template.content)
    context = _admin_context(
        request,
        f"Preview: {template.name}",
        template=template,
        opts=Template._meta,
        contact=contact,
        query=query,
        results=_contact_search(query) if query else [],
        can_pick_contact=request.user.has_perm("campaigns.view_contact"),
        placeholders=placeholders,
        empty_placeholders=empty,
        preview=composer.preview_model(content),
        problems=[(composer.describe_path(p), t) for p, t in problems],
        providers=_provider_matrix(template.content),
        content_json=json.dumps(content, indent=2, ensure_ascii=False),
    )
    return render(request, "campaigns/preview/template.html", context)


@require_GET
@staff_json
def template_content(request, pk: int):
    template = get_object_or_404(Template, pk=pk)
    if not _model_admin(Template).has_view_permission(request, template):
        return JsonResponse({"error": "permission denied"}, status=403)
    return JsonResponse({"id": template.pk, "name": template.name, "content": template.content})


# --------------------------------------------------------------------------------------------
# Send preview
# --------------------------------------------------------------------------------------------


def _audience_sample(send: Send):
    contact = send.contacts.order_by("id").first()
    if contact is None:
        contact = Contact.objects.filter(groups__sends=send).order_by("id").first()
    return contact


def _history(agent: Agent) -> dict:
    """Fallback share and cost per recipient from this agent's last finished sends."""
    recent = list(
        Send.objects.filter(agent=agent, status=SendStatus.COMPLETED)
        .order_by("-completed_at")
        .values_list("pk", flat=True)[:20]
    )
    if not recent:
        return {}
    totals = Send.objects.filter(pk__in=recent).aggregate(
        recipients=Sum("recipients"), fallback=Sum("fallback"), cost=Sum("cost")
    )
    recipients = totals["recipients"] or 0
    if not recipients:
        return {}
    currency = (
        Send.objects.filter(pk__in=recent).exclude(currency="").values_list("currency", flat=True)
    ).first() or ""
    cost = totals["cost"] or Decimal(0)
    return {
        "sends": len(recent),
        "fallback_share": (totals["fallback"] or 0) / recipients,
        "cost_per_recipient": (cost / recipients) if cost else None,
        "currency": currency,
    }


def _forecast(send: Send, sms_info: dict | None) -> dict:
    forecast: dict = {"available": False}
    summary_fn = getattr(services, "send_audience_summary", None)
    if summary_fn is None:
        return forecast
    try:
        summary = summary_fn(send)
    except Exception as exc:  # noqa: BLE001 - the preview must render whatever happens
        forecast["error"] = f"{type(exc).__name__}: {exc}"
        return forecast
    forecast.update(available=True, **{k: summary.get(k) for k in summary})
    forecast.update(sms_parts=None, estimated_cost=None, currency="")
    recipients = summary.get("recipients") or 0
    history = {"fallback_share": None, "sends": 0, **_history(send.agent)}
    forecast["history"] = history
    share = history["fallback_share"]
    if sms_info and share is not None:
        forecast["fallback_recipients"] = round(recipients * share)
        forecast["sms_parts"] = round(recipients * share) * sms_info["segments"]
    if history.get("cost_per_recipient") is not None:
        forecast["estimated_cost"] = (history["cost_per_recipient"] * recipients).quantize(
            Decimal("0.01")
        )
        forecast["currency"] = history.get("currency", "")
    by_country = summary.get("by_country") or {}
    if isinstance(by_country, dict):
        forecast["by_country_rows"] = sorted(by_country.items(), key=lambda kv: -int(kv[1] or 0))
    return forecast


def _wire_requests(adapter, message: Message, phone: str, secrets) -> tuple[list, list]:
    """Rendered requests (masked) or the provider problems."""
    try:
        requests_ = adapter.render(
            message, [Recipient(phone=phone, reference_id=PREVIEW_REFERENCE)]
        )
    except UnsupportedFeature as exc:
        return [], [(composer.describe_path(p.path), p.reason) for p in exc.problems]
    except MessagingError as exc:
        return [], [("", str(exc))]
    out = []
    for request in requests_:
        out.append(
            {
                "method": request.method,
                "url": composer.mask_secrets(request.url, secrets),
                "kind": request.kind,
                "headers": json.dumps(
                    composer.mask_secrets(request.headers or {}, secrets), indent=2
                ),
                "params": json.dumps(composer.mask_secrets(request.params, secrets), indent=2)
                if request.params
                else "",
                "body": json.dumps(
                    composer.mask_secrets(request.json, secrets), indent=2, ensure_ascii=False
                )
                if request.json is not None
                else "",
            }
        )
    return out, []


def _secret_values(*agents) -> list[str]:
    values = []
    for agent in agents:
        if agent is not None:
            values += [str(v) for v in (agent.credentials or {}).values() if v]
    return values


@staff_member_required
@require_GET
def send_preview(request, pk: int):
    send = get_object_or_404(Send.objects.select_related("agent", "template"), pk=pk)
    _require_view(request, send)
    picked = _picked_contact(request)
    contact = picked or _audience_sample(send)
    doc = send.content or {}
    agent = send.agent
    fallback_agent = agent.sms_fallback_agent
    secrets = _secret_values(agent, fallback_agent)
    adapter = services.agent_adapter(agent)
    problems = composer.content_problems(doc)
    unsupported = composer.provider_problems(doc, agent=agent)
    accepted = [k for k in (send.degradations or []) if k in adapter.degradation_keys]
    outgoing_doc, placeholders, empty = _personalized(doc, contact)
    wire, wire_problems, sms_wire, sms_info = [], [], [], None
    message = None
    if not problems:
        try:
            message = adapter.degrade(Message.from_dict(outgoing_doc), accepted)
        except (MessagingError, ValueError) as exc:
            wire_problems = [("", str(exc))]
    if message is not None:
        phone = contact.phone if contact is not None else SAMPLE_PHONE
        wire, wire_problems = _wire_requests(adapter, message, phone, secrets)
        fb = message.fallback
        if fb is not None and fb.sms is not None and fb.sms.text:
            sms_info = composer.sms_view(fb.sms.text)
            if (
                "sms" not in adapter.capabilities.fallback_kinds
                and fallback_agent is not None
                and hasattr(services.agent_adapter(fallback_agent), "render_sms")
            ):
                try:
                    sms_requests = services.agent_adapter(fallback_agent).render_sms(
                        fb.sms.text,
                        [Recipient(phone=phone, reference_id=PREVIEW_REFERENCE)],
                        fb.sms.sender,
                    )
                    sms_wire = [
                        {
                            "method": r.method,
                            "url": composer.mask_secrets(r.url, secrets),
                            "kind": r.kind,
                            "headers": json.dumps(composer.mask_secrets(r.headers or {}, secrets)),
                            "params": "",
                            "body": json.dumps(
                                composer.mask_secrets(r.json, secrets), indent=2, ensure_ascii=False
                            ),
                        }
                        for r in sms_requests
                    ]
                except MessagingError as exc:
                    wire_problems.append(("Fallback SMS", str(exc)))
    preview_doc = message.to_dict() if message is not None else outgoing_doc
    context = _admin_context(
        request,
        f"Send preview: {send.name}",
        send=send,
        opts=Send._meta,
        agent=agent,
        provider_name=adapter.display_name,
        fallback_agent=fallback_agent,
        contact=contact,
        picked=picked,
        query=request.GET.get("q", ""),
        results=_contact_search(request.GET.get("q", "")),
        can_pick_contact=request.user.has_perm("campaigns.view_contact"),
        placeholders=placeholders,
        empty_placeholders=empty,
        preview=composer.preview_model(preview_doc),
        problems=[(composer.describe_path(p), t) for p, t in problems],
        unsupported=[
            {
                **u,
                "where": composer.describe_path(u["path"]),
                "accepted": _all_accepted(u, accepted),
            }
            for u in unsupported
        ],
        accepted=[(k, composer.DEGRADATIONS.get(k, k)) for k in accepted],
        wire=wire,
        sms_wire=sms_wire,
        wire_problems=wire_problems,
        sms_info=sms_info,
        forecast=_forecast(send, sms_info),
        uses_override=bool(send.content_override) and send.content_snapshot is None,
        now=timezone.now(),
    )
    return render(request, "campaigns/preview/send.html", context)


def _all_accepted(problem: dict, accepted: list[str]) -> bool:
    keys = {d["key"] for d in problem["degradations"]}
    return bool(keys & set(accepted))


# --------------------------------------------------------------------------------------------
# Composer endpoints
# --------------------------------------------------------------------------------------------


def _json_body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@require_POST
@staff_json
def content_check(request):
    """``{problems: [{path, text}], unsupported: [...]}`` for ``{content, agent|provider|template}``."""
    if not _can_edit_content(request.user) and not request.user.has_perm("campaigns.view_template"):
        return JsonResponse({"error": "permission denied"}, status=403)
    data = _json_body(request)
    content = data.get("content")
    if content is None and data.get("template"):
        template = Template.objects.filter(pk=str(data["template"])).first()
        if template is None or not _model_admin(Template).has_view_permission(request, template):
            return JsonResponse({"error": "unknown template"}, status=404)
        content = template.content
    problems = composer.content_problems(content if content is not None else {})
    unsupported: list[dict] = []
    agent = None
    if str(data.get("agent") or "").isdigit():
        agent = Agent.objects.filter(pk=int(data["agent"])).first()
    if agent is not None:
        unsupported = composer.provider_problems(content, agent=agent)
    elif data.get("provider") in PROVIDERS:
        unsupported = composer.provider_problems(content, provider_key=data["provider"])
    return JsonResponse(
        {
            "problems": [{"path": p, "text": t} for p, t in problems],
            "unsupported": unsupported,
            "agent": {"id": agent.pk, "provider": agent.provider} if agent else None,
        }
    )


def _extension_for(content_type: str, name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext and len(ext) <= 6 and ext[1:].isalnum():
        return ext
    return mimetypes.guess_extension(content_type) or ".bin"


def _sniff(head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return ""


@require_POST
@staff_json
def media_upload(request):
    """Store an uploaded media file under MEDIA_ROOT; answer its public URL and metadata."""
    if not _can_edit_content(request.user):
        return JsonResponse({"error": "permission denied"}, status=403)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "no file"}, status=400)
    purpose = request.POST.get("purpose", "file")
    allowed = canonical.CARD_MEDIA_TYPES if purpose == "card" else canonical.FILE_MEDIA_TYPES
    if purpose == "thumbnail":
        allowed = canonical.THUMBNAIL_MEDIA_TYPES
    head = upload.read(16)
    upload.seek(0)
    declared = (upload.content_type or "").split(";", 1)[0].strip().lower()
    guessed = mimetypes.guess_type(upload.name)[0] or ""
    sniffed = _sniff(head)
    content_type = sniffed or declared or guessed
    if sniffed and declared and declared != sniffed and declared.split("/")[0] != "video":
        content_type = sniffed
    if content_type not in allowed:
        return JsonResponse(
            {"error": f"{content_type or 'this file type'} is not an accepted media type"},
            status=400,
        )
    if upload.size > MAX_UPLOAD_BYTES:
        return JsonResponse({"error": "the file is larger than 100 MiB"}, status=400)
    now = timezone.now()
    name = f"rcs/{now:%Y/%m}/{uuid.uuid4().hex}{_extension_for(content_type, upload.name)}"
    stored = default_storage.save(name, upload)
    url = settings.PUBLIC_BASE_URL + settings.MEDIA_URL.rstrip("/") + "/" + stored.lstrip("/")
    if settings.MEDIA_URL.startswith(("http://", "https://")):
        url = default_storage.url(stored)
    return JsonResponse(
        {
            "url": url,
            "mimeType": content_type,
            "fileSizeBytes": upload.size,
            "fileName": os.path.basename(upload.name)[:200],
        },
        status=201,
    )


@require_POST
@staff_json
def media_check(request):
    """HEAD/GET a media URL (public addresses only): its type and size, or why not."""
    if not _can_edit_content(request.user):
        return JsonResponse({"error": "permission denied"}, status=403)
    data = _json_body(request) if request.content_type == "application/json" else request.POST
    url = str(data.get("url", "")).strip()
    purpose = data.get("purpose", "file")
    types = canonical.CARD_MEDIA_TYPES if purpose == "card" else canonical.FILE_MEDIA_TYPES
    if purpose == "thumbnail":
        types = canonical.THUMBNAIL_MEDIA_TYPES
    if not url:
        return JsonResponse({"ok": False, "error": "enter a URL"}, status=400)
    try:
        result = composer.check_media_url(url, media_types=types)
    except composer.MediaCheckError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse(
        {
            "ok": not result["problems"],
            "url": result["url"],
            "finalUrl": result["final_url"],
            "mimeType": result["mime_type"],
            "fileSizeBytes": result["size"],
            "problems": result["problems"],
        }
    )
