"""Shared pieces for the provider modules: request/result objects and small validators."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Media types from the SMS Partner / SerwerSMS tables (identical in both documents).
CARD_MEDIA_TYPES = {
    "image/jpeg",
    "image/gif",
    "image/png",
    "video/h263",
    "video/m4v",
    "video/mp4",
    "video/mpeg4",
    "video/mpeg",
    "video/webm",
}
FILE_ONLY_MEDIA_TYPES = {
    "application/ogg",
    "application/pdf",
    "audio/aac",
    "audio/mp3",
    "audio/mpeg",
    "audio/mpg",
    "audio/mp4",
    "audio/mp4-latm",
    "audio/3gpp",
}
ALL_MEDIA_TYPES = CARD_MEDIA_TYPES | FILE_ONLY_MEDIA_TYPES


class BadBody(ValueError):
    """The body could not be parsed (malformed JSON / form)."""


@dataclass
class Request:
    method: str
    path: str  # path inside the provider prefix, without query string
    query: dict[str, str]
    headers: Any  # email.message.Message-like (case-insensitive .get)
    raw: bytes
    client: str = ""
    _parsed: Any = None
    _parsed_ok: bool = False

    def json(self) -> Any:
        if not self._parsed_ok:
            if not self.raw.strip():
                self._parsed = None
            else:
                try:
                    self._parsed = json.loads(self.raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise BadBody(str(exc)) from exc
            self._parsed_ok = True
        return self._parsed

    def body(self) -> Any:
        """JSON, or a PHP-style form body (``a[b][0]=x``) turned into nested objects."""
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "application/x-www-form-urlencoded" in ctype:
            if not self._parsed_ok:
                try:
                    text = self.raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise BadBody(str(exc)) from exc
                self._parsed = parse_php_form(text)
                self._parsed_ok = True
            return self._parsed
        return self.json()

    @property
    def is_form(self) -> bool:
        return (
            "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or "").lower()
        )


@dataclass
class Result:
    status: int
    body: Any
    headers: dict = field(default_factory=dict)
    accepted: bool = False
    kind: str = ""
    account: str = ""
    recipients: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    not_before: float | None = None
    reason: str = ""


_KEY_RE = re.compile(r"\[([^\]]*)\]")


def parse_php_form(text: str) -> dict:
    """``phone[]=1&phone[]=2&message[text]=hi&message[suggestions][0][reply][text]=x``."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        base, _, rest = key.partition("[")
        parts = [base] + (_KEY_RE.findall("[" + rest) if rest else [])
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            keys = sorted(node, key=int)
            if [int(k) for k in keys] == list(range(len(keys))):
                return [node[k] for k in keys]
        return node
    return node


def is_str(v: Any) -> bool:
    return isinstance(v, str)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def as_int(v: Any) -> int | None:
    """Accept 1 / "1" (form bodies carry strings); reject bools and other types."""
    if is_int(v):
        return v
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        return int(v)
    return None


def as_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if v in (0, 1) and is_int(v):
        return bool(v)
    if isinstance(v, str) and v.lower() in ("true", "false", "1", "0"):
        return v.lower() in ("true", "1")
    return None


def is_url(v: Any, max_len: int = 2048) -> bool:
    if not isinstance(v, str) or not v or len(v) > max_len or any(c.isspace() for c in v):
        return False
    parts = urlsplit(v)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_iso8601(v: Any) -> bool:
    if not isinstance(v, str) or "T" not in v:
        return False
    text = v[:-1] + "+00:00" if v.endswith("Z") else v
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_datetime(v: Any) -> bool:
    """'YYYY-MM-DD HH:MM:SS' or ISO 8601."""
    if not isinstance(v, str):
        return False
    try:
        datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        return True
    except ValueError:
        return is_iso8601(v)


def digits(v: str) -> str:
    return "".join(c for c in v if c.isdigit())


def clen(v: str) -> int:
    return len(v)
