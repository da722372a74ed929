from django.contrib import admin

from ..admin_utils import BigTableAdminMixin, PaginatedInlineMixin
from ..models import Contact, ContactGroup, ContactImport, Membership, Suppression


class GroupMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "contact"
    extra = 0
    autocomplete_fields = ["group"]
    readonly_fields = ["added_at"]
    verbose_name = "group"
    verbose_name_plural = "groups"


@admin.register(Contact)
class ContactAdmin(BigTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "phone",
        "first_name",
        "last_name",
        "country",
        "language",
        "consent_status",
        "created_at",
    ]
    list_filter = ["consent_status", "country", "groups"]
    # Anchored lookups only: an index can serve them on a million rows.
    search_fields = ["=phone", "^last_name", "^first_name", "=email"]
    search_help_text = "Exact phone (+33...) or e-mail, or the start of a name."
    readonly_fields = ["created_at", "updated_at"]
    inlines = [GroupMembershipInline]
    fieldsets = [
        (None, {"fields": ["phone", "first_name", "last_name", "email", "language", "country"]}),
        ("Placeholders", {"fields": ["attributes"]}),
        ("Consent", {"fields": ["consent_status", "consent_source", "consent_at"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]


class MemberInline(PaginatedInlineMixin, admin.TabularInline):
    model = Membership
    fk_name = "group"
    extra = 1
    raw_id_fields = ["contact"]
    readonly_fields = ["added_at"]
    verbose_name = "member"
    verbose_name_plural = "members (newest first, one page at a time)"
    ordering = ["-added_at"]


@admin.register(ContactGroup)
class ContactGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MemberInline]


@admin.register(Suppression)
class SuppressionAdmin(BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["phone", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["=phone"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "status",
        "rows_processed",
        "rows_total",
        "created_at",
        "created_by",
    ]
    list_filter = ["status"]
    search_fields = ["original_name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "original_name",
        "size_bytes",
        "status",
        "encoding",
        "delimiter",
        "has_header",
        "mapping",
        "options",
        "rows_total",
        "rows_processed",
        "counts",
        "error_report",
        "error_message",
        "started_at",
        "finished_at",
        "created_by",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.original_name = obj.original_name or getattr(obj.file, "name", "")
        super().save_model(request, obj, form, change)
