"""Tables of plain-text cells, written as rich writes a `Table` (box.SIMPLE, columns that never
wrap, a title on the left) on a console that never wraps (`_output.render_tree`). A plan of
thousands of targets is laid out here in milliseconds where rich took seconds; what only rich
knows how to lay out (a title wider than the table, tabs or control codes in a cell) goes to
rich. A differential test holds the two together (tests/test_cli_text_tables.py).
"""

from __future__ import annotations

from collections.abc import Sequence

Row = Sequence[str]  # one text per column; a cell's lines are separated by "\n"


def table_text(title: str, headers: Row, rows: Sequence[Row]) -> str:
    """The table: its title (if any), a blank line, the headers, a rule, the rows, a blank
    line; every line as wide as the table."""
    cells = [[_measured(cell) for cell in row] for row in rows]
    widths = [_cell_len(header) for header in headers]
    for row in cells:
        widths = [max(width, *(w for _, w in cell)) for width, cell in zip(widths, row,
                                                                          strict=True)]
    width = sum(widths) + 3 * len(widths) + 1  # a space each side of a cell and between
    texts = [title, *headers, *(line for row in cells for cell in row for line, _ in cell)]
    if _cell_len(title) > width or not all(text.isprintable() for text in texts):
        return _rich_table_text(title, headers, rows)
    edge = " " * width
    rule = " " + "─" * (width - 2) + " "
    lines = [title + " " * (width - _cell_len(title))] if title else []
    lines += [edge, *_row_lines(widths, [_measured(h) for h in headers]), rule]
    for row in cells:
        lines += _row_lines(widths, row)
    return "\n".join([*lines, edge]) + "\n"


def _measured(cell: str) -> list[tuple[str, int]]:
    """A cell's lines, each with its width."""
    return [(line, _cell_len(line)) for line in cell.split("\n")]


def _cell_len(text: str) -> int:
    """How many cells a terminal gives `text` (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _row_lines(widths: list[int], cells: list[list[tuple[str, int]]]) -> list[str]:
    """A row's lines: each cell padded to its column's width, a cell with fewer lines blank
    below."""
    height = max(len(cell) for cell in cells)
    lines = []
    for i in range(height):
        texts = (cell[i] if i < len(cell) else ("", 0) for cell in cells)
        padded = (t + " " * (w - n) for (t, n), w in zip(texts, widths, strict=True))
        lines.append(" " + " ".join(f" {t} " for t in padded) + " ")
    return lines


def _rich_table_text(title: str, headers: Row, rows: Sequence[Row]) -> str:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from orchestrator.commands._output import render_tree

    table = Table(title=title, box=box.SIMPLE, title_justify="left")
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: `[python=3.12]` is not markup
    return render_tree(table)
