"""Streaming CSV import and export of contacts (and export of deliveries).

The import reads the file twice at most and never holds it in memory:

1. **Stage** (``import_file``): stream records (``iter_rows``), validate and normalize each
   one in Python (phone to E.164 with ``phonenumbers``), write rejected rows to a temporary
   error file and stage the good ones, chunk by chunk, in a TEMP table (PostgreSQL: ``COPY``
   through psycopg 3; SQLite: batched ``executemany``). Progress is reported after every
   chunk; nothing outside the temp table is written in this phase.
2. **Merge**: in ONE transaction, keep the first occurrence of each number, set aside the
   suppressed ones, ``INSERT … ON CONFLICT (phone) DO UPDATE … WHERE <something changed>``
   into ``campaigns_contact`` and ``INSERT … ON CONFLICT DO NOTHING`` the memberships. A dry
   run computes the same counts with a read-only join instead. Duplicates and suppressed
   rows are found in SQL (so memory does not grow with the number of distinct numbers) and
   their original rows are fetched back with a second streaming pass for the error report.

A broken file (binary, truncated, unterminated quote, oversized field, no data rows, no
phone column) raises :class:`ImportFileError` before the merge: nothing is half-written.

Every CSV this module writes goes through :func:`neutralize` (formula injection), except
phone columns, which are written as E.164 (or, in error reports, kept when they only hold
phone characters).
"""

# ruff: noqa: S608 - SQL is built only from our own identifiers (temp table names made of
# a fixed prefix and secrets.token_hex, fixed column names); values always go as parameters.

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import heapq
import io
import json
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------

#: Longest accepted field, in characters. Set deliberately (the csv module's default is a
#: process-wide 128 KiB): a contact field is at most a few hundred characters, and a bigger
#: one is almost always a runaway quote or a file that is not a CSV.
FIELD_SIZE_LIMIT = 100_000
csv.field_size_limit(FIELD_SIZE_LIMIT)
#: Longest physical line read at once: keeps memory bounded on files without newlines.
LINE_SIZE_LIMIT = 4 * FIELD_SIZE_LIMIT
#: Rows validated and staged per chunk (progress is reported after each chunk).
CHUNK_ROWS = 10_000
SAMPLE_BYTES = 64 * 1024
FIRST_ERRORS = 20
DEFAULT_COUNTRY = "FR"

COUNT_KEYS = ("new", "updated", "unchanged", "duplicates", "invalid", "suppressed")


class ImportFileError(Exception):
    """The file cannot be imported at all. ``str()`` is the message shown to the user."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

Source = str | os.PathLike | bytes | Callable[[], IO[bytes]]


def _opener(source: Source) -> Callable[[], IO[bytes]]:
    if isinstance(source, bytes):
        return lambda: io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        return lambda: open(source, "rb")  # noqa: SIM115 - the caller closes it
    return source


def _size_of(source: Source) -> int | None:
    if isinstance(source, bytes):
        return len(source)
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source)
    return None


# --------------------------------------------------------------------------------------------
# Sniffing: encoding, delimiter, header
# --------------------------------------------------------------------------------------------

_FRENCH = set("éèêëàâäçôöîïùûüœæÿÉÈÊËÀÂÄÇÔÖÎÏÙÛÜŒÆŸáíóúñÁÍÓÚÑß")
_POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_CYRILLIC = {chr(c) for c in range(0x0410, 0x0450)} | set("іїєґІЇЄҐёЁ")
_NEUTRAL = set("«»–—‘’‚“”„…€°·\xa0±×•™©®§¶")
_CANDIDATES = (("cp1252", _FRENCH), ("cp1250", _POLISH), ("cp1251", _CYRILLIC))


def _score(text: str, letters: set[str]) -> int:
    """Plausibility of ``text`` as a language whose non-ASCII letters are ``letters``."""
    score = 0
    prev = " "
    for ch in text:
        if ch < "\x80":
            if ch.isalpha() and prev in _CYRILLIC:
                score -= 3  # Latin letter glued to a Cyrillic one: mojibake
            prev = ch
            continue
        if ch in letters:
            score += 1
            if ch in _CYRILLIC and prev.isascii() and prev.isalpha():
                score -= 3
        elif ch not in _NEUTRAL:
            score -= 2
        prev = ch
    return score


def detect_encoding(sample: bytes) -> str:
    """BOM, then strict UTF-8, then the best-scoring 8-bit code page."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ImportFileError(
            "This is not a CSV text file (it contains binary data). Save it as "
            "“CSV UTF-8” from your spreadsheet and upload it again."
        )
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best, best_score = None, None
    for encoding, letters in _CANDIDATES:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _score(text, letters)
        if best_score is None or score > best_score:
            best, best_score = encoding, score
    if best is None:
        raise ImportFileError(
            "The file's text encoding is not recognised (tried UTF-8, UTF-16, Windows-1252, "
            "-1250 and -1251). Save it as “CSV UTF-8” and upload it again."
        )
    return best


