from django.core.management.base import BaseCommand

from rcsportal.campaigns.demo import DEMO_LOGINS, demo_data_load


class Command(BaseCommand):
    help = "Load demo data: sandbox agents for every provider, contacts, groups, templates, logins."

    def add_arguments(self, parser):
        parser.add_argument("--contacts-per-country", type=int, default=75)

    def handle(self, *args, **opts):
        summary = demo_data_load(contacts_per_country=opts["contacts_per_country"])
        self.stdout.write(", ".join(f"{v} {k}" for k, v in summary.items()))
        for username, (password, role) in DEMO_LOGINS.items():
            self.stdout.write(f"login: {username} / {password} ({role})")
