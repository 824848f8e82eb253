"""scripts/system-deps, which .ci/run calls on a fresh Debian machine: apt-get runs only for what
is missing, `apt-get update` once before the one install, and never as non-root. apt-get, id and
dpkg-query are fakes on a PATH that holds nothing else, so nothing is installed for real."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "system-deps"
BASH = shutil.which("bash") or "/bin/bash"


def run(tmp_path: Path, *args: str, commands=(), dpkg_installed=(), uid: int = 0,
        python: str = sys.executable):
    """Run system-deps with PATH = a folder of fakes: `commands` exist as executables, dpkg
    reports `dpkg_installed` as installed, apt-get records its arguments. Returns (proc, apt calls)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "apt.log"

    def script(name: str, body: str) -> None:
        path = fake / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)

    for name in commands:
        script(name, "exit 0")
    script("apt-get", f'echo "$*" >> {log}')
    script("id", f"echo {uid}")
    known = " ".join(dpkg_installed)
    script("dpkg-query", 'for p in ' + known + '; do [ "$p" = "${@: -1}" ] && '
           '{ printf "install ok installed"; exit 0; }; done; exit 1')
    proc = subprocess.run([BASH, str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          env={"PATH": str(fake), "PYTHON": python}, check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls


def test_installs_only_what_is_missing_after_one_update(tmp_path):
    proc, calls = run(tmp_path, commands=["git", "git-lfs", "openssl"])
    assert proc.returncode == 0, proc.stderr
    assert calls == ["update -qq", "install -y -qq chromium chromium-driver"]
    assert "installed chromium chromium-driver" in proc.stdout


def test_nothing_to_do_when_everything_is_there(tmp_path):
    proc, calls = run(tmp_path, commands=["git", "git-lfs", "openssl", "chromium", "chromedriver"])
    assert proc.returncode == 0 and calls == []
    assert "present" in proc.stdout


def test_a_package_dpkg_has_counts_even_without_the_command(tmp_path):
    proc, calls = run(tmp_path, commands=["git", "openssl", "chromium", "chromedriver"],
                      dpkg_installed=["git-lfs"])
    assert proc.returncode == 0 and calls == []


def test_python_without_venv_gets_python3_venv(tmp_path):
    nopy = tmp_path / "nopython"
    nopy.write_text(f"#!{BASH}\nexit 1\n")
    nopy.chmod(0o755)
    proc, calls = run(tmp_path, commands=["git", "git-lfs", "openssl", "chromium", "chromedriver"],
                      python=str(nopy))
    assert calls == ["update -qq", "install -y -qq python3-venv"], proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [("--check",), ("--dry-run",)])
def test_check_and_dry_run_install_nothing(tmp_path, args):
    proc, calls = run(tmp_path, *args, commands=["git", "git-lfs", "openssl"])
    assert calls == []
    assert "missing: chromium chromium-driver" in proc.stdout
    assert proc.returncode == (1 if args == ("--check",) else 0)
    if args == ("--dry-run",):
        assert "apt-get install -y chromium chromium-driver" in proc.stdout


def test_not_root_says_what_to_run_and_fails(tmp_path):
    proc, calls = run(tmp_path, commands=["git", "openssl", "chromium", "chromedriver"], uid=1000)
    assert proc.returncode == 1 and calls == []
    assert "sudo apt-get install -y git-lfs" in proc.stderr
