"""Control API, request log contents and order, rules, bounded logs, CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from rcsportal.sandbox import SandboxServer

from .conftest import BSG_KEY, RCS_ID, SERWER_AUTH, SMSP_KEY


def rcs(phones):
    return {
        "apiKey": SMSP_KEY,
        "phoneNumbers": phones,
        "isUnicode": 1,
        "richContent": {"conversation": {"text": "Hi"}},
    }


def test_health_and_urls(sb, http):
    h = http.get(sb.base_url + "/_sandbox/health", timeout=5).json()
    assert h["status"] == "ok"
    assert h["providers"]["bsg"] == sb.url_for("bsg") == sb.base_url + "/bsg"


def test_request_log_contents_and_order(sb, http):
    http.post(sb.url_for("smspartner") + "/v1/rcs/send", json=rcs(["+33612345671"]), timeout=5)
    http.post(
        sb.url_for("serwersms") + "/messages/send_rcs.json",
        timeout=5,
        json={**SERWER_AUTH, "rcs_id": RCS_ID, "phone": "+48500600701", "message": {"text": "x"}},
    )
    tok = http.post(
        sb.url_for("bsg") + "/api/auth/login", json={"api_key": BSG_KEY}, timeout=5
    ).json()["bearer"]
    http.post(sb.url_for("smspartner") + "/v1/rcs/send", json=rcs(["bad"]), timeout=5)
    log = http.get(sb.base_url + "/_sandbox/requests", timeout=5).json()
    assert [(e["provider"], e["kind"], e["path"]) for e in log] == [
        ("smspartner", "rcs", "/v1/rcs/send"),
        ("serwersms", "rcs", "/messages/send_rcs.json"),
        ("bsg", "auth", "/api/auth/login"),
    ]
    seqs = [e["seq"] for e in log]
    assert seqs == sorted(seqs)
    first = log[0]
    assert first["body"]["apiKey"] == SMSP_KEY and first["recipients"] == ["+33612345671"]
    assert first["ids"] == [first["response"]["message_id"]] and first["time"] > 0
    only = http.get(
        sb.base_url + "/_sandbox/requests", params={"provider": "serwersms"}, timeout=5
    ).json()
    assert len(only) == 1
    assert (
        http.get(sb.base_url + "/_sandbox/requests", params={"kind": "auth"}, timeout=5).json()[0][
            "provider"
        ]
        == "bsg"
    )
    assert tok not in str(log) and log[2]["response"] == {"bearer": "***"}
    rej = http.get(sb.base_url + "/_sandbox/rejected", timeout=5).json()
    assert len(rej) == 1 and rej[0]["response"]["code"] == 9
    since = http.get(
        sb.base_url + "/_sandbox/requests", params={"since": seqs[1]}, timeout=5
    ).json()
    assert [e["seq"] for e in since] == [seqs[2]]


def test_panel_config_rules_and_callbacks_log(sb, http, receiver):
    r = http.post(
        sb.base_url + "/_sandbox/panel",
        timeout=5,
        json={
            "provider": "smspartner",
            "account": SMSP_KEY,
            "dlr_url": receiver.url("/d"),
            "reply_url": receiver.url("/r"),
        },
    )
    assert r.json() == {"dlr_url": receiver.url("/d"), "reply_url": receiver.url("/r")}
    cfg = http.post(
        sb.base_url + "/_sandbox/config",
        timeout=5,
        json={"rules": {"1": "fail", "0": "ok"}, "reply_text": "Bonjour"},
    ).json()
    assert cfg["rules"]["1"] == "fail" and cfg["rules"]["0"] == "ok" and cfg["rules"]["9"] == "ok"
    http.post(
        sb.url_for("smspartner") + "/v1/rcs/send",
        timeout=5,
        json=rcs(["+33612345671", "+33612345670"]),
    )
    assert http.post(sb.base_url + "/_sandbox/drain", json={"timeout": 5}, timeout=10).json()[
        "idle"
    ]
    cbs = http.get(sb.base_url + "/_sandbox/callbacks", timeout=5).json()
    got = {(c["phone"], c["body"]["statut"]) for c in cbs}
    assert ("+33612345671", "Not delivered") in got and ("+33612345670", "Read") in got
    assert all(c["status"] == 200 and c["url"] == receiver.url("/d") for c in cbs)
    bad = http.post(sb.base_url + "/_sandbox/config", json={"rules": {"1": "explode"}}, timeout=5)
    assert bad.status_code == 400


def test_reset_clears_everything(sb, http):
    http.post(sb.url_for("smspartner") + "/v1/rcs/send", json=rcs(["+33612345671"]), timeout=5)
    sb.register("smspartner", SMSP_KEY, dlr_url="http://127.0.0.1:9/x")
    assert http.post(sb.base_url + "/_sandbox/reset", timeout=5).status_code == 200
    assert http.get(sb.base_url + "/_sandbox/requests", timeout=5).json() == []
    assert http.get(sb.base_url + "/_sandbox/panel", timeout=5).json() == {}


def test_unknown_routes_and_bad_requests(sb, http):
    assert http.get(sb.base_url + "/nope/x", timeout=5).status_code == 404
    assert http.get(sb.url_for("smspartner") + "/v1/rcs/send", timeout=5).status_code == 405
    assert http.get(sb.base_url + "/_sandbox/nope", timeout=5).status_code == 404
    assert http.post(sb.base_url + "/_sandbox/faults", data=b"[", timeout=5).status_code == 400
    r = http.post(sb.url_for("smspartner") + "/v1/rcs/send", json=["not", "object"], timeout=5)
    assert r.status_code == 400
    r = http.post(
        sb.url_for("aerialink") + "/v5/messages",
        data=b"\xff\xfe",
        auth=("sandbox", "sandbox-secret"),
        timeout=5,
    )
    assert r.status_code == 400
    # raw garbage on the socket does not kill the server
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        s.recv(100)
    assert http.get(sb.base_url + "/_sandbox/health", timeout=5).status_code == 200


def test_bounded_logs_and_state():
    with SandboxServer(max_log=5, max_recipients=10) as sb, requests.Session() as s:
        for i in range(8):
            s.post(
                sb.url_for("smspartner") + "/v1/rcs/send",
                timeout=5,
                json=rcs([f"+3361234{i:04d}", f"+3361235{i:04d}"]),
            )
        assert len(sb.state.accepted()) == 5 and sb.state.requests.evicted == 3
        assert sb.state.n_recipients <= 10
        assert sb.state.accepted()[0]["seq"] == 4


def test_cli_runs_and_stops_on_sigterm():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rcsportal.sandbox",
            "--port",
            str(port),
            "--callback-delay",
            "0",
            "--faults",
            "latency=1ms",
        ],
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
        r = requests.post(
            f"http://127.0.0.1:{port}/smspartner/v1/rcs/send", json=rcs(["+33612345671"]), timeout=5
        )
        assert r.json()["success"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        err = proc.stderr.read().decode()
        assert "listening on" in err and "smspartner POST /v1/rcs/send -> 200" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sandbox_does_not_import_adapters_or_django():
    code = (
        "import sys, importlib; importlib.import_module('rcsportal.sandbox.server');"
        "bad=[m for m in sys.modules if m.startswith('rcsportal.messaging')];"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        check=True,
    ).stdout
    assert out.strip() == "[]"
    src = os.path.join(os.getcwd(), "rcsportal", "sandbox")
    for name in os.listdir(src):
        if name.endswith(".py"):
            text = Path(src, name).read_text(encoding="utf-8")
            assert "import django" not in text and "from django" not in text, name
            assert "messaging.providers" not in text.replace(
                "``rcsportal.messaging.providers``", ""
            ), name
