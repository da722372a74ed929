"""`manage.py rundev`: the whole product on one machine, for `make run`.

Starts the provider sandbox, a Celery worker with embedded beat, and the web server; tells
the sandbox where each demo agent's webhooks are (its "panel" settings); prints the URL and
the logins; stops everything on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from rcsportal.campaigns.demo import DEMO_LOGINS
from rcsportal.campaigns.services import sandbox_panels_register


class Command(BaseCommand):
    help = "Run web server, Celery worker + beat and the provider sandbox together (development)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument(
            "--sandbox-port", type=int, default=int(settings.SANDBOX_URL.rsplit(":", 1)[-1])
        )

    def handle(self, *args, **opts):
        python = sys.executable
        env = dict(os.environ)
        env.setdefault("PUBLIC_BASE_URL", f"http://{opts['addr']}")
        processes = {
            "sandbox": [python, "manage.py", "runsandbox", "--port", str(opts["sandbox_port"])],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "rcsportal",
                "worker",
                "--beat",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            "web": [python, "manage.py", "runserver", opts["addr"], "--noreload"],
        }
        running: dict[str, subprocess.Popen] = {}
        try:
            for name, command in processes.items():
                running[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
            self._wait_for(f"{settings.SANDBOX_URL}/_sandbox/health", "sandbox")
            registered = sandbox_panels_register()
            self._wait_for(f"http://{opts['addr']}/admin/login/", "web server")
            self.stdout.write(
                self.style.SUCCESS(f"\nrcsportal is running: http://{opts['addr']}/admin/")
            )
            for username, (password, role) in DEMO_LOGINS.items():
                self.stdout.write(f"  login {username} / {password}  ({role})")
            self.stdout.write(
                f"  provider sandbox: {settings.SANDBOX_URL}/_sandbox/requests ({registered} panel webhooks set)"
            )
            self.stdout.write("  Ctrl-C stops everything.\n")
            while all(p.poll() is None for p in running.values()):
                time.sleep(0.5)
            dead = [n for n, p in running.items() if p.poll() is not None]
            self.stderr.write(f"stopped: {', '.join(dead)} exited")
        except KeyboardInterrupt:
            pass
        finally:
            for process in running.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in running.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _wait_for(self, url: str, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stderr.write(f"warning: {what} did not answer at {url} within {timeout:.0f}s")
