"""Fault injection: header, control API (next N), CLI spec; callback faults."""

from __future__ import annotations

import time

import pytest
import requests

from rcsportal.sandbox import SandboxServer
from rcsportal.sandbox.faults import FaultSpecError, parse_fault, parse_random_spec

from .conftest import SMSP_KEY


def rcs(phones):
    return {
        "apiKey": SMSP_KEY,
        "phoneNumbers": phones,
        "isUnicode": 1,
        "richContent": {
            "conversation": {
                "text": "Hi",
                "suggestions": [{"reply": {"text": "Yes", "postbackData": "pb"}}],
            }
        },
    }


def send(http, sb, phones=("+33612345671",), fault=None, timeout=5):
    headers = {"X-Sandbox-Fault": fault} if fault else {}
    return http.post(
        sb.url_for("smspartner") + "/v1/rcs/send",
        json=rcs(list(phones)),
        headers=headers,
        timeout=timeout,
    )


def test_parse_specs():
    f = parse_fault("429;retry-after=2")
    assert f.status == 429 and f.retry_after == 2
    assert parse_fault("latency=300,drop-callbacks").latency == 0.3
    assert parse_fault("timeout=5;accept=0").timeout_accept is False
    r = parse_random_spec("5xx=0.1,429=0.05,latency=200ms")
    assert r.probs == {"5xx": 0.1, "429": 0.05} and r.latency == (0.2, 0.2)
    with pytest.raises(FaultSpecError):
        parse_fault("explode")
    with pytest.raises(FaultSpecError):
        parse_random_spec("5xx=2")


def test_header_5xx_and_429_not_recorded(sb, http):
    r = send(http, sb, fault="500")
    assert r.status_code == 500
    r = send(http, sb, fault="429;retry-after=2")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert sb.state.accepted() == []
    rej = sb.state.rejected_entries()
    assert [e["status"] for e in rej] == [500, 429]
    assert send(http, sb).status_code == 200  # the connection is still usable


def test_bsg_429_body(sb, http):
    r = http.post(
        sb.url_for("bsg") + "/api/auth/login",
        json={"api_key": "x"},
        headers={"X-Sandbox-Fault": "429"},
        timeout=5,
    )
    assert r.status_code == 429 and r.json() == {"message": "Too many duplicate request detected"}
    assert r.headers["Retry-After"] == "1"


def test_reset_closes_without_response(sb):
    with pytest.raises(requests.ConnectionError):
        requests.post(
            sb.url_for("smspartner") + "/v1/rcs/send",
            json=rcs(["+33612345671"]),
            headers={"X-Sandbox-Fault": "reset"},
            timeout=5,
        )
    assert sb.state.accepted() == []
    assert sb.state.rejected_entries()[0]["fault"] == "reset"


def test_timeout_accepted_but_response_late(sb):
    t0 = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            sb.url_for("smspartner") + "/v1/rcs/send",
            json=rcs(["+33612345671"]),
            headers={"X-Sandbox-Fault": "timeout=1"},
            timeout=0.3,
        )
    assert time.monotonic() - t0 < 1.0
    # the ambiguous case: the provider did accept it
    assert len(sb.state.accepted("smspartner")) == 1
    assert sb.state.accepted()[0]["fault"] == "timeout=1"


def test_timeout_not_accepted(sb):
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            sb.url_for("smspartner") + "/v1/rcs/send",
            json=rcs(["+33612345671"]),
            headers={"X-Sandbox-Fault": "timeout=1;accept=0"},
            timeout=0.3,
        )
    assert sb.state.accepted() == []


def test_latency(sb, http):
    t0 = time.monotonic()
    assert send(http, sb, fault="latency=300").status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_control_api_next_n_requests(sb, http):
    r = http.post(
        sb.base_url + "/_sandbox/faults",
        json={"provider": "smspartner", "spec": "503", "count": 2},
        timeout=5,
    )
    assert r.json()["queued"]["smspartner"][0]["remaining"] == 2
    assert [send(http, sb).status_code for _ in range(3)] == [503, 503, 200]
    # kind filter: only status requests fail
    sb.fail_next("bsg", "502", count=1, kind="rcs")
    r = http.post(
        sb.url_for("bsg") + "/api/auth/login",
        json={"api_key": "live_sandboxbsgkey000000"},
        timeout=5,
    )
    assert r.status_code == 200
    h = {"Authorization": "Bearer " + r.json()["bearer"]}
    r = http.post(
        sb.url_for("bsg") + "/api/messages/rcs/send",
        headers=h,
        timeout=5,
        json={"phone": {"number": "380661231231"}, "sender": "s", "options": {"text": "t"}},
    )
    assert r.status_code == 502


