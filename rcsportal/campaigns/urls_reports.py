from django.urls import path

from . import views_reports

urlpatterns = [
    path("sends/<int:pk>/", views_reports.send_report, name="send-report"),
]
