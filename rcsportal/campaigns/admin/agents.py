from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ..forms import AgentForm
from ..models import Agent, QuietHoursRule, StopKeyword
from ..roles import is_administrator


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """Credentials are write-only: the form takes new values, the page shows key names only."""

    form = AgentForm
    list_display = [
        "name",
        "provider",
        "sender_id",
        "is_active",
        "rate_per_second",
        "base_url_display",
        "updated_at",
    ]
    list_filter = ["provider", "is_active"]
    search_fields = ["name", "sender_id"]
    readonly_fields = ["stored_credentials", "webhook_urls", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "provider", "sender_id", "is_active"]}),
        ("Credentials", {"fields": ["stored_credentials", "credentials_update"]}),
        ("Connection", {"fields": ["base_url", "rate_per_second"]}),
        ("Fallback", {"fields": ["fallback_sms_sender", "sms_fallback_agent"]}),
        ("Webhooks", {"fields": ["webhook_urls", "webhook_allowed_ips"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="base URL")
    def base_url_display(self, obj):
        return obj.base_url or "(provider default)"

    @admin.display(description="stored credentials")
    def stored_credentials(self, obj):
        if not obj.pk or not obj.credentials:
            return "none"
        return format_html_join(
            ", ", "<code>{}</code> (set)", ((key,) for key in obj.credential_keys)
        )

    @admin.display(description="webhook URLs")
    def webhook_urls(self, obj):
        if not obj.pk:
            return "shown once the agent is saved"
        return format_html("<code>{}</code>", obj.webhook_url())

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_administrator(request.user):
            # Marketing may look at an agent, never at anything secret (not even key names).
            fields = [f for f in fields if f != "stored_credentials"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if is_administrator(request.user):
            return fieldsets
        return [(name, opts) for name, opts in fieldsets if name not in ("Credentials", "Webhooks")]


@admin.register(QuietHoursRule)
class QuietHoursRuleAdmin(admin.ModelAdmin):
    list_display = ["country", "timezone", "start", "end", "weekdays", "skip_public_holidays"]
    search_fields = ["country"]


@admin.register(StopKeyword)
class StopKeywordAdmin(admin.ModelAdmin):
    list_display = ["keyword"]
    search_fields = ["keyword"]
