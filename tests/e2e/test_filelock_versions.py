"""`.token.lock`, and any other lock file login takes, is 0600 whatever filelock release pip
picks, checked with a real `git-credential-hf login` against the local Hub in a throwaway venv
holding:

- the oldest filelock pyproject allows (its `filelock>=X`),
- 3.19.1, the newest for Python 3.9, which chmods its lock file to its own default 0644,
- the newest release pip finds for this Python.

SECURITY.md promises 0600 for every file the helper writes: whoever can open the lock file can
flock it and stall every login. Needs a package index (or PIP_FIND_LINKS): without one the test is
skipped, except under CI=true where it fails.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = (REPO_ROOT / "pyproject.toml").read_text()
OLDEST = re.search(r'"filelock>=([0-9][0-9.]*)"', PYPROJECT).group(1)  # type: ignore[union-attr]
SEEN_0644 = "3.19.1"

pytestmark = pytest.mark.timeout(300)


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv (without pip: fast) that imports this checkout and, after its own site-packages
    where filelock is installed, the test environment's (requests and the rest): two .pth files."""
    root = tmp_path_factory.mktemp("filelock-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                   timeout=120)
    python = root / "bin" / "python"
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "a_checkout.pth").write_text(f"{REPO_ROOT}\n")
    (purelib / "z_test_env.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n")
    return python


def install_filelock(venv: Path, requirement: str) -> None:
    """pip (the test environment's) installs `requirement` into the venv's own site-packages."""
    purelib = subprocess.run(
        [str(venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade",
                           "--no-deps", "--disable-pip-version-check", "--target", purelib,
                           requirement],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        message = f"pip install {requirement} failed: {last}"
        if ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def release(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@pytest.mark.parametrize("requirement", [f"filelock=={OLDEST}", f"filelock=={SEEN_0644}",
                                         "filelock"],
                         ids=["oldest-allowed", "3.19-newest-for-3.9", "newest"])
def test_lock_file_is_0600_with_every_filelock(venv, requirement, local_hub, git_env, hub_token):
    install_filelock(venv, requirement)
    version = subprocess.run([str(venv), "-c", "import filelock; print(filelock.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if "==" in requirement:
        assert release(version) == release(requirement.split("==")[1])

    login = subprocess.run(
        [str(venv), "-m", "git_credential_hf", "login", "--token-stdin"],
        input=hub_token + "\n", capture_output=True, text=True, timeout=60, check=False,
        env={**git_env.env, "HF_ENDPOINT": local_hub.url}, umask=0o022)
    assert login.returncode == 0, login.stderr
    assert (git_env.hf_home / "token").read_text().strip() == hub_token
    locks = sorted(git_env.hf_home.glob("*.lock")) + sorted(git_env.hf_home.glob(".*.lock"))
    assert git_env.hf_home / ".token.lock" in locks
    for lock in locks:  # ours, and huggingface_hub's stored_tokens lock where it is taken too
        mode = stat.S_IMODE(lock.stat().st_mode)
        assert mode == 0o600, f"filelock {version}: {lock.name} is {oct(mode)}, not 0o600"


def test_the_checkout_is_what_the_venv_imports(venv):
    """The .pth files put this checkout first (not an installed copy), the venv's own
    site-packages before the test environment's."""
    code = "import git_credential_hf; print(git_credential_hf.__file__)"
    where = subprocess.run([str(venv), "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert Path(where).resolve() == REPO_ROOT / "git_credential_hf" / "__init__.py"
    code = "import sys, sysconfig; p = sys.path; print(p.index(sysconfig.get_paths()['purelib']))"
    own = int(subprocess.run([str(venv), "-c", code], capture_output=True, text=True,
                             check=True).stdout)
    code = f"import sys; print(sys.path.index({sysconfig.get_paths()['purelib']!r}))"
    borrowed = int(subprocess.run([str(venv), "-c", code], capture_output=True, text=True,
                                  check=True).stdout)
    assert own < borrowed
