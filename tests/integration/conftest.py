"""Integration tier: PostgreSQL + a real Redis + a real `celery worker` process + the sandbox.

The tier runs its own redis-server on a free port (so the chaos test can kill and restart
it without touching anything else on the machine) and points both this process and the
worker at it. PostgreSQL comes from DATABASE_URL (`make test-integration` sets it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis as redis_lib

from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]


class RedisProcess:
    def __init__(self, port: int):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="rcs-redis-")
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis.from_url(self.url)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def redis_server():
    """The tier's own redis-server, on the port of CELERY_BROKER_URL (Makefile: 6390)."""
    from urllib.parse import urlsplit

    from django.conf import settings

    if not shutil.which("redis-server"):
        missing_service("redis-server is not installed")
    broker = urlsplit(settings.CELERY_BROKER_URL)
    if broker.scheme != "redis" or broker.hostname not in ("127.0.0.1", "localhost"):
        missing_service(
            "the integration tier needs CELERY_BROKER_URL=redis://127.0.0.1:<free port>/0 (make test-integration sets it)"
        )
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", broker.port or 6379)) == 0:
            pytest.fail(
                f"port {broker.port} is taken: the tier starts (and restarts) its own Redis there"
            )
    server = RedisProcess(broker.port or 6379)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_required(django_db_setup, django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service(
            "the integration tier needs DATABASE_URL=postgres://... (make test-integration sets it)"
        )
    return connection.settings_dict


@pytest.fixture
def wired(postgres_required, redis_server, settings, live_server, transactional_db):
    """This process and the worker share PostgreSQL (the test database) and Redis."""
    from rcsportal.campaigns import ratelimit

    settings.REDIS_URL = redis_server.url
    settings.PUBLIC_BASE_URL = live_server.url
    ratelimit._redis.cache_clear()
    redis_lib.Redis.from_url(redis_server.url).flushall()
    return {"db": postgres_required, "redis": redis_server, "live_server": live_server}


class Worker:
    def __init__(self, env: dict):
        self.env = env
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="rcs-worker-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "rcsportal",
                "worker",
                "-l",
                "WARNING",
                "-c",
                "2",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"itest{time.time_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        time.sleep(1.5)
        if self.process.poll() is not None:
            raise RuntimeError(Path(self.log.name).read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(wired):
    db = wired["db"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="rcsportal.settings_test",
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=wired["redis"].url,
        REDIS_URL=wired["redis"].url,
        PUBLIC_BASE_URL=wired["live_server"].url,
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    w = Worker(env)
    w.start()
    yield w
    w.stop()
