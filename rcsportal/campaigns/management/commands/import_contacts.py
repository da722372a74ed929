"""Import contacts from a CSV file: the same engine and report as the admin flow.

    manage.py import_contacts contacts.csv --group "Salon 2025" --country FR --dry-run

Exit status: 0 when the file was read (rejected rows are listed in the report), 1 when the
file is broken (nothing written), 2 on bad arguments.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rcsportal.campaigns import importers


class Command(BaseCommand):
    help = "Import contacts from a CSV file (streaming; encoding, delimiter and columns detected)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            help="Add every imported contact to this group (created if missing). Repeatable.",
        )
        parser.add_argument(
            "--country", default="FR", help="Region for national-format numbers (FR)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count and report; write nothing."
        )
        parser.add_argument(
            "--update",
            action="store_true",
            default=True,
            help="Update existing contacts (default).",
        )
        parser.add_argument(
            "--no-update",
            dest="update",
            action="store_false",
            help="Only add new contacts; leave existing ones as they are.",
        )
        parser.add_argument("--consent-source", default="", help="Recorded on every contact.")
        parser.add_argument(
            "--delimiter", help="Field delimiter (default: detected). Use \\t for tab."
        )
        parser.add_argument("--encoding", help="Text encoding (default: detected).")
        parser.add_argument(
            "--no-header", action="store_true", help="The first line is data, not a header."
        )
        parser.add_argument(
            "--report", help="Write the error report CSV here (default: FILE.errors.csv)."
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        delimiter = opts["delimiter"]
        if delimiter in ("\\t", "tab", "TAB"):
            delimiter = "\t"
        country = opts["country"].upper()
        import phonenumbers

        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise CommandError(f"--country {country}: not an ISO 3166 region code")
        report = Path(opts["report"]) if opts["report"] else path.with_suffix(".errors.csv")
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()
        started = time.monotonic()
        try:
            sniffed = importers.sniff(path, encoding=opts["encoding"], delimiter=delimiter)
            has_header = sniffed.has_header and not opts["no_header"]
            mapping = sniffed.mapping
            self.stderr.write(
                f"{path.name}: {sniffed.encoding}, delimiter {sniffed.delimiter!r}, "
                f"{'header' if has_header else 'no header'}; columns: "
                + ", ".join(
                    f"{sniffed.header[int(i)]} -> {target or 'ignored'}"
                    for i, target in mapping.items()
                )
            )
            options = importers.ImportOptions(
                default_country=country,
                update_existing=opts["update"],
                groups=opts["group"],
                consent_source=opts["consent_source"],
            )
            size = path.stat().st_size

            def progress(rows: int, fraction: float | None) -> None:
                if tty:
                    percent = f"{fraction * 100:5.1f}%" if fraction is not None else ""
                    self.stderr.write(f"\r{percent} {rows:,} rows", ending="")
                    self.stderr.flush()

            result = importers.import_file(
                path,
                encoding=sniffed.encoding,
                delimiter=sniffed.delimiter,
                has_header=has_header,
                mapping=mapping,
                options=options,
                dry_run=opts["dry_run"],
                progress=progress,
                report_path=report,
            )
        except importers.ImportFileError as exc:
            if tty:
                self.stderr.write("")
            self.stderr.write(self.style.ERROR(f"{path.name}: {exc.message} Nothing was imported."))
            sys.exit(1)
        if tty:
            self.stderr.write("")
        elapsed = time.monotonic() - started
        self._report(result, opts["dry_run"], elapsed, size)

    def _report(self, result, dry_run: bool, elapsed: float, size: int) -> None:
        counts = result.counts
        title = "Dry run (nothing written)" if dry_run else "Imported"
        self.stdout.write(f"{title}: {result.rows:,} rows in {elapsed:.1f} s")
        for key in importers.COUNT_KEYS:
            self.stdout.write(f"  {key:<11} {counts[key]:>10,}")
        if result.errors:
            self.stdout.write("First errors:")
            for error in result.errors:
                column = f" [{error['column']}]" if error["column"] else ""
                self.stdout.write(f"  line {error['line']}{column}: {error['reason']}")
        if result.report_path:
            self.stdout.write(f"Error report: {result.report_path}")
