"""`own-app FILE`: the releases listed in FILE, newest first, a page at a time."""

import click
from own_data import pages, parse_release
from own_util import slugify


@click.command()
@click.argument("releases", type=click.File("r"))
@click.option("--page-size", default=2, show_default=True, type=click.IntRange(min=1))
def main(releases, page_size):
    records = [parse_release(line) for line in releases if line.strip()]
    for number, page in enumerate(pages(records, page_size), start=1):
        click.echo(f"# page {number}")
        for release in page:
            click.echo(f"{release.slug} {release.host} ({slugify(release.project)})")
