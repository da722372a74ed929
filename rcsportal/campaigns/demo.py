"""Demo data for `make run`: agents on the sandbox, contacts, groups, one template per kind."""

from __future__ import annotations

import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from . import roles, services
from .models import Contact, ContactGroup, Membership, QuietHoursRule, StopKeyword, Template

DEMO_LOGINS = {
    "admin": ("rcs-admin-demo", roles.ADMINISTRATORS),
    "marketing": ("rcs-marketing-demo", roles.MARKETING),
}

# Demo credentials the sandbox accepts (docs/sandbox.md).
SANDBOX_AGENTS = [
    ("SMS Partner FR", "smspartner", "", {"apiKey": "sandbox-smspartner-key"}),
    (
        "SerwerSMS PL",
        "serwersms",
        "",
        {
            "username": "sandbox",
            "password": "sandbox-password",
            "rcs_id": "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11",
        },
    ),
    ("BSG UA", "bsg", "rcs_demo", {"api_key": "live_sandboxbsgkey000000"}),
    ("Aerialink US", "aerialink", "CONVEY", {"username": "sandbox", "password": "sandbox-secret"}),
]

DEFAULT_STOP_KEYWORDS = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "ARRET",
    "ARRÊT",
    "СТОП",
    "STOP SMS",
    "NIE",
    "ОТПИСАТЬСЯ",
]

DEFAULT_QUIET_HOURS = [
    # (country, tz, start, end, weekdays, skip holidays)
    ("FR", "Europe/Paris", "08:00", "20:00", "012345", True),
    ("PL", "Europe/Warsaw", "08:00", "20:00", "012345", True),
    ("UA", "Europe/Kyiv", "09:00", "20:00", "0123456", False),
    ("US", "America/New_York", "08:00", "21:00", "0123456", False),
]

IMAGE = "https://picsum.photos/seed/rcsportal/800/400.jpg"

DEMO_TEMPLATES = {
    "Welcome text": {
        "text": "Hello {{ first_name }}, welcome to our club! Reply STOP to unsubscribe.",
        "suggestions": [
            {"reply": {"text": "Tell me more", "postbackData": "more"}},
            {
                "action": {
                    "text": "Visit us",
                    "postbackData": "visit",
                    "openUrlAction": {"url": "https://example.com/"},
                }
            },
        ],
        "fallback": {"sms": {"text": "Hello {{ first_name }}, welcome to our club!"}},
    },
    "Spring catalogue (PDF)": {
        "contentInfo": {
            "fileUrl": "https://example.com/catalogue.pdf",
            "mimeType": "application/pdf",
            "fileSizeBytes": 482133,
            "fileName": "catalogue.pdf",
        },
        "fallback": {"sms": {"text": "Our spring catalogue: https://example.com/catalogue.pdf"}},
    },
    "New store card": {
        "richCard": {
            "standaloneCard": {
                "cardOrientation": "VERTICAL",
                "cardContent": {
                    "title": "Our new store is open",
                    "description": "Come and see us, {{ first_name }}: 10% off this week.",
                    "media": {
                        "height": "MEDIUM",
                        "contentInfo": {
                            "fileUrl": IMAGE,
                            "mimeType": "image/jpeg",
                            "fileSizeBytes": 48211,
                        },
                    },
                    "suggestions": [
                        {
                            "action": {
                                "text": "Directions",
                                "postbackData": "map",
                                "viewLocationAction": {
                                    "latLong": {"latitude": 48.8566, "longitude": 2.3522},
                                    "label": "Store",
                                },
                            }
                        },
                        {
                            "action": {
                                "text": "Call the store",
                                "postbackData": "call",
                                "dialAction": {"phoneNumber": "+33142000000"},
                            }
                        },
                    ],
                },
            }
        },
        "fallback": {"sms": {"text": "Our new store is open: 10% off this week."}},
    },
    "Summer carousel": {
        "richCard": {
            "carouselCard": {
                "cardWidth": "MEDIUM",
                "cardContents": [
                    {
                        "title": f"Offer {n}",
                        "description": f"Summer offer number {n}.",
                        "media": {
                            "height": "MEDIUM",
                            "contentInfo": {
                                "fileUrl": f"https://picsum.photos/seed/offer{n}/600/400.jpg",
                                "mimeType": "image/jpeg",
                                "fileSizeBytes": 40000 + n,
                            },
                        },
                        "suggestions": [
                            {
                                "action": {
                                    "text": "See offer",
                                    "postbackData": f"offer_{n}",
                                    "openUrlAction": {"url": f"https://example.com/offer/{n}"},
                                }
                            }
                        ],
                    }
                    for n in (1, 2, 3)
                ],
            }
        },
        "fallback": {"sms": {"text": "Summer offers: https://example.com/offers"}},
    },
}

