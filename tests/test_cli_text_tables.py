"""The plain-text tables of `plan` write what rich writes for the same `Table` of `Text` cells,
byte for byte (scripts read these answers): the same rows given to both."""

from __future__ import annotations

import random

import pytest
from orchestrator.commands._table import _rich_table_text, table_text

HEADERS = ("#", "target", "hash", "reasons")
CELLS = [
    "1", "5000", "//recipes/numpy", "//recipes/x[python=3.12]", "0b66e5432e", "",
    "not in channel file:///srv/channel", "full build requested\ninput changed: a.txt",
    "required by //a\nrequired by //b\nrequired by //c", "漢字 wide", "😀", "é accent",
    "[bold]not markup[/bold]", "trail  ", " lead", "a\tb", "bell\x07", "x\n\ny", "ends\n",
    "zero\u200bwidth", "line\u2028separator",
]
TITLES = ["plan for linux-64 → /tmp/ws/channel", "t", "", "漢字 title", "a\ttab",
          "plan for linux-64 → https://example.org/a/very/long/channel/url/that/wraps/x"]


def test_cells_one_by_one_are_written_as_rich_writes_them():
    for title in TITLES:
        for cell in CELLS:
            rows = [("1", cell, "0b66e5432e", cell), (cell, "//b", cell, "ok")]
            assert table_text(title, HEADERS, rows) == _rich_table_text(title, HEADERS, rows)


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_are_written_as_rich_writes_them(seed):
    rng = random.Random(seed)
    rows = [tuple(rng.choice(CELLS) for _ in HEADERS) for _ in range(rng.randint(0, 12))]
    title = rng.choice(TITLES)
    assert table_text(title, HEADERS, rows) == _rich_table_text(title, HEADERS, rows)


def test_plain_tables_are_written_without_rich(monkeypatch):
    from orchestrator.commands import _table

    rows = [(str(i), f"//recipes/lib-{i:05}", "0b66e5432e", "full build requested")
            for i in range(1, 2001)]
    title = "plan for linux-64 → /tmp/ws/channel"
    expected = _rich_table_text(title, HEADERS, rows)
    monkeypatch.setattr(_table, "_rich_table_text", None)
    assert table_text(title, HEADERS, rows) == expected
