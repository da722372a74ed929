from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from .. import importers
from ..admin_utils import BigTableAdminMixin, PaginatedInlineMixin
from ..models import Contact, ContactGroup, ContactImport, ImportStatus, Membership, Suppression


class CsvExportMixin:
    """ "Export selected as CSV" action + an "Export all matching" changelist link.

    The link (``<changelist>/export/?<current filters>``) rebuilds the changelist from the
    request, so it exports exactly what the list shows, filters and search included, as a
    stream (``StreamingHttpResponse``): a million rows never sit in memory. Cells are
    formula-neutralized; phone numbers stay as E.164 (see ``importers.csv_stream``).
    """

    csv_export_prefix = "export"
    actions = ["export_selected_csv"]

    def csv_rows(self, queryset):  # pragma: no cover - overridden
        raise NotImplementedError

    def csv_response(self, queryset) -> StreamingHttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            self.csv_rows(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self.csv_export_prefix}-{stamp}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_selected_csv(self, request, queryset):
        return self.csv_response(queryset)

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name=f"{opts.app_label}_{opts.model_name}_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "These filters are not valid; nothing was exported.")
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return self.csv_response(changelist.get_queryset(request))


class GroupMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "contact"
    extra = 0
    autocomplete_fields = ["group"]
    readonly_fields = ["added_at"]
    verbose_name = "group"
    verbose_name_plural = "groups"


@admin.register(Contact)
class ContactAdmin(CsvExportMixin, BigTableAdminMixin, admin.ModelAdmin):
    csv_export_prefix = "contacts"
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

    def csv_rows(self, queryset):
        return importers.contacts_csv(queryset)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_import"] = request.user.has_perms(
            ["campaigns.add_contactimport", "campaigns.add_contact"]
        )
        return super().changelist_view(request, extra_context)


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
    """Imports start from the flow ("Import CSV" on the contact list), never from a form."""

    list_display = [
        "original_name",
        "result_link",
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
        "result_link",
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

    exclude = ["file"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="step")
    def result_link(self, obj):
        if obj.pk is None:
            return "-"
        if obj.status == ImportStatus.UPLOADED:
            url, label = reverse("campaigns:import-mapping", args=[obj.pk]), "map columns"
        elif obj.status in (ImportStatus.MAPPED, ImportStatus.DRY_RUN):
            url, label = reverse("campaigns:import-dry-run", args=[obj.pk]), "dry run"
        else:
            url, label = reverse("campaigns:import-detail", args=[obj.pk]), "result"
        return format_html('<a href="{}">{}</a>', url, label)
