from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from rcsportal.campaigns import webhooks

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("campaigns/", include("rcsportal.campaigns.urls")),
    path("webhooks/<slug:provider>/<str:token>/", webhooks.receive, name="webhook"),
    path(
        "webhooks/<slug:provider>/<str:token>/<slug:kind>/", webhooks.receive, name="webhook-kind"
    ),
]

if settings.DEBUG or getattr(settings, "SERVE_MEDIA", False):
    # Uploaded media must be reachable by providers (card images); production should put
    # MEDIA_ROOT behind the web server or object storage instead.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
