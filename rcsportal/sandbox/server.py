"""The sandbox HTTP server: one port, one path prefix per provider, a control API.

    /smspartner/...  /serwersms/...  /bsg/...  /aerialink/...   provider wire APIs
    /_sandbox/...                                               control / inspection API

Python API::

    with SandboxServer(callback_delay=0.0) as sb:
        sb.register("smspartner", "sandbox-smspartner-key", dlr_url=..., reply_url=...)
        requests.post(sb.url_for("smspartner") + "/v1/rcs/send", json=...)
        sb.wait_callbacks()
        sb.state.accepted("smspartner")
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from .aerialink import Aerialink
from .base import BadBody, Request, Result
from .bsg import Bsg
from .callbacks import CallbackDispatcher, apply_modes
from .faults import FaultController, FaultSpecError
from .serwersms import SerwerSms
from .smspartner import SmsPartner
from .state import DEMO_CREDENTIALS, SandboxState, mask_headers, parse_rules, public_entry

log = logging.getLogger("rcsportal.sandbox")

PROVIDERS = ("smspartner", "serwersms", "bsg", "aerialink")
MAX_BODY = 20 * 1024 * 1024
FAULT_HEADER = "X-Sandbox-Fault"


def default_credentials() -> dict:
    d = DEMO_CREDENTIALS
    return {
        "smspartner": {"apiKeys": {d["smspartner"]["apiKey"]}},
        "serwersms": {
            "users": {d["serwersms"]["username"]: d["serwersms"]["password"]},
            "tokens": {d["serwersms"]["token"]: d["serwersms"]["username"]},
            "rcs_ids": {d["serwersms"]["rcs_id"]},
        },
        "bsg": {"api_keys": {d["bsg"]["api_key"]}},
        "aerialink": {
            "users": {d["aerialink"]["username"]: d["aerialink"]["password"]},
            "sources": {d["aerialink"]["source"]},
        },
    }


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler, sandbox):
        self.sandbox = sandbox
        self.open_conns: set = set()
        self.conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):  # concise, never a traceback storm
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        log.warning("sandbox: error serving %s: %r", client_address, exc)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rcsportal-sandbox/1"
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections

    def setup(self):
        super().setup()
        with self.server.conns_lock:
            self.server.open_conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.conns_lock:
                self.server.open_conns.discard(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    # -- plumbing ---------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _dispatch(self) -> None:
        sb: SandboxServer = self.server.sandbox
        t0 = time.perf_counter()
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(413, {"message": "Request body too large or unreadable"})
            return
        path, _, qs = self.path.partition("?")
        try:
            if path.startswith("/_sandbox"):
                status, body = sb.control(self.command, path, qs, raw)
                self._send(status, body)
                return
            self._provider_request(sb, path, qs, raw, t0)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # never crash on a bad request
            log.exception("sandbox: internal error on %s %s", self.command, path)
            try:
                self._send(500, {"message": f"sandbox internal error: {type(exc).__name__}"})
            except OSError:
                self.close_connection = True

    def _provider_request(self, sb, path: str, qs: str, raw: bytes, t0: float) -> None:
        parts = path.split("/", 2)
        pname = parts[1] if len(parts) > 1 else ""
        provider = sb.providers.get(pname)
        if provider is None:
            self._send(404, {"message": f"Not found: {path}"})
            return
        rel = "/" + (parts[2] if len(parts) > 2 else "")
        rel = rel.rstrip("/") or "/"
        route = sb.routes[pname].get((self.command, rel))
        if route is None:
            known = any(p == rel for (_, p) in sb.routes[pname])
            self._send(405 if known else 404, {"message": f"{self.command} {rel} not supported"})
            return
        handler, kind = route
        headers = self.headers
        try:
            fault = sb.faults.pick(pname, kind, headers.get(FAULT_HEADER))
        except FaultSpecError as exc:
            self._send(400, {"message": f"bad {FAULT_HEADER}: {exc}"})
            return
        query = dict(parse_qsl(qs, keep_blank_values=True))
        base_entry = {
            "provider": pname,
            "kind": kind,
            "method": self.command,
            "path": rel,
            "query": query,
            "headers": mask_headers(headers),
            "client": self.client_address[0],
        }
        if fault.latency:
            time.sleep(fault.latency)
        if fault.reset or (fault.timeout is not None and not fault.timeout_accept):
            what = "reset" if fault.reset else f"timeout={fault.timeout:g}"
            sb.state.log_rejected({**base_entry, "status": None, "fault": what}, raw)
            log.info("%s %s %s -> fault %s", pname, self.command, rel, what)
            if fault.timeout is not None and not fault.reset:
                time.sleep(fault.timeout)
                self.close_connection = True
            else:
                self._reset()
            return
        if fault.status is not None:
            hdrs = {}
            if fault.status == 429:
                hdrs["Retry-After"] = f"{fault.retry_after:g}"
                body = (
                    {"message": "Too many duplicate request detected"}
                    if pname == "bsg"
                    else {"message": "Too Many Requests"}
                )
            else:
                body = {"message": f"Sandbox injected fault: HTTP {fault.status}"}
            sb.state.log_rejected(
                {**base_entry, "status": fault.status, "fault": fault.describe(), "response": body},
                raw,
            )
            log.info("%s %s %s -> fault %s", pname, self.command, rel, fault.status)
            self._send(fault.status, body, hdrs)
            return
        req = Request(self.command, rel, query, headers, raw, self.client_address[0])
        try:
            result: Result = handler(req)
        except BadBody as exc:
            result = provider.bad_body(req, exc)
        logged = result.body
        if isinstance(logged, dict) and "bearer" in logged:
            logged = {**logged, "bearer": "***"}  # tokens are secrets: mask in the log
        entry = {**base_entry, "status": result.status, "response": logged}
        if req.is_form and req._parsed_ok:
            entry["body"] = req._parsed
        if fault.describe():
            entry["fault"] = fault.describe()
        if result.accepted:
            entry.update(account=result.account, recipients=result.recipients, ids=result.ids)
            sb.state.log_request(entry, raw)
            jobs = result.jobs
            if fault.callbacks:
                modes = frozenset(fault.callbacks)
                for job in jobs:
                    job.modes = modes
                    job.steps = apply_modes(job.steps, modes)
            if "early-callbacks" in fault.callbacks:
                sb.dispatcher.run_now(jobs)
            else:
                sb.dispatcher.schedule(jobs, result.not_before)
        else:
            entry["reason"] = result.reason
            sb.state.log_rejected(entry, raw)
        if fault.timeout is not None:
            time.sleep(fault.timeout)
            self.close_connection = True
        log.info(
            "%s %s %s -> %d%s (%d rcpt, %.1f ms)",
            pname,
            self.command,
            rel,
            result.status,
            "" if result.accepted else f" rejected: {result.reason[:120]}",
            len(result.recipients),
            (time.perf_counter() - t0) * 1000,
        )
        self._send(result.status, result.body, result.headers)


class SandboxServer:
    """A real HTTP server speaking the four provider APIs; start() runs it in a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_delay: float = 0.0,
        callback_step: float = 0.0,
        faults: str = "",
        rules: dict | str | None = None,
        max_log: int = 200_000,
        max_log_bytes: int = 256 * 1024 * 1024,
        max_recipients: int = 1_000_000,
        callback_workers: int = 4,
        callback_timeout: float = 5.0,
        max_pending_callbacks: int = 1_000_000,
        credentials: dict | None = None,
        panel: dict | None = None,
        bsg_token_ttl: float = 3600,
        seed: int | None = None,
    ):
        self.host = host
        self.state = SandboxState(max_log, max_log_bytes, max_recipients, rules)
        self.faults = FaultController(faults, seed)
        self.dispatcher = CallbackDispatcher(
            self.state,
            delay=callback_delay,
            step=callback_step,
            workers=callback_workers,
            timeout=callback_timeout,
            max_pending=max_pending_callbacks,
        )
        self.credentials = default_credentials()
        for prov, extra in (credentials or {}).items():
            for k, v in extra.items():
                cur = self.credentials[prov][k]
                if isinstance(cur, dict):
                    cur.update(v)
                else:
                    cur.update(v if isinstance(v, set | list | tuple) else {v})
        self.config: dict = {"bsg_token_ttl": bsg_token_ttl, "smspartner_credit": None}
        self._initial = {
            "callback_delay": callback_delay,
            "callback_step": callback_step,
            "config": dict(self.config),
        }
        self.providers = {
            "smspartner": SmsPartner(self),
            "serwersms": SerwerSms(self),
            "bsg": Bsg(self),
            "aerialink": Aerialink(self),
        }
        self.routes = {name: p.routes() for name, p in self.providers.items()}
        for prov, accounts in (panel or {}).items():
            for account, urls in accounts.items():
                self.state.set_panel(prov, account, **urls)
        self.state.default_panel = json.loads(json.dumps(self.state.panel))
        self.httpd = _HTTPServer((host, port), Handler, self)
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None
        self._started = time.time()

    # -- lifecycle --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "", "::") else "127.0.0.1"  # noqa: S104
        return f"http://{host}:{self.port}"

    def url_for(self, provider: str) -> str:
        if provider not in self.providers:
            raise KeyError(provider)
        return f"{self.base_url}/{provider}"

    def start(self) -> SandboxServer:
        self.dispatcher.start()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Blocking variant for the CLI (stop() from a signal handler thread)."""
        self.dispatcher.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        self.httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            self._close()

    def _close(self) -> None:
        self.dispatcher.stop()
        self.httpd.server_close()
        with self.httpd.conns_lock:
            conns = list(self.httpd.open_conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- conveniences for in-process tests --------------------------------------------
    def register(self, provider: str, account: str, **urls: str) -> dict:
        """Panel URLs: dlr_url / reply_url (SMS Partner, BSG, Aerialink), webhook_url
        (SerwerSMS, account = rcs_id)."""
        if provider == "serwersms" and "dlr_url" in urls and "webhook_url" not in urls:
            urls["webhook_url"] = urls.pop("dlr_url")
        return self.state.set_panel(provider, account, **urls)

    def fail_next(self, provider: str, spec: str, count: int = 1, kind: str | None = None):
        self.faults.queue(provider, spec, count, kind)

    def wait_callbacks(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def reset(self) -> None:
        self.dispatcher.clear()
        self.dispatcher.wait_idle(5)
        self.state.reset()
        self.faults.reset()
        self.dispatcher.delay = self._initial["callback_delay"]
        self.dispatcher.step = self._initial["callback_step"]
        self.config = dict(self._initial["config"])

    def health(self) -> dict:
        return {
            "status": "ok",
            "providers": {p: self.url_for(p) for p in PROVIDERS},
            "uptime": round(time.time() - self._started, 3),
            "accepted": len(self.state.requests),
            "rejected": len(self.state.rejected),
            "callbacks_logged": len(self.state.callbacks),
            "callbacks_pending": self.dispatcher.pending(),
            "callbacks_posted": self.dispatcher.posted,
            "callbacks_failed": self.dispatcher.failed_posts,
            "callbacks_overflow": self.dispatcher.overflow,
            "recipients_tracked": self.state.n_recipients,
        }

    def config_snapshot(self) -> dict:
        return {
            "callback_delay": self.dispatcher.delay,
            "callback_step": self.dispatcher.step,
            "rules": {str(d): self.state.rules.get(str(d), "ok") for d in range(10)},
            "reply_text": self.state.reply_text,
            "stop_text": self.state.stop_text,
            **self.config,
        }

    # -- control API --------------------------------------------------------------------
    def control(self, method: str, path: str, qs: str, raw: bytes) -> tuple[int, object]:
        q = dict(parse_qsl(qs, keep_blank_values=True))
        name = path[len("/_sandbox") :].strip("/")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return 400, {"error": "body must be JSON"}
        if not isinstance(body, dict):
            return 400, {"error": "body must be a JSON object"}
        try:
            return self._control(method, name, q, body)
        except (ValueError, KeyError, TypeError, FaultSpecError) as exc:
            return 400, {"error": str(exc)}

    def _control(self, method: str, name: str, q: dict, body: dict) -> tuple[int, object]:
        def listing(log_items: list[dict], extra=None) -> list[dict]:
            since = int(q.get("since") or 0)
            include_body = q.get("body", "1") not in ("0", "false")
            out = []
            for e in log_items:
                if e["seq"] <= since:
                    continue
                if q.get("provider") and e.get("provider") != q["provider"]:
                    continue
                if q.get("kind") and e.get("kind") != q["kind"]:
                    continue
                if extra and not extra(e):
                    continue
                out.append(public_entry(e, include_body))
            if q.get("limit"):
                out = out[-int(q["limit"]) :]
            return out

        if name == "health" and method == "GET":
            return 200, self.health()
        if name == "requests" and method == "GET":
            return 200, listing(self.state.requests.items())
        if name == "rejected" and method == "GET":
            return 200, listing(self.state.rejected.items())
        if name == "callbacks" and method == "GET":
            url = q.get("url")
            return 200, listing(
                self.state.callbacks.items(), (lambda e: e["url"] == url) if url else None
            )
        if name == "reset" and method == "POST":
            self.reset()
            return 200, {"status": "reset"}
        if name == "drain" and method == "POST":
            idle = self.wait_callbacks(float(body.get("timeout", 10)))
            return 200, {"idle": idle, "pending": self.dispatcher.pending()}
        if name == "faults":
            if method == "GET":
                return 200, self.faults.snapshot()
            if method == "DELETE" or body.get("clear"):
                self.faults.reset()
                return 200, self.faults.snapshot()
            if method == "POST":
                provider = body.get("provider") or "*"
                if provider not in (*PROVIDERS, "*", "all"):
                    raise ValueError(f"unknown provider {provider!r}")
                provider = "*" if provider == "all" else provider
                spec = str(body.get("spec", ""))
                if body.get("count") is not None:
                    self.faults.queue(provider, spec, int(body["count"]), body.get("kind"))
                else:
                    self.faults.set_random(provider, spec)
                return 200, self.faults.snapshot()
        if name == "panel":
            if method == "GET":
                return 200, self.state.panel
            if method == "POST":
                provider = body.get("provider")
                if provider not in PROVIDERS:
                    raise ValueError(f"unknown provider {provider!r}")
                urls = {k: body[k] for k in ("dlr_url", "reply_url", "webhook_url") if k in body}
                return 200, self.register(provider, str(body.get("account") or "*"), **urls)
        if name == "config":
            if method == "POST":
                self.apply_config(body)
            if method in ("GET", "POST"):
                return 200, self.config_snapshot()
        return 404, {"error": f"unknown control endpoint {method} /_sandbox/{name}"}

    def apply_config(self, body: dict) -> None:
        if "rules" in body:
            self.state.rules = parse_rules(body["rules"])
        if "callback_delay" in body:
            self.dispatcher.delay = max(0.0, float(body["callback_delay"]))
        if "callback_step" in body:
            self.dispatcher.step = max(0.0, float(body["callback_step"]))
        for key in ("reply_text", "stop_text"):
            if key in body:
                setattr(self.state, key, str(body[key]))
        if "bsg_token_ttl" in body:
            self.config["bsg_token_ttl"] = float(body["bsg_token_ttl"])
        if body.get("bsg_revoke_tokens"):
            self.providers["bsg"].rotate()
        if "smspartner_credit" in body:
            credit = body["smspartner_credit"]
            self.config["smspartner_credit"] = None if credit is None else float(credit)
            self.state.provider_state.setdefault("smspartner", {}).pop("credit", None)
        if "faults" in body:
            self.faults.set_global(str(body["faults"]))
