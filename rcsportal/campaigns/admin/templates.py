from django.contrib import admin

from ..models import Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "updated_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["name", "notes"]
    readonly_fields = ["kind", "created_at", "updated_at", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
