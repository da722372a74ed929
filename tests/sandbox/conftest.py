"""Fixtures: one sandbox per session (callbacks immediate), a local callback receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from rcsportal.sandbox import SandboxServer

SMSP_KEY = "sandbox-smspartner-key"
SERWER_AUTH = {"username": "sandbox", "password": "sandbox-password"}
RCS_ID = "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11"
BSG_KEY = "live_sandboxbsgkey000000"
AERIAL_AUTH = ("sandbox", "sandbox-secret")


class Receiver:
    """A tiny HTTP server recording every POST (path, JSON body) it receives."""

    def __init__(self):
        self.events: list[tuple[str, object]] = []
        self.cv = threading.Condition()
        self.status = 200
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"null")
                with outer.cv:
                    outer.events.append((self.path, body))
                    outer.cv.notify_all()
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def clear(self):
        with self.cv:
            self.events.clear()
            self.status = 200

    def wait(self, n: int, path: str | None = None, timeout: float = 5.0) -> list:
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                got = [b for p, b in self.events if path is None or p == path]
                if len(got) >= n or time.monotonic() > end:
                    return got
                self.cv.wait(0.05)

    def bodies(self, path: str | None = None) -> list:
        with self.cv:
            return [b for p, b in self.events if path is None or p == path]


@pytest.fixture(scope="session")
def _server():
    sb = SandboxServer(callback_delay=0.0, callback_step=0.0, seed=1).start()
    yield sb
    sb.stop()


@pytest.fixture
def sb(_server):
    _server.reset()
    yield _server
    _server.wait_callbacks(5)


@pytest.fixture(scope="session")
def _receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()


@pytest.fixture
def receiver(_receiver):
    _receiver.clear()
    return _receiver


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s
