"""Shared fixtures of the provider adapter tests (no Django, no network but 127.0.0.1)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Stub:
    """A tiny local HTTP server: ``routes[(METHOD, path)] = callable(Seen) -> (status, headers,
    body)`` or a list of such tuples/callables served in turn (the last one repeats)."""

    url: str = ""
    routes: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)

    def answer(self, seen: Seen):
        key = (seen.method, seen.path)
        spec = self.routes.get(key)
        if spec is None:
            return 404, {}, b'{"message": "no route"}'
        item = (spec.pop(0) if len(spec) > 1 else spec[0]) if isinstance(spec, list) else spec
        if callable(item):
            item = item(seen)
        status, headers, body = item
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
        return status, headers, body


@pytest.fixture
def stub():
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command,
                parts.path,
                {k: v[-1] for k, v in parse_qs(parts.query).items()},
                {k: v for k, v in self.headers.items()},
                body,
            )
            state.requests.append(seen)
            status, headers, out = state.answer(seen)
            if headers.get("_sleep_before"):
                time.sleep(float(headers["_sleep_before"]))
            self.send_response(status)
            for k, v in headers.items():
                if k.startswith("_sleep"):
                    continue
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if headers.get("_sleep"):
                time.sleep(float(headers["_sleep"]))
            with contextlib.suppress(OSError):
                self.wfile.write(out)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
