from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rcsportal.campaigns import services
from rcsportal.campaigns.forms import parse_credential_lines


class Command(BaseCommand):
    help = "Create or update an RCS agent (credentials are merged key by key and never printed)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--provider", required=True, help="smspartner, serwersms, bsg or aerialink"
        )
        parser.add_argument(
            "--base-url",
            help="Scheme and host to use instead of the provider's (e.g. the sandbox).",
        )
        parser.add_argument("--sender", help="Sender / agent id at the provider.")
        parser.add_argument("--fallback-sender", help="Sender for fallback SMS.")
        parser.add_argument("--rate", type=int, help="Recipients per second across all workers.")
        parser.add_argument("--credential", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--inactive", action="store_true")

    def handle(self, *args, **opts):
        try:
            credentials = parse_credential_lines("\n".join(opts["credential"]))
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        extra = {}
        if opts["fallback_sender"] is not None:
            extra["fallback_sms_sender"] = opts["fallback_sender"]
        if opts["rate"] is not None:
            extra["rate_per_second"] = opts["rate"]
        extra["is_active"] = not opts["inactive"]
        try:
            agent, created = services.agent_upsert(
                name=opts["name"],
                provider=opts["provider"],
                base_url=opts["base_url"],
                sender_id=opts["sender"],
                credentials=credentials,
                **extra,
            )
        except KeyError as exc:
            raise CommandError(f"Unknown provider {opts['provider']!r}.") from exc
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(
            f"{verb} agent {agent.name!r} ({agent.provider}); credential keys: {', '.join(agent.credential_keys) or 'none'}"
        )
        self.stdout.write(f"Webhook URL: {agent.webhook_url()}")
