"""The plain-text trees of `why` and `graph` write what rich writes for the same tree of `Text`
labels, byte for byte (scripts read these answers): the same trees given to both."""

from __future__ import annotations

import random

import pytest
from orchestrator.commands._output import render_tree
from orchestrator.commands._tree import TextTree, tree_text

LABELS = [
    "//recipes/numpy", "--host: numpy >=1.26, run: numpy--> //recipes/numpy", "", " lead",
    "trail  ", "a\tb", "ab\tcd\tef", "漢字\tx", "😀 wide", "two\nlines", "ends\n", "\n",
    "x\n\ny", "a\rb", "bell\x07", "esc\x1b[31mred", "nul\x00", "[bold]not markup[/bold]",
    "zero\u200bwidth", "line\u2028separator", "é accent",
]


def both(shape: list[tuple[int, str]]) -> tuple[str, str]:
    """(ours, rich's) for trees given as (depth, label) in depth-first order, depth 0 a root."""
    from rich.text import Text
    from rich.tree import Tree

    ours: list[TextTree] = []
    theirs: list[Tree] = []
    for depth, label in shape:
        if depth == 0:
            ours.append(TextTree(label))
            theirs.append(Tree(Text(label)))
            open_ours, open_theirs = [ours[-1]], [theirs[-1]]
            continue
        del open_ours[depth:], open_theirs[depth:]
        open_ours.append(open_ours[-1].add(label))
        open_theirs.append(open_theirs[-1].add(Text(label)))
    return tree_text(*ours), render_tree(*theirs)


def random_shape(rng: random.Random, size: int) -> list[tuple[int, str]]:
    shape, depth = [], 0
    for _ in range(size):
        depth = 0 if not shape else rng.randint(0, depth + 1)
        shape.append((depth, rng.choice(LABELS)))
    return shape


@pytest.mark.parametrize("label", LABELS)
def test_each_label_is_written_as_rich_writes_it(label):
    shape = [(0, label), (1, label), (2, label), (1, label), (0, label)]
    ours, theirs = both(shape)
    assert ours == theirs


@pytest.mark.parametrize("seed", range(30))
def test_random_trees_are_written_as_rich_writes_them(seed):
    ours, theirs = both(random_shape(random.Random(seed), 40))
    assert ours == theirs


def test_a_chain_thousands_deep_is_written_without_recursion():
    root = node = TextTree("//recipes/a0")
    for i in range(1, 3000):
        node = node.add(f"--run: a{i}--> //recipes/a{i}")
    lines = tree_text(root).splitlines()
    assert len(lines) == 3000
    assert lines[-1] == " " * 4 * 2998 + "└── --run: a2999--> //recipes/a2999"
