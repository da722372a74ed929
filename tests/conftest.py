"""Test tiers.

- unit (default): SQLite, Celery tasks run eagerly, no network but loopback.
- ``integration``: PostgreSQL + Redis + a real ``celery worker`` process + the sandbox.
- ``browser``: Playwright driving Debian's /usr/bin/chromium.

Without the services the integration and browser tiers skip with the reason; with
``RCS_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_SERVICES = os.environ.get("RCS_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    """Skip the test, or fail it when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)
        if f"{os.sep}browser{os.sep}" in path:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _eager_celery_for_unit_tests(request):
    """Unit tests run tasks in-process; the integration tier uses a real worker."""
    if not request.config.pluginmanager.hasplugin("django"):
        return  # pure-Python tests run with -p no:django
    if request.node.get_closest_marker("integration") is None:
        request.getfixturevalue("settings").CELERY_TASK_ALWAYS_EAGER = True
        from rcsportal.celery import app

        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True


@pytest.fixture
def chromium_path() -> str:
    path = "/usr/bin/chromium"
    if not os.path.exists(path) and not shutil.which("chromium"):
        missing_service("Debian chromium is not installed at /usr/bin/chromium")
    return path
