"""Pure-Python messaging layer: the canonical RCS message and the provider adapters.

Nothing in this package may import Django or anything from ``rcsportal.campaigns``;
``tests/messaging/test_purity.py`` enforces it.
"""
