"""Server-side helpers for the message composer and the preview pages.

* :func:`composer_config` - the JSON the composer widget reads (canonical limits, every
  provider's capabilities, the agents, the placeholder fields, endpoint URLs);
* :func:`content_problems` - structure (``from_dict``) and RBM-wide (``validate()``)
  problems of a document as ``[(path, text)]``, never raising;
* :func:`provider_problems` - what one agent's provider cannot carry (``adapter.check``);
* :func:`preview_model` - a plain dict the preview templates render (the same phone look as
  the composer's live preview);
* :func:`mask_secrets` - rendered wire requests with credentials replaced by "•••";
* :func:`check_media_url` - HEAD/GET a media URL without ever reaching private, loopback,
  link-local, multicast or reserved addresses (every resolved address is checked, the
  connection is pinned to the checked address and redirects are followed by hand).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import socket
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import NoReverseMatch, reverse

from rcsportal.messaging import message as canonical
from rcsportal.messaging import sms
from rcsportal.messaging.exceptions import MessageInvalid
from rcsportal.messaging.message import Message
from rcsportal.messaging.providers import PROVIDERS
from rcsportal.messaging.providers.base import DEGRADATIONS

MASK = "•••"
SECRET_KEYS = frozenset(
    {"apikey", "api_key", "password", "authorization", "token", "api_token", "secret"}
)
CONTACT_FIELDS = ["first_name", "last_name", "phone", "email", "language", "country"]
MEDIA_CHECK_TIMEOUT = 4.0
MEDIA_CHECK_MAX_REDIRECTS = 3


# --------------------------------------------------------------------------------------------
# Widget configuration
# --------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def capabilities_json(provider_key: str) -> dict:
    cls = PROVIDERS[provider_key]
    caps = dataclasses.asdict(cls.capabilities)
    return {
        "key": cls.key,
        "name": cls.display_name,
        "capabilities": _jsonable(caps),
        "degradations": sorted(cls.degradation_keys),
    }


def providers_json() -> dict[str, dict]:
    return {key: capabilities_json(key) for key in PROVIDERS}


def limits_json() -> dict:
    return {
        "limits": dict(canonical.LIMITS),
        "cardOrientations": sorted(canonical.CARD_ORIENTATIONS),
        "thumbnailAlignments": sorted(canonical.THUMBNAIL_ALIGNMENTS),
        "cardWidths": sorted(canonical.CARD_WIDTHS),
        "mediaHeights": ["SHORT", "MEDIUM", "TALL"],
        "urlApplications": sorted(canonical.URL_APPLICATIONS),
        "webviewViewModes": sorted(canonical.WEBVIEW_VIEW_MODES),
        "cardMediaTypes": sorted(canonical.CARD_MEDIA_TYPES),
        "fileMediaTypes": sorted(canonical.FILE_MEDIA_TYPES),
        "thumbnailMediaTypes": sorted(canonical.THUMBNAIL_MEDIA_TYPES),
        "sms": {
            "gsm7Single": sms.GSM7_SINGLE_SEGMENT,
            "gsm7Multi": sms.GSM7_MULTI_SEGMENT,
            "ucs2Single": sms.UCS2_SINGLE_SEGMENT,
            "ucs2Multi": sms.UCS2_MULTI_SEGMENT,
        },
    }


def attribute_keys(limit: int = 40) -> list[str]:
    """Attribute keys seen in contact data (a sample of recent contacts, never a full scan)."""
    from .models import Contact

    keys: set[str] = set()
    for attributes in Contact.objects.order_by("-id").values_list("attributes", flat=True)[:500]:
        if isinstance(attributes, dict):
            keys.update(str(k) for k in attributes)
    valid = [k for k in sorted(keys) if canonical.PLACEHOLDER_RE.fullmatch("{{ " + k + " }}")]
    return valid[:limit]


def placeholder_fields() -> list[str]:
    return CONTACT_FIELDS + [k for k in attribute_keys() if k not in CONTACT_FIELDS]


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def agents_json() -> dict[str, dict]:
    from .models import Agent

    return {
        str(agent.pk): {"name": agent.name, "provider": agent.provider}
        for agent in Agent.objects.only("pk", "name", "provider")
    }


def composer_config(*, mode: str = "template", agent_field: str = "check_agent") -> dict:
    """Everything the composer's JavaScript needs, as JSON-serialisable data."""
    return {
        "mode": mode,
        "agentField": agent_field,
        **limits_json(),
        "providers": providers_json(),
        "degradations": dict(DEGRADATIONS),
        "agents": agents_json(),
        "placeholders": placeholder_fields(),
        "urls": {
            "upload": _url("campaigns:media-upload"),
            "urlCheck": _url("campaigns:media-check"),
            "check": _url("campaigns:content-check"),
            "templateContent": _url("campaigns:template-content", 0).replace("/0/", "/{id}/"),
        },
    }


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def content_problems(data: Any) -> list[tuple[str, str]]:
    """Structural problems, else RBM-wide problems, of a canonical document."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            return [("", f"invalid JSON: {exc}")]
    try:
        message = Message.from_dict(data)
    except MessageInvalid as exc:
        return list(exc.problems)
    return message.validate()


def provider_problems(data: Any, agent=None, provider_key: str = "") -> list[dict]:
    """``adapter.check`` for the agent (or a bare provider) as JSON-ready dicts."""
    try:
        message = Message.from_dict(data)
    except MessageInvalid:
        return []
    if agent is not None:
        from .services import agent_adapter

        adapter = agent_adapter(agent)
    else:
        from rcsportal.messaging.providers.base import AgentConfig

        adapter = PROVIDERS[provider_key](AgentConfig(provider=provider_key, credentials={}))
    try:
        problems = adapter.check(message)
    except Exception as exc:  # noqa: BLE001 - a checker bug must not break the form
        return [{"path": "", "reason": f"could not check: {exc}", "degradations": []}]
    return [
        {
            "path": p.path,
            "reason": p.reason,
            "degradations": [{"key": d.key, "label": d.label} for d in p.degradations],
        }
        for p in problems
    ]


def problems_by_path(problems: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for path, text in problems:
        result.setdefault(path, []).append(text)
    return result


def describe_path(path: str) -> str:
    """``richCard.carouselCard.cardContents.1.title`` -> ``Card 2 › title`` (for people)."""
    if not path:
        return "Message"
    parts = path.split(".")
    words: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if part == "cardContents" and nxt is not None and nxt.isdigit():
            words.append(f"Card {int(nxt) + 1}")
            i += 2
            continue
        if part == "suggestions" and nxt is not None and nxt.isdigit():
            words.append(f"Suggestion {int(nxt) + 1}")
            i += 2
            continue
        if part in ("richCard", "carouselCard", "standaloneCard", "cardContent"):
            if part == "standaloneCard":
                words.append("Card")
            i += 1
            continue
        words.append(part)
        i += 1
    return " › ".join(words) or "Message"


# --------------------------------------------------------------------------------------------
# Preview
# --------------------------------------------------------------------------------------------

_ICON_PATHS = {
    "openUrlAction": "M14 3h7v7h-2V6.4l-9.3 9.3-1.4-1.4L17.6 5H14V3zM5 5h6v2H5v12h12v-6h2v6a2 2 0 "
    "0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z",
    "dialAction": "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25c1.1.37 2.3.57 3.6.57a1 "
    "1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 "
    "2.45.57 3.57a1 1 0 0 1-.25 1z",
    "viewLocationAction": "M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7zm0 "
    "9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z",
    "shareLocationAction": "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm8.94 3A9 9 0 0 0 13 3.06V1h-2v2.06A9 "
    "9 0 0 0 3.06 11H1v2h2.06A9 9 0 0 0 11 20.94V23h2v-2.06A9 9 0 0 0 20.94 13H23v-2h-2.06zM12 "
    "19a7 7 0 1 1 0-14 7 7 0 0 1 0 14z",
    "createCalendarEventAction": "M7 2v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 "
    "0 0-2-2h-2V2h-2v2H9V2H7zM5 9h14v11H5V9z",
}


_ICON_PATHS_OTHER = {"file": "M6 2h8l6 6v14H6V2zm7 1.5V9h5.5L13 3.5z"}


def _icon(key: str, size: int = 14) -> str:
    path = _ICON_PATHS.get(key) or _ICON_PATHS_OTHER.get(key)
    if not path:
        return ""
    return (
        f'<svg class="rcs-icon-svg" viewBox="0 0 24 24" width="{size}" height="{size}" '
        f'aria-hidden="true" focusable="false"><path fill="currentColor" d="{path}"/></svg>'
    )


MEDIA_HEIGHT_PX = {"SHORT": 112, "MEDIUM": 168, "TALL": 264, "": 168}


def _suggestion_view(s: dict) -> dict:
    if "reply" in s:
        return {"type": "reply", "text": s["reply"].get("text", ""), "icon": ""}
    action = s.get("action") or {}
    icon = next((_icon(key) for key in _ICON_PATHS if key in action), "")
    return {"type": "action", "text": action.get("text", ""), "icon": icon}


def _media_view(ci: dict | None) -> dict | None:
    if not ci:
        return None
    url = ci.get("fileUrl", "")
    mime = ci.get("mimeType", "") or _guess_type(url)
    return {
        "url": url,
        "thumbnail": ci.get("thumbnailUrl", ""),
        "mime": mime,
        "is_image": mime.startswith("image/"),
        "is_video": mime.startswith("video/"),
        "name": ci.get("fileName", "") or url.rsplit("/", 1)[-1],
        "size": ci.get("fileSizeBytes"),
        "icon": _icon("file", 28),
    }


def _guess_type(url: str) -> str:
    import mimetypes

    path = urllib.parse.urlsplit(url).path if url else ""
    return mimetypes.guess_type(path)[0] or ""


def _card_view(content: dict) -> dict:
    media = content.get("media") or {}
    return {
        "title": content.get("title", ""),
        "description": content.get("description", ""),
        "media": _media_view(media.get("contentInfo")),
        "height": media.get("height", "") or "MEDIUM",
        "height_px": MEDIA_HEIGHT_PX.get(media.get("height", ""), 168),
        "suggestions": [_suggestion_view(s) for s in content.get("suggestions") or []],
    }


def preview_model(doc: dict) -> dict:
    """What the phone preview shows for a canonical document (no validation)."""
    doc = doc or {}
    rich = doc.get("richCard") or {}
    model: dict[str, Any] = {"kind": "text", "text": doc.get("text", "")}
    if "carouselCard" in rich:
        carousel = rich["carouselCard"] or {}
        model["kind"] = "carousel"
        model["width"] = carousel.get("cardWidth", "MEDIUM")
        model["cards"] = [_card_view(c) for c in carousel.get("cardContents") or []]
    elif "standaloneCard" in rich:
        card = rich["standaloneCard"] or {}
        model["kind"] = "card"
        model["orientation"] = card.get("cardOrientation", "VERTICAL")
        model["alignment"] = card.get("thumbnailImageAlignment", "") or "LEFT"
        model["horizontal"] = model["orientation"] == "HORIZONTAL"
        model["card"] = _card_view(card.get("cardContent") or {})
    elif "contentInfo" in doc:
        model["kind"] = "file"
        model["file"] = _media_view(doc.get("contentInfo"))
    model["suggestions"] = [_suggestion_view(s) for s in doc.get("suggestions") or []]
    fallback = doc.get("fallback") or {}
    sms_text = (fallback.get("sms") or {}).get("text", "")
    model["sms"] = sms_view(sms_text) if sms_text else None
    model["sms_sender"] = (fallback.get("sms") or {}).get("sender", "")
    model["mms"] = fallback.get("mms")
    return model


def sms_view(text: str) -> dict:
    info = sms.segment_info(text)
    return {
        "text": text,
        "encoding": info.encoding,
        "characters": len(text),
        "units": info.length_units,
        "segments": info.segments,
        "per_segment": info.per_segment,
        "remaining": info.remaining,
    }


# --------------------------------------------------------------------------------------------
# Secrets in rendered requests
# --------------------------------------------------------------------------------------------


def mask_secrets(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy with secret-looking keys' values and every known secret value replaced."""
    secret_values = sorted({str(s) for s in secrets if s and len(str(s)) >= 4}, key=len)[::-1]

    def scrub_text(text: str) -> str:
        for secret in secret_values:
            text = text.replace(secret, MASK)
        return text

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            out = {}
            for key, inner in item.items():
                if str(key).lower() in SECRET_KEYS and inner not in (None, ""):
                    out[key] = MASK
                else:
                    out[key] = walk(inner)
            return out
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        if isinstance(item, str):
            return scrub_text(item)
        return item

    return walk(value)