def _check_binary(sample: bytes, text: str) -> None:
    if sample.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "This looks like an Excel workbook (.xlsx), not a CSV file. In Excel use "
            "File › Save As › “CSV UTF-8 (comma delimited)” and upload that file."
        )
    if sample.startswith((b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\x1f\x8b")):
        raise ImportFileError("This is not a CSV text file (it is a binary document).")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise ImportFileError(
            "This is not a CSV text file (it contains binary data). Save it as "
            "“CSV UTF-8” from your spreadsheet and upload it again."
        )


def detect_delimiter(lines: list[str]) -> str:
    """The candidate giving the most consistent number of fields (> 1) over the sample."""
    best, best_key = ",", (0.0, 0)
    for delimiter in (",", ";", "\t", "|"):
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        if mode < 2:
            continue
        key = (widths.count(mode) / len(widths), mode)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _norm_label(label: str) -> str:
    text = unicodedata.normalize("NFKD", label.strip().lower().replace("ł", "l"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text if ch.isalnum())


_ALIASES = {
    "phone": """phone phonenumber telephone tel tél mobile mobilephone cellphone cell gsm
        portable numero numerodetelephone telportable msisdn number phoneno telefon
        telefonkomorkowy nrtelefonu numertelefonu komorka nrkomorki телефон мобільний
        мобільнийтелефон номер номертелефону тел мобильный""",
    "first_name": """firstname first givenname forename prenom imie імя имя""",
    "last_name": """lastname last surname familyname nom nomdefamille nazwisko прізвище
        фамилия""",
    "email": """email mail emailaddress courriel adresseemail adresemail adresmail
        електроннапошта пошта електроннаадреса почта""",
    "language": "language lang langue locale jezyk мова язык",
    "country": "country pays kraj країна страна countrycode",
    "consent_status": """consent consentstatus optin marketingconsent consentement
        accordmarketing zgoda zgodamarketingowa згода згоданарозсилку согласие""",
    "consent_at": """consentat consentdate optindate dateconsentement dateoptin datazgody
        датазгоди""",
    "consent_source": """consentsource sourceconsentement sourceoptin zrodlozgody
        джерелозгоди""",
}
ALIASES = {
    _norm_label(alias): target for target, words in _ALIASES.items() for alias in words.split()
}
CONTACT_FIELDS = tuple(_ALIASES)
FIELD_LABELS = {
    "phone": "Phone number",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "language": "Language",
    "country": "Country (for national numbers)",
    "consent_status": "Consent (yes/no)",
    "consent_at": "Consent date",
    "consent_source": "Consent source",
}
_TRANSLIT = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэёъ",
        [
            "a",
            "b",
            "v",
            "h",
            "g",
            "d",
            "e",
            "ie",
            "zh",
            "z",
            "y",
            "i",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "iu",
            "ia",
            "y",
            "e",
            "e",
            "_",
        ],
        strict=True,
    )
)


def attribute_key(label: str, index: int) -> str:
    """An ASCII placeholder name for a column label (``Ville`` -> ``ville``)."""
    text = "".join(_TRANSLIT.get(ch, ch) for ch in label.strip().lower().replace("ł", "l"))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not key or key[0].isdigit():
        key = f"column_{index + 1}" if not key else f"c_{key}"
    return key


def guess_mapping(header: list[str]) -> dict[str, str]:
    """Column index (as a string) -> ``phone`` / a contact field / ``attributes.<key>``."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, label in enumerate(header):
        target = ALIASES.get(_norm_label(label))
        if target and target not in used:
            used.add(target)
            mapping[str(index)] = target
            continue
        key = attribute_key(label, index)
        candidate, n = key, 2
        while f"attributes.{candidate}" in used:
            candidate, n = f"{key}_{n}", n + 1
        used.add(f"attributes.{candidate}")
        mapping[str(index)] = f"attributes.{candidate}"
    return mapping


_PHONEISH = re.compile(r"^\+?[0-9][0-9 .\-/()]{5,}$")


@dataclass
class Sniffed:
    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    sample_rows: list[list[str]]
    mapping: dict[str, str]


def sniff(source: Source, *, encoding: str | None = None, delimiter: str | None = None) -> Sniffed:
    """Encoding, delimiter, header presence, a few sample rows and a guessed mapping."""
    with _opener(source)() as fh:
        sample = fh.read(SAMPLE_BYTES)
        complete = len(sample) < SAMPLE_BYTES
    if not sample.strip():
        raise ImportFileError("The file is empty.")
    if sample.startswith(b"PK\x03\x04"):
        _check_binary(sample, "")
    encoding = encoding or detect_encoding(sample)
    text = codecs.getincrementaldecoder(encoding)("replace").decode(sample, final=complete)
    _check_binary(sample, text)
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # a partial last line would skew the delimiter vote
    lines = lines[:200]
    delimiter = delimiter or detect_delimiter(lines)
    rows = [r for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
    if not rows:
        raise ImportFileError("The file is empty.")
    first = [c.strip() for c in rows[0]]
    known = any(_norm_label(c) in ALIASES for c in first)
    phone_like = any(_PHONEISH.match(c) for c in first)
    has_header = known or not phone_like
    if has_header:
        header = first
        data = rows[1:6]
    else:
        header = [f"Column {i + 1}" for i in range(len(first))]
        data = rows[:5]
    mapping = guess_mapping(header)
    if not has_header:
        for index in range(len(header)):
            if any(len(r) > index and _PHONEISH.match(r[index].strip()) for r in data):
                mapping[str(index)] = "phone"
                break
    return Sniffed(encoding, delimiter, has_header, header, data, mapping)


# --------------------------------------------------------------------------------------------
# Reading records
# --------------------------------------------------------------------------------------------


class _LineTooLong(Exception):
    pass


def _text(fh: IO[bytes], encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")


def _lines(text: io.TextIOBase) -> Iterator[str]:
    readline = text.readline
    while True:
        line = readline(LINE_SIZE_LIMIT)
        if not line:
            return
        if len(line) == LINE_SIZE_LIMIT and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


def _column_of_long_field(opener, encoding: str, delimiter: str, start_line: int) -> int:
    """Re-read the record starting at ``start_line`` and find its oversized field."""
    with opener() as fh:
        text = _text(fh, encoding)
        for _ in range(start_line - 1):
            text.readline()
        column, length, quoted, pending_quote = 0, 0, False, False
        while True:
            chunk = text.read(65536)
            if not chunk:
                return column
            for ch in chunk:
                if quoted:
                    if ch == '"':
                        quoted, pending_quote = False, True
                        continue
                    length += 1
                elif ch == '"':
                    if pending_quote:
                        length += 1
                    quoted, pending_quote = True, False
                    continue
                elif ch == delimiter:
                    column, length = column + 1, 0
                elif ch in "\r\n":
                    return column
                else:
                    length += 1
                pending_quote = False
                if length > FIELD_SIZE_LIMIT:
                    return column


def iter_rows(
    source: Source,
    *,
    encoding: str,
    delimiter: str,
    header_names: list[str] | None = None,
    position: list | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for every record, header included.

    ``line`` is the physical line (1-based) where the record starts, also when quoted fields
    contain newlines. ``position``, when given, receives the open binary file (its ``tell()`` is the byte offset read so far, for a
    progress bar). Raises :class:`ImportFileError` on undecodable text, an unterminated
    quote at the end of the file or a field over ``FIELD_SIZE_LIMIT`` characters.
    """
    opener = _opener(source)
    with opener() as fh:
        if position is not None:
            position[0] = fh
        reader = csv.reader(_lines(_text(fh, encoding)), delimiter=delimiter, strict=True)
        previous = 0
        while True:
            start = previous + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"Line {reader.line_num + 1}: the text is not valid {encoding} "
                    "(wrong encoding chosen, or the file is truncated or corrupted).",
                    line=reader.line_num + 1,
                ) from exc
            except (_LineTooLong, csv.Error) as exc:
                message = str(exc)
                if isinstance(exc, _LineTooLong) or "field limit" in message:
                    index = _column_of_long_field(opener, encoding, delimiter, start)
                    name = (
                        header_names[index]
                        if header_names and index < len(header_names)
                        else f"column {index + 1}"
                    )
                    raise ImportFileError(
                        f"Line {start}, column “{name}”: field too long (more than "
                        f"{FIELD_SIZE_LIMIT:,} characters). Is a quote missing its closing "
                        "quote?",
                        line=start,
                        column=name,
                    ) from exc
                if "unexpected end of data" in message:
                    raise ImportFileError(
                        f"Line {start}: a quoted field is never closed before the end of "
                        "the file (the file may be truncated).",
                        line=start,
                    ) from exc
                previous = reader.line_num
                yield start, _MalformedRow(message)
                continue
            previous = reader.line_num
            yield start, row


