from django.contrib import admin

from ..admin_utils import BigTableAdminMixin
from ..models import Delivery, DeliveryEvent, InboundMessage, WebhookCall


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
class DeliveryAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
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
