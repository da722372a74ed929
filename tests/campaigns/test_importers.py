"""The CSV import engine over the corpus in tests/fixtures/csv (SQLite; PostgreSQL in
tests/integration/test_import_postgres.py). Counts and error lines are exact."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import phonenumbers
import pytest

from rcsportal.campaigns import importers
from rcsportal.campaigns.importers import ImportFileError, ImportOptions
from rcsportal.campaigns.models import Contact, ContactGroup, Membership, Suppression

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "csv"


def run(name_or_path, *, dry_run=False, country="FR", report=None, **option_kw):
    path = name_or_path if isinstance(name_or_path, Path) else CORPUS / name_or_path
    sniffed = importers.sniff(path)
    options = ImportOptions(default_country=country, **option_kw)
    return importers.import_file(
        path,
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        has_header=sniffed.has_header,
        mapping=sniffed.mapping,
        options=options,
        dry_run=dry_run,
        report_path=report,
    )


def counts(**kw):
    base = dict.fromkeys(importers.COUNT_KEYS, 0)
    base.update(kw)
    return base


def error_cells(result):
    return [(e["line"], e["column"]) for e in result.errors]


# --------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "has_header", "mapping"),
    [
        (
            "fr_cp1252_semicolon.csv",
            "cp1252",
            ";",
            True,
            {
                "0": "phone",
                "1": "first_name",
                "2": "last_name",
                "3": "email",
                "4": "attributes.ville",
                "5": "consent_status",
            },
        ),
        (
            "pl_cp1250_semicolon.csv",
            "cp1250",
            ";",
            True,
            {
                "0": "phone",
                "1": "first_name",
                "2": "last_name",
                "3": "email",
                "4": "attributes.miasto",
            },
        ),
        (
            "ua_cp1251_comma.csv",
            "cp1251",
            ",",
            True,
            {
                "0": "phone",
                "1": "first_name",
                "2": "last_name",
                "3": "attributes.misto",
                "4": "language",
            },
        ),
        (
            "utf8_bom_all_fields.csv",
            "utf-8-sig",
            ",",
            True,
            {
                "0": "phone",
                "1": "first_name",
                "2": "last_name",
                "3": "email",
                "4": "language",
                "5": "country",
                "6": "consent_status",
                "7": "consent_at",
                "8": "attributes.city",
            },
        ),
        (
            "utf8_tab.tsv",
            "utf-8",
            "\t",
            True,
            {"0": "phone", "1": "first_name", "2": "last_name", "3": "attributes.company"},
        ),
        (
            "utf16le_tab.txt",
            "utf-16",
            "\t",
            True,
            {"0": "phone", "1": "first_name", "2": "last_name"},
        ),
        (
            "utf16be_semicolon.csv",
            "utf-16",
            ";",
            True,
            {"0": "phone", "1": "first_name", "2": "last_name"},
        ),
        (
            "quotes_newlines.csv",
            "utf-8",
            ",",
            True,
            {"0": "phone", "1": "first_name", "2": "last_name", "3": "attributes.notes"},
        ),
        ("no_header.csv", "utf-8", ",", False, {"0": "phone"}),
    ],
)
def test_sniff_corpus(name, encoding, delimiter, has_header, mapping):
    sniffed = importers.sniff(CORPUS / name)
    assert (sniffed.encoding, sniffed.delimiter, sniffed.has_header) == (
        encoding,
        delimiter,
        has_header,
    )
    assert sniffed.mapping == mapping


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Prénom;Nom\nHélène;Lefèvre\nFrançois;Gaëtan\n", "cp1252"),
        ("Imię;Nazwisko\nŁukasz;Wójcik\nZażółć;Gęślą jaźń\n", "cp1250"),
        ("Ім'я,Прізвище\nОлена,Петренко\nҐанна,Їжакевич\n", "cp1251"),
        ("Prénom\nÉmilie\n", "cp1252"),
        ("Nazwisko\nŻółkiewska\n", "cp1250"),
        ("Місто\nКиїв\n", "cp1251"),
    ],
)
def test_encoding_guess_among_code_pages(text, encoding):
    assert importers.detect_encoding(text.encode(encoding)) == encoding
    assert importers.detect_encoding(text.encode("utf-8")) == "utf-8"


def test_guess_mapping_in_four_languages():
    assert importers.guess_mapping(
        ["Téléphone", "Prénom", "NOM", "E-mail", "Langue", "Pays", "Ville", "Ville"]
    ) == {
        "0": "phone",
        "1": "first_name",
        "2": "last_name",
        "3": "email",
        "4": "language",
        "5": "country",
        "6": "attributes.ville",
        "7": "attributes.ville_2",
    }
    assert importers.guess_mapping(
        ["Numer telefonu", "Imię", "Nazwisko", "Zgoda", "Źródło zgody"]
    ) == {
        "0": "phone",
        "1": "first_name",
        "2": "last_name",
        "3": "consent_status",
        "4": "consent_source",
    }
    assert importers.guess_mapping(["Мобільний", "Ім’я", "Прізвище", "Мова", "Дата згоди"]) == {
        "0": "phone",
        "1": "first_name",
        "2": "last_name",
        "3": "language",
        "4": "consent_at",
    }
    assert importers.guess_mapping(["mobile", "first name", "Last Name", "2024 spend", ""]) == {
        "0": "phone",
        "1": "first_name",
        "2": "last_name",
        "3": "attributes.c_2024_spend",
        "4": "attributes.column_5",
    }


def test_record_lines_are_physical_lines_where_records_start():
    lines = [
        line
        for line, _ in importers.iter_rows(
            CORPUS / "quotes_newlines.csv", encoding="utf-8", delimiter=","
        )
    ]
    assert lines == [1, 2, 4, 5, 8, 10]


# --------------------------------------------------------------------------------------------
# Broken files: a clear message and nothing written
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("binary.bin", "not a CSV text file (it contains binary data)"),
        ("workbook.xlsx", "looks like an Excel workbook"),
    ],
)
def test_unreadable_files_are_refused_by_sniff(name, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        importers.sniff(CORPUS / name)


@pytest.mark.django_db
def test_header_only_file_has_no_data_rows():
    with pytest.raises(ImportFileError, match="no data rows"):
        run("header_only.csv")


@pytest.mark.django_db
def test_truncated_file_names_the_line_and_writes_nothing():
    with pytest.raises(ImportFileError) as info:
        run("truncated.csv")
    assert info.value.line == 3
    assert "never closed" in info.value.message
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_wrong_delimiter_says_so():
    path = CORPUS / "fr_cp1252_semicolon.csv"
    sniffed = importers.sniff(path, delimiter=",")
    with pytest.raises(ImportFileError, match="single column .* is the delimiter right"):
        importers.import_file(
            path,
            encoding=sniffed.encoding,
            delimiter=",",
            has_header=True,
            mapping=sniffed.mapping,
            options=ImportOptions(),
        )


@pytest.mark.django_db
def test_wrong_encoding_names_the_line():
    path = CORPUS / "fr_cp1252_semicolon.csv"
    with pytest.raises(ImportFileError, match="not valid utf-8") as info:
        importers.import_file(
            path,
            encoding="utf-8",
            delimiter=";",
            has_header=False,
            mapping={"0": "phone"},
            options=ImportOptions(),
        )
    assert info.value.line == 1


@pytest.mark.django_db
@pytest.mark.parametrize("quoted", [False, True])
def test_ten_million_character_field_names_line_and_column(tmp_path, quoted):
    huge = "x" * 10_000_000
    cell = f'"{huge}\n{huge[:10]}"' if quoted else huge
    path = tmp_path / "huge.csv"
    path.write_text(
        f"phone,first_name,notes\n+33612000050,Ok,fine\n+33612000051,Big,{cell}\n+33612000052,After,x\n"
    )
    with pytest.raises(ImportFileError) as info:
        run(path)
    assert (info.value.line, info.value.column) == (3, "notes")
    assert "field too long" in info.value.message
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_field_just_over_the_csv_limit(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(f'phone,notes\n+33612000060,"{"y" * (importers.FIELD_SIZE_LIMIT + 1)}"\n')
    with pytest.raises(ImportFileError) as info:
        run(path)
    assert (info.value.line, info.value.column) == (2, "notes")


# --------------------------------------------------------------------------------------------
# Good and nasty files: exact counts and error lines
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_french_excel_file(tmp_path):
    report = tmp_path / "errors.csv"
    result = run("fr_cp1252_semicolon.csv", report=report, groups=["Salon"])
    assert result.counts == counts(new=3, duplicates=1, invalid=3)
    assert result.rows == 7
    assert error_cells(result) == [
        (5, "Email"),
        (6, "Téléphone"),
        (7, "Téléphone"),
        (8, "Consentement"),
    ]
    helene = Contact.objects.get(phone="+33612345678")
    assert (helene.first_name, helene.last_name, helene.consent_status) == (
        "Hélène",
        "Lefèvre",
        "granted",
    )
    assert helene.attributes == {"ville": "Orléans"}
    assert Contact.objects.get(phone="+33781234567").country == "FR"
    assert Membership.objects.filter(group__name="Salon").count() == 3

    with open(report, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "line",
        "column",
        "reason",
        "Téléphone",
        "Prénom",
        "Nom",
        "Email",
        "Ville",
        "Consentement",
    ]
    assert [r[:2] for r in rows[1:]] == [
        ["5", "Email"],
        ["6", "Téléphone"],
        ["7", "Téléphone"],
        ["8", "Consentement"],
    ]
    assert rows[2][2] == "duplicate of line 2 (same number; the first one is imported)"
    assert rows[2][3:] == ["06 12 34 56 78", "Hélène", "Doublon", "", "Orléans", "oui"]

    again = run("fr_cp1252_semicolon.csv", groups=["Salon"])
    assert again.counts == counts(unchanged=3, duplicates=1, invalid=3)
    assert Membership.objects.filter(group__name="Salon").count() == 3


@pytest.mark.django_db
def test_suppressed_numbers_are_counted_and_not_imported():
    Suppression.objects.create(phone="+33698765432")
    result = run("fr_cp1252_semicolon.csv")
    assert result.counts == counts(new=2, duplicates=1, invalid=3, suppressed=1)
    assert not Contact.objects.filter(phone="+33698765432").exists()
    assert (3, "Téléphone") in error_cells(result)


@pytest.mark.django_db
def test_dry_run_counts_without_writing():
    Contact.objects.create(phone="+33612345678", first_name="Hélène", last_name="Old")
    Contact.objects.create(
        phone="+33698765432",
        first_name="François",
        last_name="Gaëtan",
        country="FR",
        consent_status="withdrawn",
        attributes={"ville": "Besançon"},
    )
    result = run("fr_cp1252_semicolon.csv", dry_run=True, groups=["Dry"])
    assert result.counts == counts(new=1, updated=1, unchanged=1, duplicates=1, invalid=3)
    assert Contact.objects.count() == 2
    assert not ContactGroup.objects.filter(name="Dry").exists()
    real = run("fr_cp1252_semicolon.csv")
    assert real.counts == result.counts


@pytest.mark.django_db
def test_polish_and_ukrainian_files():
    pl = run("pl_cp1250_semicolon.csv", country="PL")
    assert pl.counts == counts(new=3)
    lukasz = Contact.objects.get(phone="+48512345678")
    assert (lukasz.first_name, lukasz.last_name, lukasz.country) == ("Łukasz", "Wójcik", "PL")
    assert Contact.objects.get(phone="+48512345679").last_name == "Gęślą"
    ua = run("ua_cp1251_comma.csv", country="UA")
    assert ua.counts == counts(new=3)
    olena = Contact.objects.get(phone="+380501234567")
    assert (olena.first_name, olena.language, olena.attributes) == (
        "Олена",
        "uk",
        {"misto": "Київ"},
    )
    assert Contact.objects.get(phone="+380677654321").first_name == "Ґанна"


@pytest.mark.django_db
def test_every_field_and_per_row_country():
    result = run("utf8_bom_all_fields.csv", consent_source="Form 2024")
    assert result.counts == counts(new=3, invalid=3)
    assert error_cells(result) == [(5, "country"), (6, "language"), (7, "consent_date")]
    alan = Contact.objects.get(phone="+447400123456")
    assert (alan.country, alan.language, alan.consent_status) == ("GB", "en-GB", "withdrawn")
    assert alan.consent_at.date().isoformat() in ("2024-01-31", "2024-02-01")
    assert alan.consent_source == "Form 2024"
    ada = Contact.objects.get(phone="+33612345001")
    assert ada.consent_status == "granted" and ada.email == "ada@example.com"
    assert Contact.objects.get(phone="+33612345002").attributes == {"city": "Cirey, Haute-Marne"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "expected", "phones"),
    [
        ("utf8_tab.tsv", counts(new=2), ["+48601234567", "+380671234567"]),
        ("utf16le_tab.txt", counts(new=2), ["+33611223344", "+33611223345"]),
        ("utf16be_semicolon.csv", counts(new=1), ["+33611223346"]),
        ("no_header.csv", counts(new=3), ["+33612000040", "+33612000041", "+33612000042"]),
    ],
)
def test_encodings_and_delimiters(name, expected, phones):
    assert run(name).counts == expected
    assert sorted(Contact.objects.values_list("phone", flat=True)) == sorted(phones)


@pytest.mark.django_db
def test_quotes_and_embedded_newlines():
    result = run("quotes_newlines.csv")
    assert result.counts == counts(new=4, invalid=1)
    assert error_cells(result) == [(8, "phone")]
    assert Contact.objects.get(phone="+33611000001").first_name == "Jean, Jr."
    assert Contact.objects.get(phone="+33611000002").last_name == 'O"Brien'
    assert Contact.objects.get(phone="+33611000003").last_name.split() == ["Multi", "Line", "Name"]
    assert Contact.objects.get(phone="+33611000001").attributes["notes"].split() == [
        "line",
        "one",
        "line",
        "two",
    ]


@pytest.mark.django_db
def test_duplicates_and_invalid_numbers():
    result = run("duplicates_invalid.csv")
    assert result.counts == counts(new=3, duplicates=3, invalid=5)
    assert result.rows == 11  # blank lines are not rows
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (3, "duplicate of line 2 (same number; the first one is imported)"),
        (5, "duplicate of line 4 (same number; the first one is imported)"),
        (6, "duplicate of line 4 (same number; the first one is imported)"),
        (7, "not a valid phone number (national numbers are read as FR)"),
        (8, "not a valid phone number (national numbers are read as FR)"),
        (9, "missing phone number"),
        (10, "not a valid phone number (national numbers are read as FR)"),
        (11, "not a valid phone number (national numbers are read as FR)"),
    ]
    assert sorted(Contact.objects.values_list("phone", flat=True)) == [
        "+33612000001",
        "+33612000002",
        "+447400123456",
    ]
    assert Contact.objects.get(phone="+33612000002").attributes == {"name": "c"}


@pytest.mark.django_db
def test_formula_cells_are_rejected_and_neutralized_in_the_report(tmp_path):
    report = tmp_path / "errors.csv"
    result = run("formula_cells.csv", report=report)
    assert result.counts == counts(new=1, invalid=5)
    assert error_cells(result) == [
        (2, "first_name"),
        (3, "last_name"),
        (4, "last_name"),
        (6, "phone"),
        (7, "last_name"),
    ]
    assert list(Contact.objects.values_list("phone", "attributes")) == [
        ("+33612000013", {"city": "-10%"})
    ]
    text = report.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][4] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[2][5] == "'@SUM(A1)"
    assert rows[4][3] == "'=1+2"  # the phone column is neutralized when it is not a number
    assert rows[1][3] == "+33612000010"  # ... and kept when it is


@pytest.mark.django_db
def test_ragged_rows():
    result = run("ragged.csv")
    assert result.counts == counts(new=2, invalid=2)
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (3, "ragged row: 2 fields where the header has 3"),
        (4, "ragged row: 4 fields where the header has 3"),
    ]


@pytest.mark.django_db
def test_update_keeps_values_for_empty_cells_and_only_add_mode(tmp_path):
    contact = Contact.objects.create(
        phone="+33612000070", first_name="Old", email="keep@example.com", attributes={"a": "1"}
    )
    path = tmp_path / "update.csv"
    path.write_text("phone,first_name,email,b\n0612000070,New,,2\n")
    assert run(path, update_existing=False).counts == counts(unchanged=1)
    contact.refresh_from_db()
    assert contact.first_name == "Old"
    assert run(path).counts == counts(updated=1)
    contact.refresh_from_db()
    assert (contact.first_name, contact.email, contact.attributes) == (
        "New",
        "keep@example.com",
        {"a": "1", "b": "2"},
    )
    assert run(path).counts == counts(unchanged=1)


@pytest.mark.django_db
def test_chunking_does_not_change_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "CHUNK_ROWS", 7)
    lines = ["phone,name"] + [f"06 12 00 {i // 100:02d} {i % 100:02d},n{i}" for i in range(50)]
    lines += ["0612000003,dup", "bad,x"]
    path = tmp_path / "chunks.csv"
    path.write_text("\n".join(lines) + "\n")
    seen = []
    sniffed = importers.sniff(path)
    result = importers.import_file(
        path,
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        has_header=True,
        mapping=sniffed.mapping,
        options=ImportOptions(),
        progress=lambda rows, fraction: seen.append(rows),
    )
    assert result.counts == counts(new=50, duplicates=1, invalid=1)
    assert error_cells(result) == [(52, "phone"), (53, "phone")]
    assert seen[:3] == [7, 14, 21] and seen[-1] == 52


# --------------------------------------------------------------------------------------------
# Phone numbers: the fast path agrees with phonenumbers
# --------------------------------------------------------------------------------------------


def _random_numbers(rng: random.Random, count: int):
    regions = ["FR", "FR", "FR", "PL", "UA", "DE", "BE", "CH", "ES", "GB", "US", "IT"]
    for _ in range(count):
        region = rng.choice(regions)
        cc = str(phonenumbers.country_code_for_region(region))
        length = rng.randint(6, 12)
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        shape = rng.randint(0, 6)
        if shape == 0:
            raw = f"+{cc}{digits}"
        elif shape == 1:
            raw = f"+{cc} {digits[:1]} {digits[1:3]} {digits[3:5]} {digits[5:]}"
        elif shape == 2:
            raw = "0" + digits
        elif shape == 3:
            raw = ".".join([("0" + digits)[i : i + 2] for i in range(0, length + 1, 2)])
        elif shape == 4:
            raw = digits
        elif shape == 5:
            raw = f"00{cc}{digits}"
        else:
            raw = f"+{cc} (0){digits}"
        yield raw, region


def test_fast_path_agrees_with_phonenumbers():
    rng = random.Random(20240607)
    normalizer = importers.PhoneNormalizer()
    fast_hits = 0
    cases = list(_random_numbers(rng, 20_000))
    # Plus realistic valid French numbers in every shape.
    for _ in range(5_000):
        nsn = rng.choice("67") + "".join(rng.choice("0123456789") for _ in range(8))
        cases += [
            (f"+33{nsn}", "FR"),
            (f"0{nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}", "FR"),
            (nsn, "FR"),
        ]
    for raw, region in cases:
        expected = importers.PhoneNormalizer.slow(raw, region)
        fast = normalizer.fast(raw, region)
        if fast is not None:
            fast_hits += 1
            assert fast == expected, (raw, region)
        assert normalizer(raw, region) == expected, (raw, region)
    assert fast_hits > 12_000


# --------------------------------------------------------------------------------------------
# CSV output
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+33612345678", "'+33612345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_neutralize(value, expected):
    assert importers.neutralize(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-1", "'-1"),
    ],
)
def test_neutralize_phone(value, expected):
    assert importers.neutralize_phone(value) == expected