class _MalformedRow(list):
    """A record the csv module could not parse (reported as an error, not imported)."""

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[0-9][0-9 .\-/()]*")
_SEPARATORS = str.maketrans("", "", " .-/()")
_DIGITS = re.compile(r"[0-9]+")


class PhoneNormalizer:
    """E.164 normalization that gives exactly ``phonenumbers``' answer, faster.

    Slow path: ``phonenumbers.parse`` + ``is_valid_number`` (~25 µs). Fast path, for the
    shapes that make up nearly every list (``+33 6 12 34 56 78``, ``06.12.34.56.78``,
    ``612345678``): strip separators, split the country code as ``phonenumbers`` does, and
    validate the national number with the region's own metadata patterns, compiled once per
    (country code, length). Any case where ``phonenumbers`` could behave differently
    (country code shared by several regions, national prefix present after ``+cc``, an
    international prefix, a leading zero, non-literal prefix rules) and every number the
    fast path would reject falls back to the slow path, so the fast path only ever confirms
    a number ``phonenumbers`` accepts with the same E.164 form. ``tests`` compare both on
    many numbers.
    """

    def __init__(self):
        self._validators: dict[tuple[int, int], Any] = {}
        self._cc_info: dict[int, Any] = {}
        self._region_info: dict[str, Any] = {}

    # -- metadata ---------------------------------------------------------------------------

    def _info_for_cc(self, cc: int):
        if cc in self._cc_info:
            return self._cc_info[cc]
        info = None
        regions = COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
        if len(regions) == 1 and regions[0] != "001":
            md = PhoneMetadata.metadata_for_region(regions[0])
            prefix = md.national_prefix_for_parsing if md else None
            if md and not md.national_prefix_transform_rule and (not prefix or prefix.isdigit()):
                info = (regions[0], prefix or "", md)
        self._cc_info[cc] = info
        return info

    def _info_for_region(self, region: str):
        if region in self._region_info:
            return self._region_info[region]
        info = None
        md = PhoneMetadata.metadata_for_region(region)
        if md is not None and self._info_for_cc(md.country_code) is not None:
            idd = md.international_prefix or ""
            if idd.isdigit():
                info = (md.country_code, str(md.country_code), idd)
        self._region_info[region] = info
        return info

    def _is_valid_nsn(self, cc: int, md, nsn: str) -> bool:
        key = (cc, len(nsn))
        validator = self._validators.get(key)
        if validator is None:
            validator = self._build_validator(md, len(nsn))
            self._validators[key] = validator
        if validator is False:
            return False
        general, types = validator
        return bool(general.fullmatch(nsn) and types.fullmatch(nsn))

    @staticmethod
    def _build_validator(md, length: int):
        def usable(desc):
            if desc is None or not desc.national_number_pattern:
                return False
            return not desc.possible_length or length in desc.possible_length

        if not usable(md.general_desc):
            return False
        descs = [
            md.premium_rate,
            md.toll_free,
            md.shared_cost,
            md.voip,
            md.personal_number,
            md.pager,
            md.uan,
            md.voicemail,
            md.fixed_line,
        ]
        if not md.same_mobile_and_fixed_line_pattern:
            descs.append(md.mobile)
        patterns = [d.national_number_pattern for d in descs if usable(d)]
        if not patterns or any(re.search(r"\\\d|\(\?P", p) for p in patterns):
            return False
        return (
            re.compile(md.general_desc.national_number_pattern),
            re.compile("|".join(f"(?:{p})" for p in patterns)),
        )

    # -- public -----------------------------------------------------------------------------

    def fast(self, raw: str, region: str) -> tuple[str, str] | None:
        if not _PHONE_CHARS.fullmatch(raw):
            return None
        digits = raw.translate(_SEPARATORS)
        if digits[0] == "+":
            digits = digits[1:]
            if digits[0] == "0":
                return None
            for size in (1, 2, 3):
                cc = int(digits[:size])
                if cc in COUNTRY_CODE_TO_REGION_CODE:
                    break
            else:
                return None
            info = self._info_for_cc(cc)
            if info is None:
                return None
            number_region, prefix, md = info
            nsn = digits[size:]
            if not nsn or nsn[0] == "0" or (prefix and nsn.startswith(prefix)):
                return None
        else:
            rinfo = self._info_for_region(region)
            if rinfo is None:
                return None
            cc, cc_text, idd = rinfo
            if digits.startswith(cc_text) or digits.startswith(idd):
                return None
            number_region, prefix, md = self._cc_info[cc]
            nsn = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
            if not nsn or nsn[0] == "0":
                return None
        if len(nsn) > 17 or not self._is_valid_nsn(cc, md, nsn):
            return None
        return f"+{cc}{nsn}", number_region

    @staticmethod
    def slow(raw: str, region: str) -> tuple[str, str] | None:
        try:
            number = phonenumbers.parse(raw, region or None)
        except phonenumbers.NumberParseException:
            return None
        if number.extension or not phonenumbers.is_valid_number(number):
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return e164, phonenumbers.region_code_for_number(number) or ""

    def __call__(self, raw: str, region: str) -> tuple[str, str] | None:
        """``(E.164, region of the number)``, or None when the number is not valid."""
        return self.fast(raw, region) or self.slow(raw, region)


