"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup)


def _ci_lines() -> list[str]:
    return [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
            if line and not line.startswith(("#", "set ", "cd ", "export ", "apt-get update"))]


def test_readme_has_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("python app.py") and commands[1].endswith("python -m pytest")


def test_ci_smoke_tests_the_first_command_then_lints_then_runs_exactly_the_test_command():
    lines = _ci_lines()
    assert lines[0] == "bash .ci/smoke_first_command.sh"
    assert "ruff check" in lines[1]
    assert lines[-1] == _readme_commands()[1] and len(lines) == 3


def test_the_smoke_test_reads_the_first_command_from_the_readme():
    script = (ROOT / ".ci" / "smoke_first_command.sh").read_text()
    assert 'split("## Set-up", 1)' in script and "[0]" in script and "$first_command --port $port" in script
