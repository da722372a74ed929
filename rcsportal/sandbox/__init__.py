"""Provider sandbox: a local HTTP server speaking the four RCS provider APIs.

Independent of the adapters (never imports ``rcsportal.messaging.providers``) and of Django.
See ``docs/sandbox.md``.
"""

from .server import PROVIDERS, SandboxServer

__all__ = ["PROVIDERS", "SandboxServer", "main"]


def main(argv=None) -> int:
    from .__main__ import main as _main

    return _main(argv)
