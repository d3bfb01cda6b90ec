import pytest
from own_util import chunks, slugify


@pytest.mark.parametrize(("text", "slug"), [
    ("Hello, World!", "hello-world"),
    ("  already-a-slug ", "already-a-slug"),
    ("Ünïcode & Co", "n-code-co"),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_chunks_keeps_order_and_remainder():
    assert chunks(range(5), 2) == [[0, 1], [2, 3], [4]]


def test_chunks_refuses_empty_size():
    with pytest.raises(ValueError):
        chunks([1], 0)


def test_as_text_decodes_bytes_and_keeps_str():
    from own_util.text import as_text

    assert as_text(b"caf\xc3\xa9") == "café"
    assert as_text("déjà") == "déjà"
