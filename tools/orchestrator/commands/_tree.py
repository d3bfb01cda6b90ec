"""Trees of plain-text labels, written as rich writes a `Tree` of `Text` labels on a console
that never wraps (`_output.render_tree`), in a tenth of the time: `why` and `graph` answer with
thousands of nodes, and rich lays out each one as a renderable. Same text, same guides; a
differential test holds the two together (tests/test_cli_text_trees.py).
"""

from __future__ import annotations

LAST, MIDDLE = "└── ", "├── "  # a node's own guide: the last child of its parent or not
AFTER_LAST, AFTER_MIDDLE = "    ", "│   "  # below it: its further lines and its children


class TextTree:
    """A label and the trees under it, in the order added."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.children: list[TextTree] = []

    def add(self, label: str) -> TextTree:
        child = TextTree(label)
        self.children.append(child)
        return child


def tree_text(*trees: TextTree) -> str:
    """The trees one after the other, each line ending with a newline."""
    lines: list[str] = []
    for tree in trees:
        lines += label_lines(tree.label)
        _add_children(lines, tree, "")
    return "".join(line + "\n" for line in lines)


def _add_children(lines: list[str], root: TextTree, prefix: str) -> None:
    """Depth first, without recursion (a chain of targets can be thousands long)."""
    stack = _pending(root, prefix)
    while stack:
        node, prefix, last = stack.pop()
        first, *more = label_lines(node.label)
        lines.append(prefix + (LAST if last else MIDDLE) + first)
        below = prefix + (AFTER_LAST if last else AFTER_MIDDLE)
        lines += [below + line for line in more]
        stack += _pending(node, below)


def _pending(node: TextTree, prefix: str) -> list[tuple[TextTree, str, bool]]:
    """The children of `node` to write, the first on top of the stack."""
    last = len(node.children) - 1
    return [(child, prefix, i == last) for i, child in reversed(list(enumerate(node.children)))]


def label_lines(label: str) -> list[str]:
    """The lines rich writes for `Text(label)`: control codes stripped, tabs expanded to the
    next multiple of 8 cells, split at newlines (rich's own functions when it comes to that)."""
    if label.isprintable():
        return [label]
    from rich.text import Text

    text = Text(label)
    text.expand_tabs()
    return text.plain.split("\n")
