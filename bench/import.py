"""Contact import at a million rows on PostgreSQL, against ``psql \\copy`` in the same run.

    .venv/bin/python bench/import.py [--rows 1000000] [--keep]

1. creates a scratch database (``rcsportal_bench``; ``BENCH_DATABASE_URL`` overrides) and
   migrates it;
2. writes a French-style CSV (Excel "CSV UTF-8": BOM, semicolons, ``06 12 34 56 78``
   national numbers mixed with ``+33 6 …``; 0.3 % duplicates, 0.2 % invalid) to a temp dir;
3. runs ``manage.py import_contacts FILE --group Bench`` in a child process, timing it end to
   end (start-up, sniffing, parsing, staging, merge, memberships, error report) and reading
   its peak RSS with ``os.wait4`` (that child only);
4. re-runs it (nothing changes: idempotence, counted "unchanged");
5. baseline: dumps the imported (normalized) rows and times ``psql \\copy`` of them into
   ``CREATE TABLE … (LIKE campaigns_contact INCLUDING ALL)`` (same columns and indexes);
   with ``--group`` the import also adds every contact to a group, so the baseline also
   copies those membership rows into ``LIKE campaigns_membership INCLUDING ALL`` with the
   same two foreign keys (checked row by row by PostgreSQL, as for the import);
6. prints the figures and the ratio, and drops the database unless ``--keep``.

Targets (issue 8): <= 30 s end to end, <= 4x COPY, peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import resource  # noqa: F401 - documents where ru_maxrss comes from (os.wait4 returns it)
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

FIRST = [
    "Jean",
    "Marie",
    "Hélène",
    "François",
    "Zoë",
    "Chloé",
    "Léa",
    "Noémie",
    "Jérôme",
    "Benoît",
    "Anaïs",
    "Gaël",
    "Inès",
    "Maël",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Garçon",
    "Rousseau",
    "Fontaine",
    "Chevalier",
    "Dupré",
]
MOBILE = ["60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78", "79"]
CITIES = [
    "Paris",
    "Lyon",
    "Marseille",
    "Orléans",
    "Besançon",
    "Nîmes",
    "Saint-Étienne",
    "Angers",
    "Reims",
    "Brest",
]


def psql(url: str, *args: str, capture: bool = False) -> str:
    parsed = urlparse(url)
    cmd = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-d",
        parsed.path.lstrip("/"),
        *args,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout if capture else ""


def with_db(url: str, name: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{name}").geturl()


def generate(path: Path, rows: int, seed: int = 7) -> dict:
    """A French-style export. Returns the expected counts."""
    rng = random.Random(seed)
    duplicates = invalid = 0
    # A bijection over 0..10^7 scatters numbers (a list is never sorted by phone).
    a, m = 48_271, 10_000_000
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write("Téléphone;Prénom;Nom;Email;Ville\r\n")
        previous = []
        for i in range(rows):
            roll = rng.random()
            if roll < 0.003 and previous:
                number = rng.choice(previous)
                duplicates += 1
            elif roll < 0.005:
                number = "06 12 34"  # too short
                invalid += 1
            else:
                n = (i * a + 12_345) % m
                digits = MOBILE[i % len(MOBILE)] + f"{n:07d}"
                shape = i % 10
                if shape < 7:
                    number = f"0{digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}"
                elif shape < 9:
                    number = (
                        f"+33 {digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}"
                    )
                else:
                    number = f"0{digits}"
                if len(previous) < 1000:
                    previous.append(number)
            first = FIRST[i % len(FIRST)]
            last = LAST[(i // 7) % len(LAST)]
            email = f"{first.lower()}.{i}@example.fr" if i % 4 else ""
            fh.write(f"{number};{first};{last};{email};{CITIES[i % len(CITIES)]}\r\n")
    return {"duplicates": duplicates, "invalid": invalid}


def run_import(csv_path: Path, env: dict, report: Path, group: bool) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            PY,
            "manage.py",
            "import_contacts",
            str(csv_path),
            *(["--group", "Bench"] if group else []),
            "--report",
            str(report),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"import failed ({proc.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss * 1024, output  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--group",
        action="store_true",
        help="also add every contact to a group (1M memberships; baseline copies them too)",
    )
    args = parser.parse_args()

    server = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rcsportal_bench"
    )
    db_name = urlparse(server).path.lstrip("/")
    admin_url = with_db(server, "postgres")
    psql(
        admin_url,
        "-c",
        f'DROP DATABASE IF EXISTS "{db_name}"',
        "-c",
        f'CREATE DATABASE "{db_name}"',
    )
    env = {
        **os.environ,
        "DATABASE_URL": server,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
            tmp_path = Path(tmp)
            csv_path = tmp_path / "contacts-fr.csv"
            t0 = time.perf_counter()
            expected = generate(csv_path, args.rows)
            gen_s = time.perf_counter() - t0
            size_mb = csv_path.stat().st_size / 1e6
            print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {gen_s:.1f} s", flush=True)

            first_s, first_rss, first_out = run_import(
                csv_path, env, tmp_path / "errors.csv", args.group
            )
            print(first_out.strip(), flush=True)
            second_s, second_rss, second_out = run_import(
                csv_path, env, tmp_path / "errors2.csv", args.group
            )
            print(second_out.strip(), flush=True)

            # Baseline: the same normalized rows, psql \copy into an equivalent table.
            # With the ids, so that the memberships' contact_id refer to the same rows.
            columns = (
                "id, phone, first_name, last_name, email, language, country, attributes, "
                "consent_status, consent_source, consent_at, created_at, updated_at"
            )
            dump = tmp_path / "normalized.csv"
            dump_sql = f"\\copy (SELECT {columns} FROM campaigns_contact) TO '{dump}' CSV"  # noqa: S608
            psql(server, "-c", dump_sql)
            psql(
                server,
                "-c",
                "DROP TABLE IF EXISTS bench_copy",
                "-c",
                "CREATE TABLE bench_copy (LIKE campaigns_contact INCLUDING ALL)",
            )
            members_dump = tmp_path / "memberships.csv"
            if args.group:
                psql(
                    server,
                    "-c",
                    f"\\copy (SELECT group_id, contact_id, added_at FROM campaigns_membership) TO '{members_dump}' CSV",  # noqa: S608, E501
                )
            psql(
                server,
                "-c",
                "DROP TABLE IF EXISTS bench_copy_members",
                "-c",
                "CREATE TABLE bench_copy_members (LIKE campaigns_membership INCLUDING ALL)",
                "-c",
                "ALTER TABLE bench_copy_members ADD FOREIGN KEY (contact_id) "
                "REFERENCES bench_copy (id) DEFERRABLE INITIALLY DEFERRED, "
                "ADD FOREIGN KEY (group_id) REFERENCES campaigns_contactgroup (id) "
                "DEFERRABLE INITIALLY DEFERRED",
            )
            t0 = time.perf_counter()
            copy_in = [f"\\copy bench_copy ({columns}) FROM '{dump}' CSV"]
            if args.group:
                copy_in.append(
                    "\\copy bench_copy_members (group_id, contact_id, added_at) "
                    f"FROM '{members_dump}' CSV"
                )
            psql(server, "-1", *[arg for cmd in copy_in for arg in ("-c", cmd)])
            copy_s = time.perf_counter() - t0
            copied = int(psql(server, "-tA", "-c", "SELECT count(*) FROM bench_copy", capture=True))
            imported = int(
                psql(server, "-tA", "-c", "SELECT count(*) FROM campaigns_contact", capture=True)
            )
            members = int(
                psql(server, "-tA", "-c", "SELECT count(*) FROM campaigns_membership", capture=True)
            )
    finally:
        if not args.keep:
            psql(admin_url, "-c", f'DROP DATABASE IF EXISTS "{db_name}"')

    print()
    print(
        f"rows in file          {args.rows:,} ({expected['duplicates']:,} duplicates, "
        f"{expected['invalid']:,} invalid generated)"
    )
    print(f"contacts imported     {imported:,} (memberships {members:,}; copy baseline {copied:,})")
    print(f"import end to end     {first_s:.1f} s  ({args.rows / first_s:,.0f} rows/s)")
    print(f"peak RSS (import)     {first_rss / 2**20:.0f} MiB")
    print(f"re-import (no change) {second_s:.1f} s  (peak RSS {second_rss / 2**20:.0f} MiB)")
    baseline = "contacts + memberships, with the FKs" if args.group else "contacts"
    print(f"psql \\copy baseline   {copy_s:.1f} s  ({baseline})")
    print(f"ratio import / COPY   {first_s / copy_s:.2f}x")
    targets = [
        ("end to end <= 30 s", first_s <= 30),
        ("<= 4x COPY", first_s / copy_s <= 4),
        ("peak RSS <= 300 MB", first_rss <= 300 * 10**6),
    ]
    print(
        "targets: " + ", ".join(f"{name}: {'OK' if good else 'MISSED'}" for name, good in targets)
    )


if __name__ == "__main__":
    main()
