"""docs/providers.md carries exactly the capability matrix matrix.py renders now."""

from __future__ import annotations

from rcsportal.messaging.providers import PROVIDERS
from rcsportal.messaging.providers.matrix import DOC, END, extract, render_matrix


def test_doc_matrix_matches_code():
    text = DOC.read_text(encoding="utf-8")
    assert extract(text) == render_matrix(), (
        "docs/providers.md is stale: run python -m rcsportal.messaging.providers.matrix"
    )
    assert text.count(END) == 1


def test_matrix_has_a_column_per_provider():
    header = render_matrix().splitlines()[0]
    for key, cls in PROVIDERS.items():
        assert f"{cls.display_name} (`{key}`)" in header
