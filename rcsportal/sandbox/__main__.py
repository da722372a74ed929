"""``python -m rcsportal.sandbox [--port 8025] [--host H] [--faults SPEC] [--callback-delay S]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .faults import FaultSpecError, parse_random_spec
from .server import PROVIDERS, SandboxServer
from .state import DEMO_CREDENTIALS, parse_rules


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rcsportal.sandbox",
        description="Local HTTP sandbox for the SMS Partner, SerwerSMS, BSG and Aerialink APIs.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8025)
    p.add_argument(
        "--faults",
        default="",
        help='random faults for every provider, e.g. "5xx=0.1,429=0.05,latency=200ms"',
    )
    p.add_argument(
        "--callback-delay",
        type=float,
        default=1.0,
        help="seconds before the first callback of a recipient (default 1.0)",
    )
    p.add_argument(
        "--callback-step",
        type=float,
        default=0.5,
        help="seconds between successive callbacks of one recipient (default 0.5)",
    )
    p.add_argument("--rules", default=None, help='last-digit rules, e.g. "0=not_rcs,9=fail,8=stop"')
    p.add_argument(
        "--panel",
        action="append",
        default=[],
        metavar="PROVIDER,ACCOUNT,DLR_URL[,REPLY_URL]",
        help="register account-level callback URLs (repeatable); SerwerSMS: ACCOUNT = rcs_id, "
        "DLR_URL = webhook URL",
    )
    p.add_argument("--callback-workers", type=int, default=4)
    p.add_argument("--max-log", type=int, default=200_000, help="request/callback log entries kept")
    p.add_argument("--seed", type=int, default=None, help="random seed for --faults")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s sandbox %(message)s",
        stream=sys.stderr,
    )
    try:
        parse_random_spec(args.faults)
        rules = parse_rules(args.rules) if args.rules else None
    except (FaultSpecError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    panel: dict = {}
    for item in args.panel:
        parts = [x.strip() for x in item.split(",")]
        if len(parts) < 3 or parts[0] not in PROVIDERS:
            print(f"error: bad --panel {item!r}", file=sys.stderr)
            return 2
        prov, account, dlr = parts[:3]
        urls = {"webhook_url" if prov == "serwersms" else "dlr_url": dlr}
        if len(parts) > 3:
            urls["reply_url"] = parts[3]
        panel.setdefault(prov, {})[account] = urls
    # shorter GIL switch interval: callback workers (I/O) are not starved by request parsing
    sys.setswitchinterval(0.001)
    sb = SandboxServer(
        host=args.host,
        port=args.port,
        callback_delay=args.callback_delay,
        callback_step=args.callback_step,
        faults=args.faults,
        rules=rules,
        max_log=args.max_log,
        callback_workers=args.callback_workers,
        panel=panel,
        seed=args.seed,
    )

    def _stop(signum, frame):
        logging.getLogger("rcsportal.sandbox").warning("signal %d: shutting down", signum)
        threading.Thread(target=sb.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    log = logging.getLogger("rcsportal.sandbox")
    log.warning("listening on %s (control API: %s/_sandbox/health)", sb.base_url, sb.base_url)
    for prov in PROVIDERS:
        log.warning(
            "  %-10s %s   demo credentials: %s", prov, sb.url_for(prov), DEMO_CREDENTIALS[prov]
        )
    sb.serve_forever()
    log.warning("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
