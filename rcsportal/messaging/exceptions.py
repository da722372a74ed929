"""Errors raised by the messaging layer.

The task layer relies on the split between :class:`ProviderTemporaryError` (retry later,
the provider did not take the message) and :class:`ProviderRejected` (permanent, record
the reason on the delivery and stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MessagingError(Exception):
    """Base class of every error raised by ``rcsportal.messaging``."""


class MessageInvalid(MessagingError):
    """The canonical message breaks the structure or RCS-wide limits.

    ``problems`` is the full list of ``(path, text)`` pairs returned by
    ``Message.validate()``; paths are dotted JSON paths such as
    ``richCard.carouselCard.cardContents.2.title``.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{path}: {text}" for path, text in self.problems))


@dataclass(frozen=True)
class Degradation:
    """A documented, explicit change that makes a message fit a provider.

    ``key`` is stable (used in forms and stored on a send), ``label`` is shown to users.
    """

    key: str
    label: str


@dataclass(frozen=True)
class Unsupported:
    """One thing a provider cannot carry: where it is, why, and what could be done."""

    path: str
    reason: str
    degradations: tuple[Degradation, ...] = field(default_factory=tuple)


class UnsupportedFeature(MessagingError):
    """The provider cannot express part of the message. Never silently degraded."""

    def __init__(self, provider: str, problems: list[Unsupported]):
        self.provider = provider
        self.problems = list(problems)
        super().__init__(
            f"{provider} cannot carry: " + "; ".join(f"{p.path}: {p.reason}" for p in self.problems)
        )

    @property
    def path(self) -> str:
        return self.problems[0].path if self.problems else ""


class ProviderError(MessagingError):
    """A provider answered with an error or could not be reached.

    ``code`` is the provider's own code (``"9"``, ``"6302"``, ``"http_503"``...), ``text`` a
    sentence a marketing user can read, ``details`` the provider's per-field errors as
    ``(path, message)`` pairs, ``raw`` the response body as received.
    """

    def __init__(
        self,
        text: str,
        *,
        code: str = "",
        http_status: int | None = None,
        details: list[tuple[str, str]] | None = None,
        raw: object = None,
    ):
        self.text = text
        self.code = str(code) if code is not None else ""
        self.http_status = http_status
        self.details = list(details or [])
        self.raw = raw
        super().__init__(self.describe())

    def describe(self) -> str:
        """The error in words, with the provider's code, for the delivery row."""
        parts = [self.text]
        if self.details:
            parts.append("; ".join(f"{path}: {msg}" for path, msg in self.details))
        prefix = f"[{self.code}] " if self.code else ""
        return prefix + " — ".join(parts)


class ProviderTemporaryError(ProviderError):
    """Timeout, connection failure, 5xx or 429: nothing was accepted, retry later.

    ``retry_after`` (seconds) is set when the provider said how long to wait.
    ``ambiguous`` is True when the request may have reached the provider before the
    failure (read timeout, connection dropped after sending): the task layer must not
    re-send blindly but reconcile first.
    """

    def __init__(
        self, text: str, *, retry_after: float | None = None, ambiguous: bool = False, **kwargs
    ):
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        super().__init__(text, **kwargs)


class ProviderRejected(ProviderError):
    """The provider refused the request for good (bad data, credentials, credit...)."""


class WebhookRejected(MessagingError):
    """A webhook call failed authentication or could not be parsed.

    ``status_code`` is the 4xx the view answers with; the raw call is kept for audit.
    """

    def __init__(self, reason: str, status_code: int = 400):
        self.reason = reason
        self.status_code = status_code
        super().__init__(reason)
