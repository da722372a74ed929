from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from .. import services
from ..admin_utils import PaginatedInlineMixin
from ..forms_composer import SendForm
from ..models import SEND_COUNTERS, Delivery, Send, SendStatus
from ..roles import is_administrator


class DeliveryInline(PaginatedInlineMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = [
        "phone",
        "status",
        "provider_message_id",
        "error_text",
        "fallback_channel",
        "updated_at",
    ]
    readonly_fields = fields
    ordering = ["id"]
    verbose_name_plural = "deliveries (one page at a time)"


@admin.register(Send)
class SendAdmin(admin.ModelAdmin):
    form = SendForm
    list_display = [
        "name",
        "status",
        "agent",
        "template",
        "traffic_type",
        "scheduled_at",
        "recipients",
        "delivered",
        "read",
        "failed",
        "created_at",
    ]
    list_filter = ["status", "traffic_type", "agent"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["template", "agent", "contacts"]
    filter_horizontal = ["groups"]
    readonly_fields = [
        "status",
        "dispatched_at",
        "completed_at",
        "last_error",
        "created_by",
        "created_at",
        "updated_at",
        "report_link",
        *SEND_COUNTERS,
        "cost",
        "currency",
    ]
    inlines = [DeliveryInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "template",
                    "agent",
                    "traffic_type",
                    "scheduled_at",
                    "status",
                    "report_link",
                ]
            },
        ),
        ("Audience", {"fields": ["groups", "contacts"]}),
        ("Content", {"fields": ["content_override", "degradations"], "classes": ["collapse"]}),
        ("Counters", {"fields": [*SEND_COUNTERS, "cost", "currency"]}),
        (
            "History",
            {
                "fields": [
                    "dispatched_at",
                    "completed_at",
                    "last_error",
                    "created_by",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    actions = ["start_sends", "pause_sends", "resume_sends", "cancel_sends"]

    @admin.display(description="report")
    def report_link(self, obj):
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Campaign report</a>', reverse("campaigns:send-report", args=[obj.pk])
        )

    def _run(self, request, queryset, operation, done_message):
        done = 0
        for send in queryset:
            try:
                operation(send)
                done += 1
            except services.SendNotAllowed as exc:
                self.message_user(request, f"{send.name}: {exc}", messages.WARNING)
        if done:
            self.message_user(request, done_message.format(count=done), messages.SUCCESS)

    @admin.action(description="Start (now, or at the scheduled time)", permissions=["change"])
    def start_sends(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda send: services.send_start(send, request.user),
            "{count} send(s) started.",
        )

    @admin.action(description="Pause", permissions=["change"])
    def pause_sends(self, request, queryset):
        self._run(request, queryset, services.send_pause, "{count} send(s) paused.")

    @admin.action(description="Resume", permissions=["change"])
    def resume_sends(self, request, queryset):
        self._run(request, queryset, services.send_resume, "{count} send(s) resumed.")

    @admin.action(description="Cancel (nothing more goes out)", permissions=["change"])
    def cancel_sends(self, request, queryset):
        self._run(request, queryset, services.send_cancel, "{count} send(s) cancelled.")

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        # A send that ran is history: only Administrators may remove it.
        return obj is None or not obj.has_run or is_administrator(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != SendStatus.DRAFT:
            # Once dispatched, what went out is history: the audience and content are frozen.
            fields += [
                "name",
                "template",
                "agent",
                "traffic_type",
                "groups",
                "contacts",
                "content_override",
                "degradations",
            ]
            if obj.status != SendStatus.SCHEDULED:
                fields.append("scheduled_at")
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
