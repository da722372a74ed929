"""Admin registrations, one module per area so features can grow independently."""

from django.contrib import admin

from . import agents, contacts, sends, templates, tracking  # noqa: F401

admin.site.site_header = "rcsportal"
admin.site.site_title = "rcsportal"
admin.site.index_title = "RCS campaigns"
