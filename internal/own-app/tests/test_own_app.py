import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from own_app.cli import main


def test_lists_releases_newest_first_in_pages(tmp_path):
    listing = tmp_path / "releases.txt"
    listing.write_text("Tool 1.9 a.example\nTool 1.10 b.example\n\nTool 0.1 c.example\n")
    result = CliRunner().invoke(main, [str(listing), "--page-size", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "# page 1", "tool-1.10 b.example (tool)", "tool-1.9 a.example (tool)",
        "# page 2", "tool-0.1 c.example (tool)",
    ]


def test_rejects_a_page_size_of_zero(tmp_path):
    listing = tmp_path / "releases.txt"
    listing.write_text("Tool 1.0 a.example\n")
    result = CliRunner().invoke(main, [str(listing), "--page-size", "0"])
    assert result.exit_code == 2


def test_console_script_is_installed(tmp_path):
    listing = tmp_path / "releases.txt"
    listing.write_text("Tool 3.0 a.example\n")
    # beside this interpreter (an environment that is not activated), else on PATH
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    script = shutil.which("own-app", path=search)
    assert script, "own-app is not on PATH"
    out = subprocess.run([script, str(listing)], capture_output=True, text=True, check=True)
    assert "tool-3.0 a.example" in out.stdout