# --------------------------------------------------------------------------------------------
# Row validation
# --------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_NUMBERISH = re.compile(r"[+-][\d\s.,]*%?")
_MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "language": 8,
    "consent_source": 200,
}
_CONSENT_YES = {
    _norm_label(w)
    for w in [
        "yes",
        "y",
        "oui",
        "o",
        "tak",
        "t",
        "так",
        "да",
        "true",
        "1",
        "granted",
        "optin",
        "opted-in",
        "accepted",
        "accepte",
        "x",
        "✓",
    ]
}
_CONSENT_NO = {
    _norm_label(w)
    for w in [
        "no",
        "n",
        "non",
        "nie",
        "ні",
        "нет",
        "false",
        "0",
        "withdrawn",
        "optout",
        "refused",
        "refuse",
        "revoked",
    ]
}
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
)


_json_string = json.encoder.encode_basestring_ascii
#: First characters worth a closer look (leading whitespace is stripped before the check).
_FORMULA_FIRST = frozenset("=@+-\t\r \n\xa0")


def looks_like_formula(value: str) -> bool:
    """Would a spreadsheet evaluate this cell? (= and @ always; + and - unless a number)."""
    if not value:
        return False
    first = value[0]
    if first in "=@\t\r":
        return True
    return first in "+-" and len(value) > 1 and not _NUMBERISH.fullmatch(value)


@functools.lru_cache(maxsize=4096)
def parse_consent_at(value: str) -> dt.datetime | None:
    from django.utils import timezone

    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@dataclass
class ImportOptions:
    default_country: str = DEFAULT_COUNTRY
    update_existing: bool = True
    groups: list[str] = field(default_factory=list)
    consent_source: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> ImportOptions:
        return cls(
            default_country=(data.get("default_country") or DEFAULT_COUNTRY).upper(),
            update_existing=bool(data.get("update_existing", True)),
            groups=list(data.get("groups") or []),
            consent_source=data.get("consent_source") or "",
        )


class _RowError(Exception):
    def __init__(self, column: str, reason: str):
        self.column = column
        self.reason = reason


#: Staged columns, in COPY order.
STAGE_COLUMNS = (
    "line",
    "phone",
    "country",
    "first_name",
    "last_name",
    "email",
    "language",
    "consent_status",
    "consent_source",
    "consent_at",
    "attributes",
)


