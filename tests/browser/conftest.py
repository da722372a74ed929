"""Playwright (sync API) against pytest-django's ``live_server``, driving Debian's
``/usr/bin/chromium`` headless. No browser is ever downloaded."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

# The sync Playwright API runs an event loop in this thread; Django's ORM calls made by the
# tests themselves (creating users, reading Template rows) are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def png(width: int, height: int, top: tuple, bottom: tuple) -> bytes:
    """A vertical-gradient PNG (no imaging library needed) for offline media URLs."""
    rows = []
    for y in range(height):
        t = y / max(1, height - 1)
        color = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + color * width)
    raw = zlib.compress(b"".join(rows), 6)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


MEDIA_COLORS = [
    ((239, 83, 80), (255, 183, 77)),
    ((66, 165, 245), (38, 198, 218)),
    ((102, 187, 106), (212, 225, 87)),
    ((171, 71, 188), (236, 64, 122)),
]


@pytest.fixture(scope="session")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        from tests.conftest import missing_service

        missing_service("the playwright Python package is not installed")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def _browser(_playwright):
    path = "/usr/bin/chromium"
    if not os.path.exists(path):
        from tests.conftest import missing_service

        missing_service("Debian chromium is not installed at /usr/bin/chromium")
    browser = _playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def marketing_user(transactional_db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from rcsportal.campaigns import roles

    roles.roles_sync()
    user = get_user_model().objects.create_user(
        username="marketer", password="pw-marketer", is_staff=True, first_name="Mia"
    )
    user.groups.add(Group.objects.get(name=roles.MARKETING))
    return user


@pytest.fixture
def page(chromium_path, _browser, live_server, marketing_user):
    """A logged-in marketing user's page; media under https://cdn.example.com is served
    locally; any JavaScript error fails the test."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(marketing_user)
    context = _browser.new_context(
        viewport={"width": 1440, "height": 1000},
        timezone_id="UTC",
        locale="en-US",
        device_scale_factor=1,
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    images = {}

    def serve_media(route):
        name = route.request.url.rsplit("/", 1)[-1]
        index = sum(map(ord, name)) % len(MEDIA_COLORS)
        if name not in images:
            images[name] = png(480, 300, *MEDIA_COLORS[index])
        route.fulfill(status=200, body=images[name], headers={"Content-Type": "image/png"})

    context.route("https://cdn.example.com/**", serve_media)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(8000)
    pg.base_url = live_server.url
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
