"""Production settings pass `manage.py check --deploy` with no warning at all."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_check(extra_env: dict) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _run_check(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "prod-" + "x7Kq9vZ2mN4pR8sT1wY5bC3dF6gH0jL" * 2,
            "ALLOWED_HOSTS": "rcs.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://rcs.example.com",
            "PUBLIC_BASE_URL": "https://rcs.example.com",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_debug_settings():
    """The check is real: development settings do produce deploy warnings."""
    result = _run_check({"DJANGO_DEBUG": "1", "ALLOWED_HOSTS": "localhost"})
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on


def test_production_refuses_to_start_without_a_secret_key():
    result = _run_check({"DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "rcs.example.com"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
