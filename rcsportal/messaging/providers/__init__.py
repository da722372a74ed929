"""Provider adapters: an explicit registry (no plugin loading).

``PROVIDERS`` maps the stored key of an agent's provider to its adapter class.
"""

from __future__ import annotations

from .aerialink import AerialinkProvider
from .base import (
    AgentConfig,
    BaseProvider,
    Capabilities,
    Recipient,
    StatusQuery,
    SubmitResult,
    WireRequest,
)
from .bsg import BsgProvider
from .serwersms import SerwerSmsProvider
from .smspartner import SmsPartnerProvider

PROVIDERS: dict[str, type[BaseProvider]] = {
    SmsPartnerProvider.key: SmsPartnerProvider,
    SerwerSmsProvider.key: SerwerSmsProvider,
    BsgProvider.key: BsgProvider,
    AerialinkProvider.key: AerialinkProvider,
}


def get_provider(key: str) -> type[BaseProvider]:
    """The adapter class for ``key``; ``KeyError`` with the known keys otherwise."""
    try:
        return PROVIDERS[key]
    except KeyError:
        raise KeyError(f"Unknown provider {key!r}; known: {', '.join(PROVIDERS)}") from None


def provider_choices() -> list[tuple[str, str]]:
    """``[(key, display name)]`` for model/form choices."""
    return [(key, cls.display_name) for key, cls in PROVIDERS.items()]


__all__ = [
    "PROVIDERS",
    "AerialinkProvider",
    "AgentConfig",
    "BaseProvider",
    "BsgProvider",
    "Capabilities",
    "Recipient",
    "SerwerSmsProvider",
    "SmsPartnerProvider",
    "StatusQuery",
    "SubmitResult",
    "WireRequest",
    "get_provider",
    "provider_choices",
]
