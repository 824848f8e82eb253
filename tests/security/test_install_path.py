"""Issue 9, item 7: ``setup`` and ``status`` check that the helper command they write starts.

pip writes the launcher's shebang as ``#!<venv>/bin/python``; under a folder with a space
(``~/My Projects/venv``) the kernel cannot run it. Before: ``setup`` still wrote
``!'<venv>/bin/git-credential-hf'``, hid the other helpers for Hub URLs, and ``status`` said
"ok": the user lost a working setup. After: the command is started once (``get`` for a host
that is not the Hub, under a timeout) and an install path that is not shell-safe gets a form
that works; ``status`` reports a helper command that does not start.

A real venv under a path with a space, with this project installed into it by pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


DEPENDENCIES = ("requests", "urllib3", "idna", "certifi", "charset_normalizer", "filelock",
                "pip")


@pytest.fixture(scope="module")
def spaced_venv(tmp_path_factory) -> Path:
    """``<tmp>/My Projects/venv`` with git-credential-hf installed from a wheel by pip. No
    network: the wheel is built by this environment's pip, and the dependencies (not this
    project: pip would see it installed) are linked in from this environment."""
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--wheel-dir", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    if build.returncode != 0:
        pytest.fail(f"cannot build the wheel: {build.stderr[-800:]}")
    deps = base / "deps"
    deps.mkdir()
    outer = Path(sysconfig.get_paths()["purelib"])
    for name in DEPENDENCIES:
        (deps / name).symlink_to(outer / name)
    venv = base / "My Projects" / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"], check=True,
                             capture_output=True, text=True).stdout.strip()
    Path(purelib, "test-deps.pth").write_text(f"{deps}\n")
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-index", "--no-warn-script-location",
                           *map(str, wheels.glob("*.whl"))],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.fail(f"pip install into the spaced venv failed: {proc.stderr[-800:]}")
    installed = subprocess.run([str(python), "-c", "import git_credential_hf, sys; "
                                "sys.stdout.write(git_credential_hf.__file__)"],
                               capture_output=True, text=True, check=True, cwd=base).stdout
    assert installed.startswith(str(venv)), installed  # the copy in the venv, not the source
    return venv


def _env(tmp_path: Path, hub) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if "My Projects" not in p)
    return {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1", "HF_HOME": str(home / "hf"), "HF_ENDPOINT": hub.url,
            "GIT_TERMINAL_PROMPT": "0", "PATH": path, "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1"}


def _run(sec, argv: list[str], env: dict[str, str], stdin: str = "",
         audit: bool = True) -> subprocess.CompletedProcess:
    # never from this source tree: `python -m` imports from the working directory first
    proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                          timeout=60, check=False, cwd=env["HOME"])
    assert not (audit and sec.find_leaks(proc.stdout + proc.stderr)), argv
    return proc


def _fill(sec, hub, env: dict[str, str]) -> str:
    proc = _run(sec, ["git", "credential", "fill"], env,
                f"protocol=http\nhost={hub.host}\n\n", audit=False)  # the answer holds it
    return next((ln[len("password="):] for ln in proc.stdout.splitlines()
                 if ln.startswith("password=")), "")


def test_the_launcher_under_a_spaced_path_cannot_start(spaced_venv) -> None:
    """The premise (passes before and after): pip's shebang is broken under such a path."""
    launcher = spaced_venv / "bin" / "git-credential-hf"
    assert b" " in launcher.read_bytes().split(b"\n", 1)[0]
    try:  # the kernel reads the interpreter as ".../My" and finds nothing there
        proc = subprocess.run([str(launcher), "--version"], capture_output=True, check=False)
    except OSError:
        return
    assert proc.returncode != 0


def test_login_and_setup_from_a_spaced_venv_give_git_a_working_helper(sec, fake_hub,
                                                                      spaced_venv,
                                                                      tmp_path) -> None:
    token = sec.make_token("spaced-venv")
    fake_hub.add_token(token)
    env = _env(tmp_path, fake_hub)
    python = str(spaced_venv / "bin" / "python")
    login = _run(sec, [python, "-m", "git_credential_hf", "login", "--token-stdin",
                       "--add-to-git-credential"], env, token + "\n")
    assert login.returncode == 0, login.stderr
    assert _fill(sec, fake_hub, env) == token, "git cannot run the helper setup wrote"
    status = _run(sec, [python, "-m", "git_credential_hf", "status"], env)
    assert status.returncode == 0, status.stdout + status.stderr


def test_status_reports_a_helper_command_that_does_not_start(sec, fake_hub, spaced_venv,
                                                             tmp_path) -> None:
    """What the old ``setup`` wrote for that venv: ``status`` must not say "ok"."""
    token = sec.make_token("spaced-status")
    env = {**_env(tmp_path, fake_hub), "HF_TOKEN": token}
    broken = "!'" + str(spaced_venv / "bin" / "git-credential-hf") + "'"
    key = f"credential.{fake_hub.url}.helper"
    subprocess.run(["git", "config", "--global", "--add", key, ""], env=env, check=True)
    subprocess.run(["git", "config", "--global", "--add", key, broken], env=env, check=True)
    status = _run(sec, [str(spaced_venv / "bin" / "python"), "-m", "git_credential_hf",
                        "status"], env)
    assert status.returncode == 1, status.stdout
    assert "ok:" not in status.stdout
    assert "start" in status.stderr and "git-credential-hf setup" in status.stderr
