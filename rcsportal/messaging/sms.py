"""Fallback SMS: GSM 03.38 encoding detection, segment counting and provider text rules.

Pure functions, stdlib only. Units: GSM-7 texts are measured in septets (a character of
the extension table costs 2: the escape plus the character); UCS-2 texts in UTF-16 code
units (a character outside the BMP, such as most emoji, costs 2). A multi-part SMS never
splits an escape pair or a surrogate pair across two segments. See
``docs/message-format.md`` ("Fallback SMS").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

#: GSM 03.38 basic character set (3GPP TS 23.038 6.2.1), without the escape (0x1B).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table (6.2.1.1): each costs 2 septets (escape + character).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

# SMS Partner (seed 004 "Single Send"; error codes in providers-notes.md 1.5)
SMSPARTNER_LINE_BREAK = ":br:"
SMSPARTNER_EURO = ":euro:"
SMSPARTNER_LINE_BREAK_UNITS = 2
SMSPARTNER_MAX_SEGMENTS = 10  # error 52 "max 10 concatenated SMS"
SMSPARTNER_SENDER_MIN = 3
SMSPARTNER_SENDER_MAX = 11

# BSG (seed 001 ``alternative_channel.sms``; providers-notes.md 2.2)
BSG_SMS_MAX_GSM7 = 765
BSG_SMS_MAX_UCS2 = 355
BSG_SENDER_MAX_ALNUM = 11
BSG_SENDER_MAX_DIGITS = 15

# Aerialink (seed 003 "SMS Failover": fallbackText String (max 160))
AERIALINK_FALLBACK_TEXT_MAX = 160

_SMSPARTNER_SENDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ]{1,9}[A-Za-z0-9]$")
_BSG_ALNUM_SENDER_RE = re.compile(r"^[A-Za-z0-9]{1,11}$")
_BSG_DIGITS_SENDER_RE = re.compile(r"^[0-9]{1,15}$")


@dataclass(frozen=True)
class SmsInfo:
    """How a text travels as SMS.

    ``length_units``: septets (GSM-7) or UTF-16 code units (UCS-2); ``segments``: SMS
    parts billed (0 for an empty text); ``per_segment``: capacity of one part (160/70 for a
    single SMS, 153/67 once concatenated); ``remaining``: units still free in the last part.
    """

    encoding: str
    length_units: int
    segments: int
    per_segment: int
    remaining: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 basic or extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def detect_encoding(text: str) -> str:
    """``"GSM-7"`` when the text fits GSM 03.38 (basic + extension), else ``"UCS-2"``."""
    return GSM7 if is_gsm7(text) else UCS2


def gsm7_units(char: str) -> int:
    """Septets for one GSM-7 character: 2 for the extension table, else 1."""
    return 2 if char in GSM7_EXTENSION else 1


def ucs2_units(char: str) -> int:
    """UTF-16 code units for one character: 2 outside the BMP (emoji), else 1."""
    return 2 if ord(char) > 0xFFFF else 1


def pack_segments(costs: list[int], single: int, multi: int) -> tuple[int, int, int, int]:
    """``(units, segments, per_segment, remaining)`` for per-character ``costs``.

    One SMS holds ``single`` units; a concatenated one ``multi`` per part. Characters are
    packed greedily and a character never straddles two parts (escape/surrogate pairs).
    """
    units = sum(costs)
    if units == 0:
        return 0, 0, single, single
    if units <= single:
        return units, 1, single, single - units
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return units, segments, multi, multi - used


def segment_info(text: str, encoding: str | None = None) -> SmsInfo:
    """Encoding, length and segments of ``text`` (GSM 03.38 / 3GPP TS 23.040 rules).

    ``encoding`` forces ``"UCS-2"`` (e.g. a provider's Unicode flag); forcing ``"GSM-7"``
    on a text that does not fit raises ``ValueError``. ``None`` detects it.
    """
    encoding = encoding or detect_encoding(text)
    if encoding == GSM7:
        if not is_gsm7(text):
            raise ValueError("text has characters outside GSM 03.38")
        costs = [gsm7_units(char) for char in text]
        return SmsInfo(GSM7, *pack_segments(costs, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT))
    if encoding == UCS2:
        costs = [ucs2_units(char) for char in text]
        return SmsInfo(UCS2, *pack_segments(costs, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT))
    raise ValueError(f"unknown encoding {encoding!r}")


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n`` (one line break each)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------- SMS Partner


def smspartner_encode(text: str) -> str:
    """The value for SMS Partner's ``message`` / ``failover.message`` field (seed 004).

    "Line break -> ``:br:``" and "€ symbol -> ``:euro:``". The document also says ``"``
    "must be escaped (``\\"``)": that is JSON string escaping of the request body, which
    ``json.dumps`` (and the ``json=`` argument of HTTP clients) already performs, exactly as
    the document's own example does with ``json_encode``. So this function does NOT add
    backslashes: its result must be sent through a JSON encoder, never pasted into a body
    by hand. Adding ``\\`` here would double-escape and show a backslash on the handset.
    """
    return (
        normalize_newlines(text).replace("\n", SMSPARTNER_LINE_BREAK).replace("€", SMSPARTNER_EURO)
    )


def smspartner_costs(text: str, is_unicode: bool) -> list[int]:
    """Per-character units as SMS Partner bills them (seed 004).

    A line break counts 2 ("Line break counts as two characters"). In GSM mode a character
    of the extension table (``€``, ``[``...) counts 2 and any character outside GSM 03.38
    counts 1 (SMS Partner "replaces" special characters when sending without Unicode
    mode). In Unicode mode characters count in UTF-16 code units.
    """
    costs = []
    for char in normalize_newlines(text):
        if char == "\n":
            costs.append(SMSPARTNER_LINE_BREAK_UNITS)
        elif is_unicode:
            costs.append(ucs2_units(char))
        else:
            costs.append(gsm7_units(char))
    return costs


def smspartner_segments(text: str, is_unicode: bool | None = None) -> SmsInfo:
    """SMS count for SMS Partner's ``message`` (seed 004), from the plain text (not the
    ``smspartner_encode`` output).

    160 per SMS, "additional SMS units ... per 153-character segment"; ``isUnicode=1``:
    "max 70 characters per SMS" (67 per concatenated part, the GSM standard, not stated by
    the document). ``is_unicode=None`` means Unicode mode exactly when the text needs it.
    """
    if is_unicode is None:
        is_unicode = detect_encoding(text) == UCS2
    costs = smspartner_costs(text, is_unicode)
    if is_unicode:
        return SmsInfo(UCS2, *pack_segments(costs, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT))
    return SmsInfo(GSM7, *pack_segments(costs, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT))


def smspartner_message_fits(text: str, is_unicode: bool | None = None) -> bool:
    """At most 10 concatenated SMS (SMS Partner error 52, providers-notes.md 1.5)."""
    return smspartner_segments(text, is_unicode).segments <= SMSPARTNER_MAX_SEGMENTS


def smspartner_sender_valid(sender: str) -> bool:
    """SMS Partner ``sender`` (seed 004): "between 3 and 11 characters, no special
    characters". ASCII letters and digits; inner spaces are accepted because the document
    only warns that "some mobile devices may not display spaces properly"."""
    return bool(_SMSPARTNER_SENDER_RE.match(sender))


# --------------------------------------------------------------------------------- BSG


def bsg_sms_text_fits(text: str) -> bool:
    """BSG ``alternative_channel.sms.text`` (seed 001; providers-notes.md 2.2): at most 765
    GSM-7 septets or 355 UCS-2 code units."""
    info = segment_info(text)
    limit = BSG_SMS_MAX_GSM7 if info.encoding == GSM7 else BSG_SMS_MAX_UCS2
    return info.length_units <= limit


def bsg_sender_valid(sender: str) -> bool:
    """BSG SMS ``sender`` (providers-notes.md 2.2): up to 11 ASCII letters/digits, or up to
    15 digits."""
    return bool(_BSG_ALNUM_SENDER_RE.match(sender) or _BSG_DIGITS_SENDER_RE.match(sender))


# --------------------------------------------------------------------------------- Aerialink


def aerialink_fallback_text_fits(text: str) -> bool:
    """Aerialink ``smsFailover.fallbackText`` / ``mmsFailover.fallbackText`` (seed 003):
    "String (max 160)", counted in characters (Unicode code points)."""
    return len(text) <= AERIALINK_FALLBACK_TEXT_MAX
