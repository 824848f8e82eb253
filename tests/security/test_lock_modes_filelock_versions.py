"""Issue 13 item 1: both writer lock files are 0600 whatever filelock version pip picked.

filelock 3.8 opens lock files with the default mode (0777 & ~umask), 3.10-3.2x fchmod them to
their `mode` (0644 by default) on every acquire, 4.x only sets a mode on files it creates. Each
version runs a real save in a child interpreter with only that filelock on its path."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the oldest allowed by pyproject, one that fchmods 0644 on every acquire, the newest 3.x, 4.x
VERSIONS = ["3.8.0", "3.19.1", "3.32.7", None]

PROBE = r"""
import os, filelock
os.umask(0o022)
from git_credential_hf import tokens
tokens.save_token("hf_" + "a" * 34, "laptop")
tokens.save_token("hf_" + "b" * 34, "other")
print(filelock.__version__)
"""


@pytest.fixture(scope="module")
def filelock_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("filelocks")
    dirs = {}
    for version in VERSIONS:
        spec = f"filelock=={version}" if version else "filelock"
        target = base / (version or "newest")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
             spec], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            if os.environ.get("CI") == "true":
                pytest.fail(f"cannot install {spec}: {done.stderr[-500:]}")
            pytest.skip(f"cannot install {spec} (offline?)")
        dirs[version or "newest"] = target
    return dirs


@pytest.mark.timeout(600)
@pytest.mark.parametrize("version", [v or "newest" for v in VERSIONS])
def test_lock_files_are_0600_with_every_filelock(filelock_dirs: dict[str, Path],
                                                 version: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(filelock_dirs[version]), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    if version != "newest":
        assert done.stdout.strip() == version
    home = Path(os.environ["HF_HOME"])
    for name in (".token.lock", "stored_tokens.lock"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, (name, done.stdout)
