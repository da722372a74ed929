from django.core.management.base import BaseCommand

from rcsportal.campaigns.roles import roles_sync


class Command(BaseCommand):
    help = "Create or update the Marketing and Administrators groups (also runs after migrate)."

    def handle(self, *args, **opts):
        roles_sync()
        self.stdout.write("Roles Marketing and Administrators are up to date.")
