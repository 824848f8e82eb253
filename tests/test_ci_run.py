""".ci/run's choice of interpreters (`.ci/run --pythons`): the oldest comes from pyproject's
requires-python, interpreters are found on PATH or through pyenv, a pythonX.Y that is not X.Y does
not count, and under CI=true a missing oldest Python fails instead of being skipped. PATH holds only
the few tools the script needs, a `python3` and fakes, so the machine's own Pythons are not seen."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLDEST = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())[1]
HERE = "{}.{}".format(*sys.version_info[:2])
TOOLS = ("bash", "sed", "grep", "seq", "sort", "dirname", "mktemp", "rm")


def pythons(tmp_path: Path, ci: str = "", **fakes: str) -> tuple[int, dict[str, list[str]], str]:
    """Run `.ci/run --pythons` with PATH = tools + python3 (this interpreter) + `fakes`
    (name -> bash body). Returns (exit code, {role: [version, path]}, stderr)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(parents=True)
    for tool in TOOLS:
        (bindir / tool).symlink_to(shutil.which(tool))
    (bindir / "python3").symlink_to(sys.executable)
    for name, body in fakes.items():
        (bindir / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (bindir / name).chmod(0o755)
    proc = subprocess.run([shutil.which("bash"), str(ROOT / ".ci" / "run"), "--pythons"],
                          env={"PATH": str(bindir), "CI": ci, "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=60, check=False)
    found = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()}
    return proc.returncode, found, proc.stderr


def test_missing_oldest_fails_under_ci_only(tmp_path):
    code, found, _ = pythons(tmp_path / "ci", ci="true")
    assert code == 1 and found["oldest"] == [OLDEST, "not-found"]
    code, found, _ = pythons(tmp_path / "dev")
    assert code == 0 and found["oldest"] == [OLDEST, "not-found"]
    assert found["default"] == [HERE, str(tmp_path / "dev" / "bin" / "python3")]


def test_a_pythonX_Y_of_another_version_does_not_count(tmp_path):
    impostor = "echo 3.8"  # answers the version question with another version
    code, found, _ = pythons(tmp_path, ci="true", **{f"python{OLDEST}": impostor})
    assert code == 1 and found["oldest"] == [OLDEST, "not-found"]


def test_pyenv_versions_are_found_without_their_shims(tmp_path):
    """A pyenv shim runs only the selected versions: .ci/run asks `pyenv which` per version."""
    pyenv = f"""
case "$1" in
  versions) printf 'system\\n{HERE}.1\\n{HERE}.0\\n2.7.18\\n' ;;
  which) [ "$PYENV_VERSION" = "{HERE}.1" ] && [ "$2" = "python{HERE}" ] && echo {sys.executable} ;;
esac"""
    code, found, stderr = pythons(tmp_path, pyenv=pyenv)
    assert found["newest"] == [HERE, sys.executable], stderr
    if HERE == OLDEST:
        assert code == 0 and found["oldest"] == [OLDEST, sys.executable]