class RowValidator:
    """Turns a CSV record into a staged row, or raises :class:`_RowError`."""

    def __init__(self, header: list[str], mapping: dict[str, str], options: ImportOptions):
        self.header = header
        self.width = len(header)
        self.options = options
        self.normalize = PhoneNormalizer()
        self.fields: dict[str, int] = {}
        self.attributes: list[tuple[int, str]] = []
        seen: set[str] = set()
        for key, target in sorted(mapping.items(), key=lambda kv: int(kv[0])):
            index = int(key)
            if not target or index >= self.width:
                continue
            if target in seen:
                raise ImportFileError(f"Two columns are mapped to “{target}”.")
            seen.add(target)
            if target.startswith("attributes."):
                name = target.split(".", 1)[1]
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    raise ImportFileError(f"“{name}” is not a valid placeholder name.")
                self.attributes.append((index, name))
            elif target in CONTACT_FIELDS:
                self.fields[target] = index
            else:
                raise ImportFileError(f"Unknown mapping target “{target}”.")
        if "phone" not in self.fields:
            single = (
                f" The file was read as a single column (“{header[0][:60]}”): is the "
                "delimiter right?"
                if self.width == 1
                else ""
            )
            raise ImportFileError("No column is mapped to the phone number." + single)
        self.phone_index = self.fields["phone"]
        self.text_fields = [
            (name, self.fields[name])
            for name in ("first_name", "last_name", "email", "language", "consent_source")
            if name in self.fields
        ]
        self.formula_checked = [
            (idx, header[idx]) for name, idx in self.fields.items() if name != "phone"
        ] + [(idx, header[idx]) for idx, _ in self.attributes]
        self.default_region = options.default_country.upper()
        self.attribute_keys = [(index, _json_string(name)) for index, name in self.attributes]

    def column(self, index: int) -> str:
        return self.header[index] if index < len(self.header) else f"column {index + 1}"

    def __call__(self, line: int, row: list[str]) -> tuple:
        width = len(row)
        if width != self.width and (
            width < self.width or any(c.strip() for c in row[self.width :])
        ):
            raise _RowError("", f"ragged row: {width} fields where the header has {self.width}")
        for index, name in self.formula_checked:
            value = row[index]
            if value and value[0] in _FORMULA_FIRST and looks_like_formula(value.strip()):
                raise _RowError(
                    name,
                    f"looks like a spreadsheet formula (starts with {value[0]!r}); "
                    "remove it or do not import this column",
                )
        fields = self.fields
        region = self.default_region
        if "country" in fields:
            country = row[fields["country"]].strip().upper()
            if country:
                if country not in phonenumbers.SUPPORTED_REGIONS:
                    raise _RowError(
                        self.column(fields["country"]),
                        f"unknown country code {country!r} (use ISO codes: FR, PL, UA…)",
                    )
                region = country
        raw_phone = row[self.phone_index].strip()
        if not raw_phone:
            raise _RowError(self.column(self.phone_index), "missing phone number")
        normalized = self.normalize(raw_phone, region)
        if normalized is None:
            raise _RowError(
                self.column(self.phone_index),
                f"not a valid phone number (national numbers are read as {region})",
            )
        phone, number_country = normalized
        values = {}
        for name, index in self.text_fields:
            value = row[index].strip()
            if len(value) > _MAX_LENGTHS[name]:
                raise _RowError(self.column(index), f"longer than {_MAX_LENGTHS[name]} characters")
            values[name] = value
        email = values.get("email")
        if email and not _EMAIL.fullmatch(email):
            raise _RowError(self.column(fields["email"]), "not a valid e-mail address")
        language = values.get("language")
        if language:
            if not _LANGUAGE.fullmatch(language):
                raise _RowError(self.column(fields["language"]), "not a language code (fr, pl-PL)")
            values["language"] = language.replace("_", "-")
        consent_status = "unknown"
        if "consent_status" in fields:
            value = row[fields["consent_status"]].strip()
            if value:
                label = _norm_label(value) or value
                if label in _CONSENT_YES:
                    consent_status = "granted"
                elif label in _CONSENT_NO:
                    consent_status = "withdrawn"
                else:
                    raise _RowError(
                        self.column(fields["consent_status"]),
                        f"consent {value!r} is neither yes nor no",
                    )
        consent_at = None
        if "consent_at" in fields:
            value = row[fields["consent_at"]].strip()
            if value:
                consent_at = parse_consent_at(value)
                if consent_at is None:
                    raise _RowError(
                        self.column(fields["consent_at"]),
                        f"unreadable date {value!r} (use 2024-03-31 or 31/03/2024)",
                    )
        consent_source = values.get("consent_source") or self.options.consent_source
        attributes = None
        if self.attributes:
            # JSON by hand (C string encoder): ASCII-escaped, as Django stores it.
            parts = [
                f"{key}:{_json_string(value)}"
                for index, key in self.attribute_keys
                if (value := row[index].strip())
            ]
            if parts:
                attributes = "{" + ",".join(parts) + "}"
        return (
            line,
            phone,
            number_country,
            values.get("first_name", ""),
            values.get("last_name", ""),
            email or "",
            values.get("language", ""),
            consent_status,
            consent_source[:200],
            consent_at,
            attributes or "{}",
        )


# --------------------------------------------------------------------------------------------
# Staging and merging (PostgreSQL and SQLite dialects)
# --------------------------------------------------------------------------------------------


