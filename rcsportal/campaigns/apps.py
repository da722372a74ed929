from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CampaignsConfig(AppConfig):
    name = "rcsportal.campaigns"
    label = "campaigns"
    verbose_name = "RCS campaigns"

    def ready(self):
        from . import roles

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)
