"""The COPY path of the contact import on PostgreSQL: exact counts, idempotent re-import,
nothing half-written when the file breaks or the merge fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rcsportal \\
        .venv/bin/pytest tests/integration/test_import_postgres.py -p no:cacheprovider
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from rcsportal.campaigns import importers
from rcsportal.campaigns.importers import ImportFileError, ImportOptions
from rcsportal.campaigns.models import Contact, Membership, Suppression
from tests.conftest import missing_service

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "csv"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres():
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL: set DATABASE_URL=postgres://... (make test-integration)")


def run(path, *, dry_run=False, progress=None, **option_kw):
    sniffed = importers.sniff(path)
    return importers.import_file(
        path,
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        has_header=sniffed.has_header,
        mapping=sniffed.mapping,
        options=ImportOptions(**option_kw),
        dry_run=dry_run,
        progress=progress,
    )


def counts(**kw):
    base = dict.fromkeys(importers.COUNT_KEYS, 0)
    base.update(kw)
    return base


def temp_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relpersistence = 't' AND relname LIKE 'imp_%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def test_exact_counts_and_idempotent_reimport(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "CHUNK_ROWS", 3)  # several COPY chunks
    Suppression.objects.create(phone="+33698765432")
    path = CORPUS / "fr_cp1252_semicolon.csv"

    dry = run(path, dry_run=True, groups=["PG"])
    assert dry.counts == counts(new=2, duplicates=1, invalid=3, suppressed=1)
    assert Contact.objects.count() == 0

    seen = []

    def progress(rows, fraction):
        seen.append((rows, connection.in_atomic_block))

    first = run(path, groups=["PG"], progress=progress)
    assert first.counts == dry.counts
    assert [(e["line"], e["column"]) for e in first.errors] == [
        (3, "Téléphone"),
        (5, "Email"),
        (6, "Téléphone"),
        (7, "Téléphone"),
        (8, "Consentement"),
    ]
    assert seen[0] == (3, False)  # progress is committed on its own, outside the merge
    assert Membership.objects.filter(group__name="PG").count() == 2
    stamps = dict(Contact.objects.values_list("phone", "updated_at"))

    again = run(path, groups=["PG"])
    assert again.counts == counts(unchanged=2, duplicates=1, invalid=3, suppressed=1)
    assert dict(Contact.objects.values_list("phone", "updated_at")) == stamps
    assert Membership.objects.filter(group__name="PG").count() == 2
    assert temp_tables() == []


def test_update_and_only_add(tmp_path):
    Contact.objects.create(phone="+33612000070", first_name="Old", email="keep@example.com")
    path = tmp_path / "u.csv"
    path.write_text("phone,first_name,email,ville\n0612000070,New,,Lyon\n0612000071,Add,,\n")
    assert run(path, update_existing=False).counts == counts(new=1, unchanged=1)
    assert Contact.objects.get(phone="+33612000070").first_name == "Old"
    assert run(path).counts == counts(updated=1, unchanged=1)
    contact = Contact.objects.get(phone="+33612000070")
    assert (contact.first_name, contact.email, contact.attributes) == (
        "New",
        "keep@example.com",
        {"ville": "Lyon"},
    )
    assert run(path).counts == counts(unchanged=2)


def test_every_corpus_file_matches_sqlite_counts():
    expected = {
        "duplicates_invalid.csv": counts(new=3, duplicates=3, invalid=5),
        "quotes_newlines.csv": counts(new=4, invalid=1),
        "formula_cells.csv": counts(new=1, invalid=5),
        # +447400123456 came with duplicates_invalid.csv: now it gets a name, consent, ...
        "utf8_bom_all_fields.csv": counts(new=2, updated=1, invalid=3),
        "utf16le_tab.txt": counts(new=2),
    }
    for name, wanted in expected.items():
        assert run(CORPUS / name).counts == wanted, name
    alan = Contact.objects.get(phone="+447400123456")
    assert alan.consent_status == "withdrawn" and alan.consent_at is not None


def test_broken_file_late_in_the_file_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "CHUNK_ROWS", 100)
    lines = ["phone,notes"] + [
        f"06 12 {i // 10000:02d} {i // 100 % 100:02d} {i % 100:02d},x" for i in range(1000)
    ]
    lines.append('0699999999,"' + "z" * (importers.FIELD_SIZE_LIMIT + 10) + '"')
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFileError) as info:
        run(path, groups=["Never"])
    assert (info.value.line, info.value.column) == (1002, "notes")
    assert Contact.objects.count() == 0
    assert not Membership.objects.exists()
    assert temp_tables() == []


def test_failure_during_the_merge_rolls_everything_back(monkeypatch):
    original = importers._Stage.merge

    def merge_then_fail(self, now, group_ids):
        original(self, now, group_ids)
        assert Contact.objects.count() == 3  # written inside the transaction...
        raise RuntimeError("boom")

    monkeypatch.setattr(importers._Stage, "merge", merge_then_fail)
    with pytest.raises(RuntimeError):
        run(CORPUS / "duplicates_invalid.csv", groups=["Rolled back"])
    assert Contact.objects.count() == 0  # ... and rolled back together
    assert not Membership.objects.exists()
    assert temp_tables() == []
