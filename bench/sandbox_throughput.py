"""Sandbox throughput: recipients accepted per second in batch mode (SMS Partner, 500 numbers
per request), against a baseline measured in the same run: a trivial stdlib HTTP/1.1 server
that reads the body and answers a constant JSON.

    .venv/bin/python bench/sandbox_throughput.py [--seconds 5] [--clients 4]

Each server runs in its own process (the client load generator in this one), so the client's
GIL does not slow the server. Phases:
  1. baseline   trivial handler, same requests
  2. sandbox    full validation + state + request log, no callback URL registered
  3. callbacks  same, with a DLR URL registered: every recipient's lifecycle (3 POSTs) is
                posted by the sandbox's keep-alive pool to a trivial receiver process; the
                accept rate is measured while callbacks flow, and the callback rate reported.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_KEY = "sandbox-smspartner-key"
BATCH = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_baseline(port: int) -> None:
    const = b'{"success":true,"code":200,"message_id":1,"nb_rcs":500,"cost":60.0,"currency":"EUR"}'

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # same socket setting as the sandbox

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(const)))
            self.end_headers()
            self.wfile.write(const)

        do_GET = do_POST

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.daemon_threads = True
    srv.serve_forever()


def wait_port(port: int, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def make_bodies(n: int = 16) -> list[bytes]:
    bodies = []
    for b in range(n):
        phones = [f"+336{b:02d}{i:06d}" for i in range(BATCH)]
        bodies.append(
            json.dumps(
                {
                    "apiKey": API_KEY,
                    "phoneNumbers": phones,
                    "isUnicode": 1,
                    "richContent": {
                        "conversation": {
                            "text": "Bench message",
                            "suggestions": [{"reply": {"text": "Yes", "postbackData": "yes"}}],
                        }
                    },
                }
            ).encode()
        )
    return bodies


def load(port: int, path: str, seconds: float, clients: int) -> tuple[float, int]:
    """Keep-alive clients posting 500-number bodies; returns (recipients/s, errors)."""
    bodies = make_bodies()
    stop = time.monotonic() + seconds
    counts = [0] * clients
    errors = [0] * clients

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = k
        while time.monotonic() < stop:
            body = bodies[i % len(bodies)]
            i += clients
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 200 and b'"success":' in data.replace(b" ", b""):
                counts[k] += BATCH
            else:
                errors[k] += 1
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(errors)


def spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen([sys.executable, *args], env=env, stderr=subprocess.DEVNULL)


def control(port: int, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(
        method, path, body=json.dumps(body or {}), headers={"Content-Type": "application/json"}
    )
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--serve-baseline", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0

    procs = []
    try:
        bport, sport, rport = free_port(), free_port(), free_port()
        procs.append(spawn([__file__, "--serve-baseline", str(bport)]))
        procs.append(spawn([__file__, "--serve-baseline", str(rport)]))  # callback receiver
        procs.append(
            spawn(
                [
                    "-m",
                    "rcsportal.sandbox",
                    "--port",
                    str(sport),
                    "-q",
                    "--callback-delay",
                    "0",
                    "--callback-step",
                    "0",
                ]
            )
        )
        for p in (bport, sport, rport):
            wait_port(p)
        load(bport, "/smspartner/v1/rcs/send", 0.5, args.clients)  # warm-up
        base, _ = load(bport, "/smspartner/v1/rcs/send", args.seconds, args.clients)
        plain, err1 = load(sport, "/smspartner/v1/rcs/send", args.seconds, args.clients)
        control(sport, "POST", "/_sandbox/reset")
        control(
            sport,
            "POST",
            "/_sandbox/panel",
            {
                "provider": "smspartner",
                "account": API_KEY,
                "dlr_url": f"http://127.0.0.1:{rport}/dlr",
                "reply_url": f"http://127.0.0.1:{rport}/mo",
            },
        )
        h0 = control(sport, "GET", "/_sandbox/health")
        t0 = time.monotonic()
        with_cb, err2 = load(sport, "/smspartner/v1/rcs/send", args.seconds, args.clients)
        h1 = control(sport, "GET", "/_sandbox/health")
        cb_rate = (h1["callbacks_posted"] - h0["callbacks_posted"]) / (time.monotonic() - t0)
        time.sleep(0.5)
        h2 = control(sport, "GET", "/_sandbox/health")
        t2 = time.monotonic()
        time.sleep(3)
        h3 = control(sport, "GET", "/_sandbox/health")
        drain = (h3["callbacks_posted"] - h2["callbacks_posted"]) / (time.monotonic() - t2)
        print(
            f"batch mode: SMS Partner /v1/rcs/send, {BATCH} numbers/request, "
            f"{args.clients} keep-alive clients, {args.seconds:g} s per phase, {os.cpu_count()} CPUs"
        )
        print(f"baseline (trivial stdlib handler): {base:10,.0f} recipients/s")
        print(
            f"sandbox, no callbacks:             {plain:10,.0f} recipients/s  "
            f"ratio {plain / base:.2f} of baseline  errors {err1}"
        )
        print(
            f"sandbox, callbacks flowing:        {with_cb:10,.0f} recipients/s  "
            f"ratio {with_cb / base:.2f} of baseline  errors {err2}"
        )
        print(
            f"callbacks posted while loading:    {cb_rate:10,.0f} POST/s "
            f"(backlog {h1['callbacks_pending']:,} recipients; callbacks lag, accepts do not)"
        )
        print(
            f"callbacks posted after the load:   {drain:10,.0f} POST/s "
            f"(= {drain / 3:,.0f} recipients/s of full sent/delivered/read lifecycles)"
        )
        target = 5000
        print(f"target >= {target:,} recipients/s: {'OK' if plain >= target else 'BELOW'}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