class _Stage:
    """The TEMP tables of one import run on one connection."""

    def __init__(self, connection, mapped: set[str], options: ImportOptions):
        self.connection = connection
        self.pg = connection.vendor == "postgresql"
        suffix = secrets.token_hex(4)
        self.stage = f"imp_stage_{suffix}"
        self.keep = self.stage  # replaced by prepare()
        self.kept = 0
        self.rejects = f"imp_rejects_{suffix}"
        self.mapped = mapped
        self.options = options
        self.rows = 0

    # -- pass 1 -----------------------------------------------------------------------------

    def create(self) -> None:
        if self.pg:
            types = "int, text, text, text, text, text, text, text, text, timestamptz, jsonb"
        else:
            types = "integer, text, text, text, text, text, text, text, text, text, text"
        columns = ", ".join(
            f"{name} {kind}" for name, kind in zip(STAGE_COLUMNS, types.split(", "), strict=True)
        )
        with self.connection.cursor() as cursor:
            if self.pg:
                # Session-local memory for the staging table and the duplicate/upsert joins:
                # the defaults (8 MB / 4 MB) make a million-row import spill to disk.
                # temp_buffers can only change before the session's first temp table.
                cursor.execute("SET temp_buffers = '256MB'")
                cursor.execute("SET work_mem = '128MB'")
            cursor.execute(f"CREATE TEMP TABLE {self.stage} ({columns})")

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        with self.connection.cursor() as cursor:
            if self.pg:
                copy_sql = f"COPY {self.stage} ({', '.join(STAGE_COLUMNS)}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            else:
                from django.db import transaction

                adapt = self.connection.ops.adapt_datetimefield_value
                rows = [r[:9] + (adapt(r[9]) if r[9] else None, r[10]) for r in rows]
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                with transaction.atomic(using=self.connection.alias):
                    cursor.executemany(f"INSERT INTO {self.stage} VALUES ({marks})", rows)

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            for table in (self.stage, self.rejects):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    # -- pass 2 -----------------------------------------------------------------------------

    def prepare(self) -> dict[str, int]:
        """Find duplicates (all but the first row of a number) and suppressed numbers.

        They go to the small ``rejects`` table; ``self.keep`` becomes the staged rows minus
        the rejects. No sort and no copy of the whole staging table.
        """
        s, r = self.stage, self.rejects
        with self.connection.cursor() as cursor:
            if self.pg:
                cursor.execute(f"ANALYZE {s}")
            cursor.execute(
                f"CREATE TEMP TABLE {r} (line integer PRIMARY KEY, first_line integer, kind text)"
            )
            cursor.execute(
                f"INSERT INTO {r} (line, first_line, kind) "
                f"SELECT s.line, d.first_line, 'duplicate' FROM {s} s JOIN "
                f"(SELECT phone, MIN(line) AS first_line FROM {s} GROUP BY phone "
                "HAVING COUNT(*) > 1) d ON d.phone = s.phone WHERE s.line <> d.first_line"
            )
            duplicates = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {r} (line, first_line, kind) SELECT s.line, NULL, 'suppressed' "
                f"FROM {s} s JOIN campaigns_suppression x ON x.phone = s.phone "
                f"WHERE NOT EXISTS (SELECT 1 FROM {r} r WHERE r.line = s.line)"
            )
            suppressed = cursor.rowcount
            if duplicates or suppressed:
                if self.pg:
                    cursor.execute(f"ANALYZE {r}")
                self.keep = (
                    f"(SELECT * FROM {s} WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {r} r WHERE r.line = {s}.line))"
                )
            else:
                self.keep = s
        self.kept = self.rows - duplicates - suppressed
        return {"duplicates": duplicates, "suppressed": suppressed, "kept": self.kept}

    @staticmethod
    def _count(cursor, table: str) -> int:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]

    def _updates(self, src: str) -> list[tuple[str, str]]:
        """(column, new value expression) for every column the file can change."""
        pairs = [("country", f"COALESCE(NULLIF({src}.country, ''), c.country)")]
        for name in ("first_name", "last_name", "email", "language"):
            if name in self.mapped:
                pairs.append((name, f"COALESCE(NULLIF({src}.{name}, ''), c.{name})"))
        if "consent_source" in self.mapped or self.options.consent_source:
            pairs.append(
                ("consent_source", f"COALESCE(NULLIF({src}.consent_source, ''), c.consent_source)")
            )
        if "consent_status" in self.mapped:
            pairs.append(
                (
                    "consent_status",
                    f"CASE WHEN {src}.consent_status = 'unknown' THEN c.consent_status "
                    f"ELSE {src}.consent_status END",
                )
            )
        if "consent_at" in self.mapped:
            pairs.append(("consent_at", f"COALESCE({src}.consent_at, c.consent_at)"))
        if "attributes" in self.mapped:
            merge = (
                f"c.attributes || {src}.attributes"
                if self.pg
                else f"json_patch(c.attributes, {src}.attributes)"
            )
            pairs.append(("attributes", merge))
        return pairs

    def _changed(self, src: str) -> str:
        terms = []
        for column, expr in self._updates(src):
            if self.pg:
                terms.append(f"c.{column} IS DISTINCT FROM {expr}")
            elif column == "attributes":
                terms.append(f"json(c.attributes) IS NOT {expr}")
            else:
                terms.append(f"c.{column} IS NOT {expr}")
        return "(" + " OR ".join(terms) + ")"

    def classify(self) -> dict[str, int]:
        """new / updated / unchanged for the kept rows, without writing anything."""
        changed = self._changed("s") if self.options.update_existing else "(1 = 0)"
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), SUM(CASE WHEN c.id IS NULL THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN c.id IS NOT NULL AND {changed} THEN 1 ELSE 0 END) "
                f"FROM {self.keep} s LEFT JOIN campaigns_contact c ON c.phone = s.phone"
            )
            total, new, updated = (v or 0 for v in cursor.fetchone())
        return {"new": new, "updated": updated, "unchanged": total - new - updated}

    def merge(self, now: dt.datetime, group_ids: list[int]) -> dict[str, int]:
        """Upsert the kept rows and add them to the groups. Call inside one transaction.

        Only new or changed rows are sent to the upsert (a join filters the rest out first),
        so re-importing a file neither writes nor locks anything; the ``ON CONFLICT … WHERE
        <changed>`` still arbitrates rows another transaction inserted meanwhile.
        """
        columns = (
            "phone, country, first_name, last_name, email, language, consent_status, "
            "consent_source, consent_at, attributes"
        )
        stamp = now if self.pg else self.connection.ops.adapt_datetimefield_value(now)
        select = ", ".join(f"s.{name.strip()}" for name in columns.split(","))
        if self.options.update_existing:
            sets = ", ".join(f"{col} = {expr}" for col, expr in self._updates("EXCLUDED"))
            conflict = (
                f"ON CONFLICT (phone) DO UPDATE SET {sets}, updated_at = EXCLUDED.updated_at "
                f"WHERE {self._changed('EXCLUDED')}"
            )
            wanted = f"c.id IS NULL OR {self._changed('s')}"
        else:
            conflict = "ON CONFLICT (phone) DO NOTHING"
            wanted = "c.id IS NULL"
        source = (
            f"SELECT {select}, %s, %s FROM {self.keep} s "
            f"LEFT JOIN campaigns_contact c ON c.phone = s.phone WHERE {wanted}"
        )
        insert = f"INSERT INTO campaigns_contact AS c ({columns}, created_at, updated_at)"
        with self.connection.cursor() as cursor:
            if self.pg:
                cursor.execute(
                    f"WITH up AS ({insert} {source} {conflict} RETURNING (xmax = 0) AS inserted) "
                    "SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) "
                    "FROM up",
                    [stamp, stamp],
                )
                new, updated = cursor.fetchone()
                counts = {"new": new, "updated": updated, "unchanged": self.kept - new - updated}
            else:
                counts = self.classify()  # exact: SQLite holds the write lock (IMMEDIATE)
                cursor.execute(f"{insert} {source} {conflict}", [stamp, stamp])
            for group_id in group_ids:
                cursor.execute(
                    "INSERT INTO campaigns_membership (group_id, contact_id, added_at) "
                    f"SELECT %s, c.id, %s FROM {self.keep} k JOIN campaigns_contact c "
                    "ON c.phone = k.phone WHERE NOT EXISTS (SELECT 1 FROM campaigns_membership m "
                    "WHERE m.group_id = %s AND m.contact_id = c.id) "
                    "ON CONFLICT (group_id, contact_id) DO NOTHING",
                    [group_id, stamp, group_id],
                )
        return counts

    def iter_rejects(self) -> Iterator[tuple[int, int | None, str]]:
        """(line, first_line, kind) ordered by line, read a page at a time."""
        last = 0
        while True:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT line, first_line, kind FROM {self.rejects} WHERE line > %s "
                    "ORDER BY line LIMIT 5000",
                    [last],
                )
                page = cursor.fetchall()
            if not page:
                return
            yield from page
            last = page[-1][0]