def test_control_api_reset_and_timeout(sb):
    requests.post(
        sb.base_url + "/_sandbox/faults",
        json={"provider": "aerialink", "spec": "reset", "count": 1},
        timeout=5,
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(sb.url_for("aerialink") + "/v5/messages", json={}, timeout=5)
    requests.post(
        sb.base_url + "/_sandbox/faults",
        json={"provider": "aerialink", "spec": "timeout=1", "count": 1},
        timeout=5,
    )
    with pytest.raises(requests.ReadTimeout):
        requests.post(sb.url_for("aerialink") + "/v5/messages", json={}, timeout=0.3)


def test_random_faults_from_spec():
    with SandboxServer(faults="5xx=0.5,429=0.2", seed=3) as sb, requests.Session() as s:
        codes = [send(s, sb).status_code for _ in range(60)]
    assert {200, 503, 429} <= set(codes)
    assert 10 < codes.count(503) < 50


def test_random_faults_per_provider_via_control(sb, http):
    http.post(
        sb.base_url + "/_sandbox/faults",
        json={"provider": "smspartner", "spec": "500=1"},
        timeout=5,
    )
    assert send(http, sb).status_code == 500
    http.post(sb.base_url + "/_sandbox/faults", json={"clear": True}, timeout=5)
    assert send(http, sb).status_code == 200


def _statuses(receiver, n, path="/dlr"):
    return [(d["phoneNumber"], d["statut"]) for d in receiver.wait(n, path)]


def test_duplicate_callbacks(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    send(http, sb, fault="duplicate-callbacks")
    sb.wait_callbacks(5)
    got = [s for _, s in _statuses(receiver, 6)]
    assert got == ["Waiting", "Waiting", "Delivered", "Delivered", "Read", "Read"]
    assert sum(e["duplicate"] for e in sb.state.callback_entries()) == 3


def test_reorder_callbacks(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    send(http, sb, fault="reorder-callbacks")
    sb.wait_callbacks(5)
    assert [s for _, s in _statuses(receiver, 3)] == ["Read", "Delivered", "Waiting"]


def test_drop_callbacks_still_updates_state(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    mid = send(http, sb, fault="drop-callbacks").json()["message_id"]
    sb.wait_callbacks(5)
    time.sleep(0.1)
    assert receiver.bodies("/dlr") == []
    logged = sb.state.callback_entries()
    assert len(logged) == 3 and all(e["dropped"] and e["status"] is None for e in logged)
    r = http.get(
        sb.url_for("smspartner") + "/v1/message-status",
        timeout=5,
        params={"apiKey": SMSP_KEY, "messageId": mid, "phoneNumber": "+33612345671"},
    )
    assert r.json()["statut"] == "Read"


def test_early_callbacks_arrive_before_response(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    sb.dispatcher.delay = 5.0  # normal callbacks would take 5 s
    try:
        send(http, sb, fault="early-callbacks")
        # already there when the response returned
        assert [s for _, s in _statuses(receiver, 3, "/dlr")] == ["Waiting", "Delivered", "Read"]
        assert len(receiver.bodies("/dlr")) == 3
    finally:
        sb.dispatcher.delay = 0.0


def test_callback_delay_and_failing_receiver(sb, http, receiver):
    sb.register("smspartner", SMSP_KEY, dlr_url=receiver.url("/dlr"))
    http.post(sb.base_url + "/_sandbox/config", json={"callback_delay": 0.3}, timeout=5)
    receiver.status = 500
    t0 = time.monotonic()
    send(http, sb)
    got = receiver.wait(3, "/dlr")
    assert len(got) == 3 and time.monotonic() - t0 >= 0.3
    sb.wait_callbacks(5)
    assert [e["status"] for e in sb.state.callback_entries()] == [500, 500, 500]


def test_callback_to_dead_url_is_logged(sb, http):
    sb.register("smspartner", SMSP_KEY, dlr_url="http://127.0.0.1:9/nothing")
    send(http, sb)
    sb.wait_callbacks(10)
    entries = sb.state.callback_entries()
    assert len(entries) == 3 and all(e["status"] is None and e["error"] for e in entries)
