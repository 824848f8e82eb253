"""scripts/demo's wheel cache: one folder per Python (and platform) under this tool's own cache
folder (platformdirs' user_cache_dir("git-credential-hf")), a one-line note, not pip's error, when
the kept wheels do not install, an offline second run, and `--no-cache`.

Three demo runs in a throwaway HOME: (1) a cache folder for this Python marked complete but holding
nothing (what a cache made by another Python looked like to pip before the folders were split):
one line, then the index, then the cache is refilled; (2) with PIP_NO_INDEX=1: installed from the
cache; (3) `--no-cache` with PIP_NO_INDEX=1: the cache is not used, so the install fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo"


def demo(*args: str, **env: str) -> tuple[int, str]:
    proc = subprocess.run([str(DEMO), *args], capture_output=True, text=True, timeout=290,
                          check=False, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHON": sys.executable, **env})
    return proc.returncode, proc.stdout + proc.stderr


def install_step(out: str) -> str:
    """The demo's "Install" step, up to the next step."""
    match = re.search(r"^\S*2\. Install .*?(?=^\S*3\. )", out, re.S | re.M)
    assert match, out[-3000:]
    return match.group(0)


def user_cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir as where
    except ImportError:
        from pip._vendor.platformdirs import user_cache_dir as where
    return Path(where("git-credential-hf"))


def test_demo_cache_per_python_offline_rerun_and_no_cache(git_env):
    wheels = (user_cache_dir() / "demo-wheels"
              / f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}")
    assert str(wheels).startswith(str(git_env.home))  # the test's HOME, not the user's
    wheels.mkdir(parents=True)
    (wheels / ".complete").touch()  # complete, yet nothing in it that pip can use

    code, out = demo()
    step = install_step(out)
    assert code == 0, out[-3000:]
    assert f"the wheels kept in {wheels} did not install (ERROR: " in step
    assert "); installing from the package index" in step
    assert len(step.splitlines()) <= 8, step  # a line, not pip's story
    assert f"kept the wheels for an offline run next time in {wheels}" in step
    kept = {p.name.split("-")[0].lower() for p in wheels.glob("*.whl")}
    assert {"hatchling", "requests", "filelock"} <= kept and "git_credential_hf" not in kept
    complete = (wheels / ".complete").stat().st_mtime_ns

    code, out = demo(PIP_NO_INDEX="1")
    assert code == 0, out[-3000:]
    assert f"installed offline from the wheels kept for this Python in {wheels}" in install_step(out)

    code, out = demo("--no-cache", PIP_NO_INDEX="1")
    assert code != 0  # no index, and the cache was not used
    assert f"--no-cache: installing from the package index ({wheels} is neither" in out
    assert (wheels / ".complete").stat().st_mtime_ns == complete
