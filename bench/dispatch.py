"""Dispatch throughput on PostgreSQL through the SMS Partner adapter into the sandbox.

    .venv/bin/python bench/dispatch.py [--recipients 50000] [--workers 2]

1. creates and migrates a scratch database (``rcsportal_bench_dispatch``;
   ``BENCH_DATABASE_URL`` overrides), loads N French contacts in one group;
2. starts the provider sandbox (callbacks off: this measures submission);
3. baseline, same run: the sandbox's own intake, the same N numbers posted directly in
   500-number requests by the same number of client threads (what the sandbox can take);
4. measured: ``send_dispatch`` (audience snapshot, exclusions, one Delivery per recipient)
   then ``send_process`` in N worker threads (claim with SKIP LOCKED, rate-limit bucket,
   render, HTTP, record results) until every row is accepted;
5. prints recipients/s for each phase and the ratio to the baseline, checks every
   recipient was submitted exactly once (sandbox log), drops the database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def psql(url: str, sql: str) -> None:
    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rcsportal_bench_dispatch"
    )
    name = urlparse(url).path.lstrip("/")
    psql(url, f'DROP DATABASE IF EXISTS "{name}"')
    psql(url, f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "rcsportal.settings_test",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",  # nothing left behind in var/broker
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from rcsportal.campaigns import services
    from rcsportal.campaigns.models import (
        Contact,
        ContactGroup,
        Delivery,
        Membership,
        Send,
        SendStatus,
        Template,
    )
    from rcsportal.sandbox import SandboxServer

    try:
        n = args.recipients
        phones = [f"+336{10_000_000 + i:08d}" for i in range(n)]
        Contact.objects.bulk_create(
            [Contact(phone=p, country="FR") for p in phones], batch_size=5000
        )
        group = ContactGroup.objects.create(name="bench")
        Membership.objects.bulk_create(
            [
                Membership(group=group, contact_id=c)
                for c in Contact.objects.values_list("id", flat=True)
            ],
            batch_size=5000,
        )

        with SandboxServer(callback_delay=10_000, max_log=100_000) as sandbox:
            import requests

            # Baseline: the sandbox's intake for the same numbers, same concurrency.
            batches = [phones[i : i + 500] for i in range(0, n, 500)]
            url_rcs = sandbox.url_for("smspartner") + "/v1/rcs/send"

            def post(chunk):
                session = requests.Session()
                for batch in chunk:
                    body = {
                        "apiKey": "sandbox-smspartner-key",
                        "phoneNumbers": batch,
                        "isUnicode": 1,
                        "richContent": {"conversation": {"text": "Hello"}},
                    }
                    session.post(url_rcs, json=body, timeout=30).raise_for_status()

            start = time.perf_counter()
            threads = [
                threading.Thread(target=post, args=(batches[w :: args.workers],))
                for w in range(args.workers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            baseline = n / (time.perf_counter() - start)
            sandbox.reset()
            sandbox.dispatcher.delay = 10_000

            agent, _ = services.agent_upsert(
                name="bench",
                provider="smspartner",
                base_url=sandbox.url_for("smspartner"),
                credentials={"apiKey": "sandbox-smspartner-key"},
                rate_per_second=1_000_000,
            )
            template = Template.objects.create(
                name="bench", content={"text": "Hello from the benchmark"}
            )
            send = Send.objects.create(
                name="bench",
                template=template,
                agent=agent,
                traffic_type="transactional",
                status=SendStatus.SCHEDULED,
            )
            send.groups.add(group)

            start = time.perf_counter()
            services.send_dispatch(send.pk)
            dispatch_seconds = time.perf_counter() - start

            def work():
                try:
                    while services.send_process(send.pk, time_budget=5) is not None:
                        pass
                finally:
                    connection.close()

            start = time.perf_counter()
            threads = [threading.Thread(target=work) for _ in range(args.workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            process_seconds = time.perf_counter() - start

            accepted = Delivery.objects.filter(send=send, status="accepted").count()
            submitted = [
                r
                for e in sandbox.state.accepted(provider="smspartner", kind="rcs")
                for r in e["recipients"]
            ]
        assert accepted == n, f"{accepted} of {n} accepted"
        assert len(submitted) == len(set(submitted)) == n, (
            "a recipient was submitted twice or not at all"
        )
        total = dispatch_seconds + process_seconds
        print(f"recipients: {n}, workers: {args.workers}, PostgreSQL")
        print(f"baseline  sandbox intake (direct HTTP)       {baseline:10.0f} recipients/s")
        print(
            f"dispatch  snapshot + {n} Delivery rows        {n / dispatch_seconds:10.0f} recipients/s ({dispatch_seconds:.1f} s)"
        )
        print(
            f"process   claim, render, submit, record       {n / process_seconds:10.0f} recipients/s ({process_seconds:.1f} s)"
        )
        print(
            f"end to end                                   {n / total:10.0f} recipients/s ({total:.1f} s)"
        )
        print(
            f"ratio end-to-end / sandbox intake: {n / total / baseline:.3f} (the sandbox is not the bottleneck when < 1)"
        )
        print(
            f"exactly once: {len(set(submitted))} distinct numbers in {len(submitted)} submissions"
        )
    finally:
        connection.close()
        psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
