"""Fallback SMS: GSM 03.38 detection, segment boundaries, provider text rules."""

from __future__ import annotations

import json

import pytest

from rcsportal.messaging import sms
from rcsportal.messaging.sms import (
    GSM7,
    UCS2,
    SmsInfo,
    aerialink_fallback_text_fits,
    bsg_sender_valid,
    bsg_sms_text_fits,
    detect_encoding,
    segment_info,
    smspartner_encode,
    smspartner_message_fits,
    smspartner_segments,
    smspartner_sender_valid,
)

CYRILLIC = "ж"  # not in GSM 03.38, one UTF-16 unit
EMOJI = "😀"  # outside the BMP: two UTF-16 units


def test_tables_have_the_standard_sizes():
    assert len(sms.GSM7_BASIC) == 127  # 128 positions minus the escape
    assert len(sms.GSM7_EXTENSION) == 10
    assert not sms.GSM7_BASIC & sms.GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Hello, world! 0-9 @£$¥", GSM7),
        ("èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà§¿¡ΔΦΓΛΩΠΨΣΘΞ\n\r", GSM7),
        ("[]{}~^|\\€\f", GSM7),
        ("", GSM7),
        ("ç", UCS2),  # only capital Ç is GSM
        ("`", UCS2),
        ("’", UCS2),  # typographic apostrophe
        (CYRILLIC, UCS2),
        (EMOJI, UCS2),
        ("\x1b", UCS2),  # the escape itself is not a character
    ],
)
def test_detect_encoding(text, encoding):
    assert detect_encoding(text) == encoding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsInfo(GSM7, 0, 0, 160, 160)),
        ("a" * 160, SmsInfo(GSM7, 160, 1, 160, 0)),
        ("a" * 161, SmsInfo(GSM7, 161, 2, 153, 145)),
        ("a" * 306, SmsInfo(GSM7, 306, 2, 153, 0)),
        ("a" * 307, SmsInfo(GSM7, 307, 3, 153, 152)),
        ("a" * 158 + "€", SmsInfo(GSM7, 160, 1, 160, 0)),
        ("a" * 159 + "€", SmsInfo(GSM7, 161, 2, 153, 145)),
        (CYRILLIC * 70, SmsInfo(UCS2, 70, 1, 70, 0)),
        (CYRILLIC * 71, SmsInfo(UCS2, 71, 2, 67, 63)),
        (CYRILLIC * 134, SmsInfo(UCS2, 134, 2, 67, 0)),
        (CYRILLIC * 135, SmsInfo(UCS2, 135, 3, 67, 66)),
        (EMOJI * 35, SmsInfo(UCS2, 70, 1, 70, 0)),
        (EMOJI * 36, SmsInfo(UCS2, 72, 2, 67, 61)),
        ("a" * 69 + EMOJI, SmsInfo(UCS2, 71, 2, 67, 63)),
    ],
)
def test_segment_boundaries(text, expected):
    assert segment_info(text) == expected


def test_extension_pair_never_split_across_segments():
    # 306 septets would fit 2 x 153, but the escape pair at septets 153-154 moves to part 2.
    text = "a" * 152 + "€" + "a" * 152
    assert segment_info(text) == SmsInfo(GSM7, 306, 3, 153, 152)
    # the same length without the straddle fits in two
    assert segment_info("a" * 151 + "€" + "a" * 153).segments == 2


def test_surrogate_pair_never_split_across_segments():
    text = CYRILLIC * 66 + EMOJI + CYRILLIC * 66  # 134 units, emoji at units 67-68
    assert segment_info(text) == SmsInfo(UCS2, 134, 3, 67, 66)


def test_forced_encoding():
    assert segment_info("abc", UCS2) == SmsInfo(UCS2, 3, 1, 70, 67)
    with pytest.raises(ValueError):
        segment_info(CYRILLIC, GSM7)
    with pytest.raises(ValueError):
        segment_info("abc", "latin-1")


# ------------------------------------------------------------------ SMS Partner


def test_smspartner_encode_line_breaks_and_euro():
    assert smspartner_encode("a\nb\r\nc\rd 5€") == "a:br:b:br:c:br:d 5:euro:"


def test_smspartner_encode_leaves_quote_escaping_to_json():
    encoded = smspartner_encode('Say "hi"')
    assert encoded == 'Say "hi"'
    assert json.dumps({"message": encoded}) == '{"message": "Say \\"hi\\""}'


@pytest.mark.parametrize(
    ("text", "is_unicode", "encoding", "units", "segments"),
    [
        ("a" * 158 + "\n", None, GSM7, 160, 1),
        ("a" * 159 + "\n", None, GSM7, 161, 2),
        ("a\r\nb", None, GSM7, 4, 1),
        ("€" * 80, None, GSM7, 160, 1),
        ("€" * 81, None, GSM7, 162, 2),
        (CYRILLIC * 70, None, UCS2, 70, 1),
        (CYRILLIC * 69 + "\n", None, UCS2, 71, 2),
        ("abc", True, UCS2, 3, 1),
        ("€" * 70, True, UCS2, 70, 1),
        (CYRILLIC * 160, False, GSM7, 160, 1),  # replaced characters count 1 without Unicode mode
    ],
)
def test_smspartner_segments(text, is_unicode, encoding, units, segments):
    info = smspartner_segments(text, is_unicode)
    assert (info.encoding, info.length_units, info.segments) == (encoding, units, segments)


def test_smspartner_max_ten_segments():
    assert smspartner_message_fits("a" * 1530)
    assert not smspartner_message_fits("a" * 1531)
    assert smspartner_message_fits(CYRILLIC * 670)
    assert not smspartner_message_fits(CYRILLIC * 671)


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("abc", True),
        ("ab", False),
        ("MyShop2025", True),
        ("abcdefghijk", True),
        ("abcdefghijkl", False),
        ("My Shop", True),
        (" abc", False),
        ("shop!", False),
        ("Café", False),
        ("", False),
    ],
)
def test_smspartner_sender(sender, valid):
    assert smspartner_sender_valid(sender) is valid


# ------------------------------------------------------------------ BSG + Aerialink


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("a" * 765, True),
        ("a" * 766, False),
        ("a" * 763 + "€", True),
        ("a" * 764 + "€", False),
        (CYRILLIC * 355, True),
        (CYRILLIC * 356, False),
        (EMOJI * 177, True),
        (EMOJI * 178, False),
    ],
)
def test_bsg_sms_text_cap(text, fits):
    assert bsg_sms_text_fits(text) is fits


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("EXAMPLE", True),
        ("Abcdefghijk", True),
        ("Abcdefghijkl", False),
        ("123456789012345", True),
        ("1234567890123456", False),
        ("AB-C", False),
        ("", False),
    ],
)
def test_bsg_sender(sender, valid):
    assert bsg_sender_valid(sender) is valid


def test_aerialink_fallback_text_cap():
    assert aerialink_fallback_text_fits("a" * 160)
    assert not aerialink_fallback_text_fits("a" * 161)
    assert aerialink_fallback_text_fits(EMOJI * 160)  # characters, not septets or units


def test_public_functions_document_their_source():
    for name in (
        "smspartner_encode",
        "smspartner_segments",
        "smspartner_costs",
        "smspartner_message_fits",
        "smspartner_sender_valid",
        "bsg_sms_text_fits",
        "bsg_sender_valid",
        "aerialink_fallback_text_fits",
    ):
        doc = getattr(sms, name).__doc__ or ""
        assert "seed" in doc or "providers-notes" in doc, name