FIRST_NAMES = [
    "Camille",
    "Léa",
    "Hugo",
    "Zofia",
    "Jan",
    "Olena",
    "Taras",
    "Emma",
    "Liam",
    "Noah",
    "Chloé",
    "Marek",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Nowak",
    "Kowalski",
    "Shevchenko",
    "Bondarenko",
    "Smith",
    "Johnson",
    "Durand",
    "Wiśniewski",
]
COUNTRY_PREFIX = {
    "FR": ("+336", 8, "fr"),
    "PL": ("+4850", 7, "pl"),
    "UA": ("+38067", 7, "uk"),
    "US": ("+1202555", 4, "en"),
}


def sandbox_base_url(provider: str) -> str:
    return f"{settings.SANDBOX_URL.rstrip('/')}/{provider}"


def defaults_ensure() -> None:
    """Stop keywords and quiet-hour rules every installation starts with (editable later)."""
    for keyword in DEFAULT_STOP_KEYWORDS:
        StopKeyword.objects.get_or_create(keyword=keyword)
    for country, tz, start, end, weekdays, skip in DEFAULT_QUIET_HOURS:
        QuietHoursRule.objects.get_or_create(
            country=country,
            defaults={
                "timezone": tz,
                "start": start,
                "end": end,
                "weekdays": weekdays,
                "skip_public_holidays": skip,
            },
        )


@transaction.atomic
def demo_data_load(contacts_per_country: int = 75, seed: int = 7) -> dict:
    """Idempotent: running it twice leaves the same data."""
    roles.roles_sync()
    defaults_ensure()
    user_model = get_user_model()
    for username, (password, group_name) in DEMO_LOGINS.items():
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=group_name)])

    agents = []
    sms_partner = None
    for name, provider, sender, credentials in SANDBOX_AGENTS:
        agent, _ = services.agent_upsert(
            name=name,
            provider=provider,
            base_url=sandbox_base_url(provider),
            sender_id=sender,
            credentials=credentials,
            fallback_sms_sender="DemoShop",
            webhook_allowed_ips="127.0.0.1,::1",
        )
        agents.append(agent)
        if provider == "smspartner":
            sms_partner = agent
    for agent in agents:
        if agent.provider == "serwersms" and sms_partner is not None:
            agent.sms_fallback_agent = sms_partner
            agent.save(update_fields=["sms_fallback_agent"])

    rng = random.Random(seed)
    groups = {}
    for country, (prefix, digits, language) in COUNTRY_PREFIX.items():
        group, _ = ContactGroup.objects.get_or_create(
            name=f"Demo {country}", defaults={"description": f"Demo contacts in {country}"}
        )
        groups[country] = group
        contacts = []
        for index in range(contacts_per_country):
            number = prefix + str(index * 7919 % (10**digits)).zfill(digits)
            contacts.append(
                Contact(
                    phone=number,
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    language=language,
                    country=country,
                    attributes={"loyalty_points": rng.randint(0, 5000)},
                    consent_status="granted",
                    consent_source="demo data",
                )
            )
        Contact.objects.bulk_create(contacts, ignore_conflicts=True)
        ids = Contact.objects.filter(phone__in=[c.phone for c in contacts]).values_list(
            "id", flat=True
        )
        Membership.objects.bulk_create(
            [Membership(group=group, contact_id=i) for i in ids], ignore_conflicts=True
        )

    for name, content in DEMO_TEMPLATES.items():
        template, _ = Template.objects.get_or_create(name=name, defaults={"content": content})
        if template.content != content:
            template.content = content
            template.save()

    return {
        "agents": len(agents),
        "contacts": Contact.objects.count(),
        "groups": len(groups),
        "templates": len(DEMO_TEMPLATES),
    }
