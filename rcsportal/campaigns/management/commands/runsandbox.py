"""``manage.py runsandbox``: run the provider sandbox (thin wrapper over rcsportal.sandbox)."""

from django.core.management.base import BaseCommand, CommandError

from rcsportal.sandbox.__main__ import main as sandbox_main


class Command(BaseCommand):
    help = "Run the local provider sandbox (SMS Partner, SerwerSMS, BSG, Aerialink) on one port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--faults", default="", help='e.g. "5xx=0.1,429=0.05,latency=200ms"')
        parser.add_argument("--callback-delay", type=float, default=1.0)
        parser.add_argument("--callback-step", type=float, default=0.5)
        parser.add_argument("--rules", default=None, help='e.g. "0=not_rcs,9=fail,8=stop"')
        parser.add_argument(
            "--panel",
            action="append",
            default=[],
            help="PROVIDER,ACCOUNT,DLR_URL[,REPLY_URL] (repeatable)",
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **o):
        argv = [
            "--host",
            o["host"],
            "--port",
            str(o["port"]),
            "--callback-delay",
            str(o["callback_delay"]),
            "--callback-step",
            str(o["callback_step"]),
        ]
        if o["faults"]:
            argv += ["--faults", o["faults"]]
        if o["rules"]:
            argv += ["--rules", o["rules"]]
        for panel in o["panel"]:
            argv += ["--panel", panel]
        if o["seed"] is not None:
            argv += ["--seed", str(o["seed"])]
        if o["quiet"]:
            argv.append("--quiet")
        code = sandbox_main(argv)
        if code:
            raise CommandError(f"sandbox exited with status {code}")