# --------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    counts: dict[str, int]
    rows: int
    errors: list[dict]
    report_path: str | None = None
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {**self.counts, "rows": self.rows, "errors": self.errors}


Progress = Callable[[int, float | None], None]


def import_file(
    source: Source,
    *,
    encoding: str,
    delimiter: str,
    has_header: bool,
    mapping: dict[str, str],
    options: ImportOptions,
    dry_run: bool = False,
    progress: Progress | None = None,
    report_path: str | os.PathLike | None = None,
    using: str = "default",
) -> ImportResult:
    """Validate, stage and (unless ``dry_run``) merge one file. See the module docstring.

    ``report_path`` receives the error report CSV when there is anything to report.
    ``progress(rows_read, fraction_of_bytes)`` is called after every chunk, outside any
    transaction. Raises :class:`ImportFileError` for a broken file (nothing written).
    """
    from django.db import connections, transaction
    from django.utils import timezone

    from .models import ContactGroup

    connection = connections[using]
    size = _size_of(source) or None
    position: list = [None]
    names: list[str] = []  # filled once the header is known (for error messages)
    rows = iter_rows(
        source, encoding=encoding, delimiter=delimiter, position=position, header_names=names
    )
    if has_header:
        try:
            _, header = next(rows)
        except StopIteration:
            raise ImportFileError("The file is empty.") from None
        header = [c.strip() for c in header]
    else:
        header = None
    pending_first = None
    if header is None:
        for line, row in rows:
            if isinstance(row, _MalformedRow) or any(c.strip() for c in row):
                pending_first = (line, row)
                break
        if pending_first is None:
            raise ImportFileError("The file is empty.")
        header = [f"Column {i + 1}" for i in range(len(pending_first[1]))]
    names.extend(header)
    validator = RowValidator(header, mapping, options)
    mapped = set(validator.fields)
    if validator.attributes:
        mapped.add("attributes")

    stage = _Stage(connection, mapped, options)
    errors_file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
    errors_writer = csv.writer(errors_file)
    invalid = 0
    total = 0
    stage.create()
    try:
        chunk: list[tuple] = []
        all_rows = rows if pending_first is None else _chain([pending_first], rows)
        for line, row in all_rows:
            if isinstance(row, _MalformedRow):
                invalid += 1
                total += 1
                errors_writer.writerow([line, "", f"unreadable CSV record ({row.reason})"])
                continue
            try:
                chunk.append(validator(line, row))
            except _RowError as exc:
                if not any(c.strip() for c in row):
                    continue  # blank line: not a row
                invalid += 1
                errors_writer.writerow([line, exc.column, exc.reason, *row])
            total += 1
            if len(chunk) >= CHUNK_ROWS:
                stage.write(chunk)
                chunk = []
                if progress:
                    progress(total, _tell(position[0]) / size if size else None)
        stage.write(chunk)
        if progress:
            progress(total, 1.0)
        if total == 0:
            raise ImportFileError("The file has no data rows (only a header, or blank lines).")

        if dry_run:
            prepared = stage.prepare()
            counts = stage.classify()
        else:
            group_ids = []
            with transaction.atomic(using=using):
                for name in options.groups:
                    group, _ = ContactGroup.objects.using(using).get_or_create(name=name)
                    group_ids.append(group.pk)
                prepared = stage.prepare()
                counts = stage.merge(timezone.now(), group_ids)
        counts.update(
            duplicates=prepared["duplicates"], suppressed=prepared["suppressed"], invalid=invalid
        )
        counts = {key: int(counts[key]) for key in COUNT_KEYS}
        errors_file.seek(0)
        first_errors, report_written = _write_report(
            report_path,
            header,
            validator.phone_index,
            _invalid_rows(errors_file),
            _reject_rows(stage, source, encoding, delimiter, validator),
        )
    finally:
        errors_file.close()
        stage.drop()
    return ImportResult(
        counts=counts,
        rows=total,
        errors=first_errors,
        report_path=str(report_path) if report_written else None,
        dry_run=dry_run,
    )


