from django.contrib import admin, messages

from .. import importers, services
from ..admin_utils import BigTableAdminMixin
from ..models import Delivery, DeliveryEvent, InboundMessage, WebhookCall
from .contacts import CsvExportMixin


class ReadOnlyAdminMixin:
    """Rows written by the system: viewable, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ["type", "source", "occurred_at", "received_at", "error_code", "error_text", "applied"]
    readonly_fields = fields
    ordering = ["received_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(CsvExportMixin, ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    # CSV export: the action below + "Export all matching" (delivery/change_list.html).
    csv_export_prefix = "deliveries"

    def csv_rows(self, queryset):
        return importers.deliveries_csv(queryset)

    list_display = [
        "phone",
        "send",
        "status",
        "provider_message_id",
        "fallback_channel",
        "error_text",
        "updated_at",
    ]
    list_filter = ["status", "fallback_channel", "send__agent"]
    search_fields = ["=phone", "=reference_id", "=provider_message_id"]
    search_help_text = "Exact phone, reference id or provider message id."
    list_select_related = ["send"]
    raw_id_fields = ["send", "contact"]
    inlines = [DeliveryEventInline]
    actions = ["resend_deliveries", "export_selected_csv"]

    @admin.action(
        description="Resend these (unknown or failed: a fresh reference, sent again)",
        permissions=["resend"],
    )
    def resend_deliveries(self, request, queryset):
        ids = list(
            queryset.filter(status__in=["unknown", "failed"]).values_list("pk", flat=True)[:10_000]
        )
        moved = services.deliveries_resend(ids)
        skipped = queryset.count() - moved if queryset.count() <= 10_000 else 0
        self.message_user(request, f"{moved} delivery(ies) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: only unknown or failed deliveries can be resent.",
                messages.WARNING,
            )

    def has_resend_permission(self, request):
        return request.user.has_perm("campaigns.change_send")


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["type", "delivery", "source", "applied", "occurred_at", "received_at"]
    list_filter = ["type", "source", "applied"]
    search_fields = ["=provider_message_id"]
    raw_id_fields = ["delivery", "agent"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["phone", "kind", "text", "postback_data", "is_opt_out", "agent", "received_at"]
    list_filter = ["kind", "is_opt_out", "agent"]
    search_fields = ["=phone"]
    date_hierarchy = "received_at"
    raw_id_fields = ["contact", "delivery", "agent"]


@admin.register(WebhookCall)
class WebhookCallAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "provider",
        "agent",
        "path_kind",
        "status",
        "reason",
        "remote_addr",
        "received_at",
    ]
    list_filter = ["status", "provider"]
    date_hierarchy = "received_at"
    raw_id_fields = ["agent"]
