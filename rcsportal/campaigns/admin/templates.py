from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from ..forms_composer import TemplateForm
from ..models import Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ["name", "kind", "updated_at", "created_by", "preview_link"]
    list_filter = ["kind"]
    search_fields = ["name", "notes"]
    readonly_fields = ["kind", "created_at", "updated_at", "created_by"]
    fieldsets = [
        (None, {"fields": ["name", "check_agent"]}),
        (None, {"fields": ["content"], "classes": ["rcs-composer-fieldset"]}),
        ("Notes", {"fields": ["notes"]}),
        ("History", {"fields": ["kind", "created_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Preview")
    def preview_link(self, obj):
        url = reverse("campaigns:template-preview", args=[obj.pk])
        return format_html('<a href="{}">Preview</a>', url)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
