"""Preview pages and the composer's endpoints (included at /campaigns/preview/)."""

from django.urls import path

from . import views_preview as views

urlpatterns = [
    path("template/<int:pk>/", views.template_preview, name="template-preview"),
    path("template/<int:pk>/content/", views.template_content, name="template-content"),
    path("send/<int:pk>/", views.send_preview, name="send-preview"),
    path("check/", views.content_check, name="content-check"),
    path("contacts/", views.contact_search, name="contact-search"),
    path("media/upload/", views.media_upload, name="media-upload"),
    path("media/check/", views.media_check, name="media-check"),
]
