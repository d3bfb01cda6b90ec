from own_data import pages, parse_release
from packaging.version import Version


def test_parse_release_encodes_the_host():
    release = parse_release("Acme Tools 1.10.0 bücher.example")
    assert release.version == Version("1.10.0")
    assert release.host == "xn--bcher-kva.example"
    assert release.slug == "acme-tools-1.10.0"


def test_pages_sort_by_version_not_text():
    releases = [parse_release(f"p {v} example.org") for v in ("1.9", "1.10", "1.2rc1")]
    assert [[str(r.version) for r in page] for page in pages(releases)] == [
        ["1.10", "1.9"], ["1.2rc1"]]
