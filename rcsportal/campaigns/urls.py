"""Staff pages outside the stock admin (previews, reports, import flow). All need login."""

from django.urls import include, path

app_name = "campaigns"

urlpatterns = [
    path("preview/", include("rcsportal.campaigns.urls_preview")),
    path("imports/", include("rcsportal.campaigns.urls_import")),
    path("reports/", include("rcsportal.campaigns.urls_reports")),
]