def _tell(fh) -> int:
    try:
        return fh.tell()
    except (AttributeError, OSError, ValueError):
        return 0


def _chain(first, rest):
    yield from first
    yield from rest


def _invalid_rows(errors_file) -> Iterator[tuple]:
    for record in csv.reader(errors_file):
        yield int(record[0]), record[1], record[2], record[3:]


def _reject_rows(stage: _Stage, source, encoding, delimiter, validator) -> Iterator[tuple]:
    rejects = stage.iter_rejects()
    try:
        wanted = next(rejects)
    except StopIteration:
        return
    phone_column = validator.column(validator.phone_index)
    for line, row in iter_rows(source, encoding=encoding, delimiter=delimiter):
        while wanted and wanted[0] == line:
            _, first_line, kind = wanted
            reason = (
                f"duplicate of line {first_line} (same number; the first one is imported)"
                if kind == "duplicate"
                else "number is on the suppression list (not imported)"
            )
            yield line, phone_column, reason, list(row)
            wanted = next(rejects, None)
        if wanted is None:
            return


def _write_report(path, header, phone_index, *streams) -> tuple[list[dict], bool]:
    first: list[dict] = []
    handle = None
    writer = None
    phone_pos = None
    try:
        for line, column, reason, cells in heapq.merge(*streams, key=lambda item: item[0]):
            if len(first) < FIRST_ERRORS:
                first.append({"line": line, "column": column, "reason": reason, "row": cells[:20]})
            if path is None:
                continue
            if writer is None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                handle = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
                writer = csv.writer(handle)
                writer.writerow([neutralize(v) for v in ["line", "column", "reason", *header]])
                phone_pos = 3 + phone_index
            out = [line, neutralize(column), neutralize(reason)]
            for index, value in enumerate(cells, start=3):
                out.append(neutralize_phone(value) if index == phone_pos else neutralize(value))
            writer.writerow(out)
    finally:
        if handle is not None:
            handle.close()
    return first, writer is not None


# --------------------------------------------------------------------------------------------
# CSV output (exports and error reports): formula injection neutralized
# --------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_SAFE = re.compile(r"\+?[0-9][0-9 .\-/()]*")


def neutralize(value: Any) -> str:
    """Text safe to open in a spreadsheet: a leading ' before = + - @ tab CR."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def neutralize_phone(value: Any) -> str:
    """Phone columns: E.164 (and any value made only of phone characters) is kept as is."""
    text = "" if value is None else str(value)
    if not text or _PHONE_SAFE.fullmatch(text):
        return text
    return neutralize(text)


class _Echo:
    def write(self, value):
        return value


def csv_stream(
    header: list[str], rows: Iterable[Iterable[Any]], phone_columns: Iterable[int] = ()
) -> Iterator[bytes]:
    """UTF-8 (with BOM, for Excel) CSV lines, neutralized, one chunk per ~500 rows."""
    writer = csv.writer(_Echo())
    phones = set(phone_columns)
    yield codecs.BOM_UTF8 + writer.writerow([neutralize(h) for h in header]).encode()
    buffer: list[str] = []
    for row in rows:
        buffer.append(
            writer.writerow(
                [
                    neutralize_phone(v) if i in phones else neutralize(_cell(v))
                    for i, v in enumerate(row)
                ]
            )
        )
        if len(buffer) >= 500:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return value


CONTACT_EXPORT_FIELDS = (
    "phone",
    "first_name",
    "last_name",
    "email",
    "language",
    "country",
    "consent_status",
    "consent_source",
    "consent_at",
    "attributes",
    "created_at",
)
DELIVERY_EXPORT_FIELDS = (
    "phone",
    "send__name",
    "status",
    "reference_id",
    "provider_message_id",
    "error_code",
    "error_text",
    "fallback_channel",
    "cost",
    "currency",
    "created_at",
    "submitted_at",
    "sent_at",
    "delivered_at",
    "read_at",
)


def export_rows(queryset, fields: tuple[str, ...]) -> Iterator[tuple]:
    return queryset.values_list(*fields).iterator(chunk_size=2000)


def contacts_csv(queryset) -> Iterator[bytes]:
    return csv_stream(
        list(CONTACT_EXPORT_FIELDS), export_rows(queryset, CONTACT_EXPORT_FIELDS), [0]
    )


def deliveries_csv(queryset) -> Iterator[bytes]:
    header = ["send" if f == "send__name" else f for f in DELIVERY_EXPORT_FIELDS]
    return csv_stream(header, export_rows(queryset, DELIVERY_EXPORT_FIELDS), [0])
