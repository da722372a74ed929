"""The campaign report: what happened to a send, for the people who ran it."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncHour, TruncMinute
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .models import Delivery, DeliveryEvent, InboundMessage, Send

FUNNEL = [
    ("recipients", "Recipients"),
    ("submitted", "Accepted by provider"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("clicked", "Clicked"),
    ("replied", "Replied"),
]


def send_report_data(send: Send) -> dict:
    base = max(send.recipients, 1)
    funnel = [
        {
            "key": k,
            "label": label,
            "value": getattr(send, k),
            "percent": round(100 * getattr(send, k) / base, 1),
        }
        for k, label in FUNNEL
    ]
    outcomes = [
        {"label": label, "value": getattr(send, key)}
        for key, label in [
            ("pending", "Waiting to go"),
            ("failed", "Failed"),
            ("expired", "Expired"),
            ("fallback", "Fallback SMS/MMS"),
            ("unknown", "Unknown (needs a decision)"),
            ("cancelled", "Cancelled"),
            ("excluded_suppressed", "Excluded: stop list"),
            ("excluded_invalid", "Excluded: invalid number"),
            ("excluded_duplicate", "Excluded: duplicate"),
        ]
    ]
    deliveries = Delivery.objects.filter(send=send)
    errors = list(
        deliveries.exclude(error_text="")
        .values("error_code", "error_text")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    by_status = list(deliveries.values("status").annotate(n=Count("id")).order_by("-n"))
    span = (send.completed_at or timezone.now()) - (send.dispatched_at or send.created_at)
    per_minute = span.total_seconds() < 3 * 3600
    bucket = TruncMinute("received_at") if per_minute else TruncHour("received_at")
    timeline = list(
        DeliveryEvent.objects.filter(delivery__send=send, applied=True)
        .annotate(hour=bucket)
        .values("hour")
        .annotate(n=Count("id"))
        .order_by("hour")[:500]
    )
    clicks = list(
        InboundMessage.objects.filter(delivery__send=send)
        .exclude(postback_data="")
        .values("postback_data")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    replies = list(
        InboundMessage.objects.filter(delivery__send=send, kind="text").order_by("-received_at")[
            :10
        ]
    )
    peak = max((row["n"] for row in timeline), default=1)
    return {
        "funnel": funnel,
        "outcomes": outcomes,
        "errors": errors,
        "by_status": by_status,
        "timeline": timeline,
        "timeline_peak": peak,
        "timeline_unit": "minute" if per_minute else "hour",
        "clicks": clicks,
        "replies": replies,
    }


@staff_member_required
def send_report(request, pk: int):
    send = get_object_or_404(Send.objects.select_related("agent", "template"), pk=pk)
    if not request.user.has_perm("campaigns.view_send"):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": f"Report: {send.name}",
        "send": send,
        "opts": Send._meta,
        "has_view_permission": True,
        **send_report_data(send),
    }
    return render(request, "campaigns/reports/send_report.html", context)