# --------------------------------------------------------------------------------------------
# Media URL check (no server-side request forgery)
# --------------------------------------------------------------------------------------------


class MediaCheckError(Exception):
    """The URL may not be fetched, or the fetch failed; the message is for people."""


def address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address may not be contacted, or ``""`` when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_refused(ip.ipv4_mapped)
    for attr, label in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
        ("is_unspecified", "an unspecified"),
    ):
        if getattr(ip, attr):
            return f"{ip} is {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return ""


def resolve_public(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to; :class:`MediaCheckError` when any is not public."""
    if not host:
        raise MediaCheckError("the URL has no host")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise MediaCheckError(f"cannot resolve {host}") from exc
        addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise MediaCheckError(f"cannot resolve {host}")
    for address in addresses:
        reason = address_refused(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise MediaCheckError(f"refused: {host} resolves to {reason}")
    return addresses


def _split_url(url: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise MediaCheckError("not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MediaCheckError("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise MediaCheckError("URLs with a user name or password are not accepted")
    return parts


def _request_pinned(method: str, url: str, address: str, timeout: float):
    """One request to ``address`` (already checked) for ``url``: no redirects followed."""
    import urllib3

    parts = _split_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname and not host_header.startswith("["):
        host_header = f"[{parts.hostname}]"
    kwargs: dict[str, Any] = {"timeout": urllib3.Timeout(connect=timeout, read=timeout)}
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            **kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **kwargs)
    headers = {"Host": host_header, "User-Agent": "rcsportal-media-check/1", "Accept": "*/*"}
    if method == "GET":
        headers["Range"] = "bytes=0-0"
    return pool.request(
        method, path, headers=headers, redirect=False, retries=False, preload_content=False
    )


def check_media_url(url: str, *, media_types: Iterable[str] | None = None) -> dict:
    """``{url, final_url, mime_type, size, problems}`` for a media URL (HEAD, else GET).

    Raises :class:`MediaCheckError` when the URL is refused or cannot be fetched.
    """
    current = url.strip()
    for _hop in range(MEDIA_CHECK_MAX_REDIRECTS + 1):
        parts = _split_url(current)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = resolve_public(parts.hostname, port)
        response = None
        try:
            for method in ("HEAD", "GET"):
                response = _request_pinned(method, current, addresses[0], MEDIA_CHECK_TIMEOUT)
                if response.status not in (405, 501) or method == "GET":
                    break
                response.release_conn()
        except MediaCheckError:
            raise
        except Exception as exc:  # urllib3 errors, TLS, timeouts
            raise MediaCheckError(f"could not fetch the URL ({type(exc).__name__})") from exc
        status = response.status
        headers = response.headers
        response.release_conn()
        if status in (301, 302, 303, 307, 308):
            location = headers.get("Location", "")
            if not location:
                raise MediaCheckError(f"redirect ({status}) without a Location")
            current = urllib.parse.urljoin(current, location)
            continue
        if status >= 400:
            raise MediaCheckError(f"the server answered HTTP {status}")
        mime = (headers.get("Content-Type", "") or "").split(";", 1)[0].strip().lower()
        size = _size_of(headers, status)
        problems = media_problems(mime, size, media_types)
        return {
            "url": url,
            "final_url": current,
            "mime_type": mime,
            "size": size,
            "problems": problems,
        }
    raise MediaCheckError(f"more than {MEDIA_CHECK_MAX_REDIRECTS} redirects")


def _size_of(headers, status: int) -> int | None:
    content_range = headers.get("Content-Range", "")
    if status == 206 and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    length = headers.get("Content-Length", "")
    if status != 206 and length.isdigit():
        return int(length)
    return None


def media_problems(
    mime: str, size: int | None, media_types: Iterable[str] | None = None
) -> list[str]:
    allowed = set(media_types) if media_types is not None else set(canonical.FILE_MEDIA_TYPES)
    problems = []
    if not mime:
        problems.append("the server did not say what type of file this is")
    elif mime not in allowed:
        problems.append(f"{mime} is not an accepted media type")
    if size is not None and size > canonical.MAX_FILE_SIZE_BYTES:
        problems.append(
            f"{size} bytes is over the {canonical.MAX_FILE_SIZE_BYTES // (1024 * 1024)} MiB limit"
        )
    return problems
