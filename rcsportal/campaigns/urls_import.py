"""The contact import flow (included at /campaigns/imports/, namespace "campaigns")."""

from django.urls import path

from . import views_import

urlpatterns = [
    path("new/", views_import.import_upload, name="import-upload"),
    path("<int:pk>/mapping/", views_import.import_mapping, name="import-mapping"),
    path("<int:pk>/dry-run/", views_import.import_dry_run, name="import-dry-run"),
    path("<int:pk>/confirm/", views_import.import_confirm, name="import-confirm"),
    path("<int:pk>/", views_import.import_detail, name="import-detail"),
    path("<int:pk>/status.json", views_import.import_status, name="import-status"),
    path("<int:pk>/errors.csv", views_import.import_errors, name="import-errors"),
]
