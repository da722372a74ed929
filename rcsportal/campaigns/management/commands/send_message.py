"""`manage.py send_message`: create and dispatch a send from the command line.

With --wait it follows the deliveries until they settle (a final status, the fallback, or
unknown) or the time runs out, then prints one JSON line per delivery and a summary line.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

import phonenumbers
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from rcsportal.campaigns import services
from rcsportal.campaigns.models import (
    Agent,
    Contact,
    ContactGroup,
    Delivery,
    Send,
    Template,
    TrafficType,
)
from rcsportal.campaigns.states import FINAL_STATES
from rcsportal.messaging.exceptions import MessageInvalid
from rcsportal.messaging.message import Message

SETTLED = set(FINAL_STATES) | {"fallback_sent", "unknown"}


class Command(BaseCommand):
    help = "Send a template or a JSON message to numbers or a group through an agent."

    def add_arguments(self, parser):
        parser.add_argument("--agent", required=True, help="Agent name.")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--template", help="Template name.")
        what.add_argument("--content", help="Canonical message JSON file (docs/message-format.md).")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument(
            "--to",
            nargs="+",
            metavar="PHONE",
            help="E.164 numbers (national numbers use --country).",
        )
        who.add_argument("--group", help="Contact group name.")
        parser.add_argument(
            "--country", default="FR", help="Region for national numbers given with --to."
        )
        parser.add_argument("--at", help="ISO 8601 time to send at (default: now).")
        parser.add_argument("--transactional", action="store_true", help="Exempt from quiet hours.")
        parser.add_argument("--name", help="Name of the send (default: generated).")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Follow the deliveries this long.",
        )
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Dispatch and submit in this process (no worker needed).",
        )

    def handle(self, *args, **opts):
        agent = Agent.objects.filter(name=opts["agent"]).first()
        if agent is None:
            raise CommandError(f"No agent named {opts['agent']!r}.")
        template = self._template(opts)
        scheduled_at = self._when(opts["at"])
        with transaction.atomic():
            send = Send.objects.create(
                name=opts["name"] or f"CLI {timezone.now():%Y-%m-%d %H:%M:%S}",
                template=template,
                agent=agent,
                scheduled_at=scheduled_at,
                traffic_type=TrafficType.TRANSACTIONAL
                if opts["transactional"]
                else TrafficType.COMMERCIAL,
            )
            if opts["group"]:
                group = ContactGroup.objects.filter(name=opts["group"]).first()
                if group is None:
                    raise CommandError(f"No group named {opts['group']!r}.")
                send.groups.add(group)
            else:
                send.contacts.add(*[self._contact(p, opts["country"]) for p in opts["to"]])
            try:
                services.send_start(send)
            except services.SendNotAllowed as exc:
                raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"send #{send.pk} {send.status}"
            + (f" for {scheduled_at.isoformat()}" if scheduled_at else "")
        )
        if opts["inline"] and not scheduled_at:
            services.send_dispatch(send.pk)
            while (again := services.send_process(send.pk)) is not None:
                time.sleep(min(again, 5))
        if opts["wait"]:
            self._wait(send, opts["wait"])

    def _template(self, opts) -> Template:
        if opts["template"]:
            template = Template.objects.filter(name=opts["template"]).first()
            if template is None:
                raise CommandError(f"No template named {opts['template']!r}.")
            return template
        try:
            with open(opts["content"], encoding="utf-8") as fh:
                raw = fh.read()
            content = Message.from_json(raw).to_dict()
        except OSError as exc:
            raise CommandError(f"Cannot read {opts['content']}: {exc.strerror}") from exc
        except MessageInvalid as exc:
            raise CommandError(f"{opts['content']} is not a valid message: {exc}") from exc
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
        template, _ = Template.objects.get_or_create(
            name=f"CLI {digest}", defaults={"content": content, "notes": f"From {opts['content']}"}
        )
        return template

    def _contact(self, raw: str, country: str) -> Contact:
        try:
            number = phonenumbers.parse(raw, country.upper())
        except phonenumbers.NumberParseException as exc:
            raise CommandError(f"{raw!r} is not a phone number: {exc}") from exc
        if not phonenumbers.is_valid_number(number):
            raise CommandError(f"{raw!r} is not a valid number.")
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        contact, _ = Contact.objects.get_or_create(
            phone=phone, defaults={"country": phonenumbers.region_code_for_number(number) or ""}
        )
        return contact

    def _when(self, value: str | None):
        if not value:
            return None
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CommandError(
                f"--at {value!r} is not ISO 8601 (e.g. 2026-12-01T09:30:00+01:00)."
            ) from exc
        return at if timezone.is_aware(at) else timezone.make_aware(at)

    def _wait(self, send: Send, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            send.refresh_from_db()
            statuses = set(Delivery.objects.filter(send=send).values_list("status", flat=True))
            if send.status in ("completed", "cancelled", "failed") and statuses <= SETTLED:
                break
            time.sleep(0.5)
        send.refresh_from_db()
        for row in (
            Delivery.objects.filter(send=send)
            .order_by("id")
            .values(
                "phone",
                "status",
                "provider_message_id",
                "error_code",
                "error_text",
                "fallback_channel",
            )
        ):
            self.stdout.write(
                json.dumps(
                    {
                        "phone": row["phone"],
                        "status": row["status"],
                        "provider_id": row["provider_message_id"],
                        "error": row["error_text"] or None,
                        "error_code": row["error_code"] or None,
                        "fallback": row["fallback_channel"] or None,
                    },
                    ensure_ascii=False,
                )
            )
        summary = {"summary": True, "send": send.pk, "status": send.status}
        for key in (
            "recipients",
            "submitted",
            "sent",
            "delivered",
            "read",
            "failed",
            "fallback",
            "unknown",
            "excluded_suppressed",
            "excluded_invalid",
        ):
            summary[key] = getattr(send, key)
        self.stdout.write(json.dumps(summary))
