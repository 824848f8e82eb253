#!/usr/bin/env python3
"""Measure git-lfs's retry loop on a refused token (issue 10's "before/after" number).

A local Hub (scripts/local_hub.py) holds a repo with one LFS object. A clone of it runs
`git lfs fetch --all` with git-credential-hf as its only helper and `HF_TOKEN` set to a token the
Hub refuses. The run is bounded: after `--seconds` the whole process group is killed. Prints (or
returns, from `measure()`) the number of LFS batch requests the Hub received, whoami calls, the
wall time and how git-lfs ended. Standard library only; needs git, git-lfs and the installed
`git-credential-hf` (next to this interpreter, else on PATH, else `--helper`).

    python scripts/lfs_retry_storm.py --seconds 20
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_hub import LocalHub

WRITE = "hf_" + "StormWriteStormWriteStormWrite1234"
REFUSED = "hf_" + "StormRefusedStormRefusedStormRe999"
REPO = "alice/model"


def find_helper() -> str | None:
    return (shutil.which("git-credential-hf", path=os.path.dirname(sys.executable))
            or shutil.which("git-credential-hf"))


def _env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "HF_", "HUGGING_FACE_")) and k not in (
               "SSH_ASKPASS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")}
    env.update({
        "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "HF_HOME": str(home / "hf"),
        "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache"),
        "GIT_AUTHOR_NAME": "Storm", "GIT_AUTHOR_EMAIL": "storm@example.com",
        "GIT_COMMITTER_NAME": "Storm", "GIT_COMMITTER_EMAIL": "storm@example.com",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        **extra,
    })
    return env


def _git(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    cwd = cwd or Path(env["HOME"])  # never inside a checkout: its config would apply
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def measure(seconds: float = 20.0, helper: str | None = None, workdir: str | None = None,
            refused: str = REFUSED) -> dict:
    """Run the refused-token `git lfs fetch --all` for at most `seconds`; returns the numbers."""
    helper = helper or find_helper()
    if not helper:
        raise RuntimeError("git-credential-hf is not installed (pip install -e .)")
    tmp = Path(workdir or tempfile.mkdtemp(prefix="lfs-storm-"))
    try:
        home = tmp / "home"
        home.mkdir(parents=True)
        (home / "gitconfig").touch()
        with LocalHub(tmp / "hub") as hub:
            hub.add_token(WRITE, user="alice")
            hub.create_repo(REPO)
            env = _env(home, {})
            _git(env, "lfs", "install", "--skip-repo")
            # Seed the Hub with one LFS object, URL credentials only (no helper involved).
            seed = tmp / "seed"
            _git(env, "-c", "credential.helper=", "clone", "-q",
                 hub.url.replace("http://", f"http://alice:{WRITE}@") + f"/{REPO}", str(seed))
            _git(env, "lfs", "track", "*.bin", cwd=seed)
            (seed / "weights.bin").write_bytes(os.urandom(64 * 1024))
            _git(env, "add", ".", cwd=seed)
            _git(env, "commit", "-q", "-m", "weights", cwd=seed)
            _git(env, "-c", "credential.helper=", "-c", "lfs.locksverify=false", "push", "-q",
                 "origin", "main", cwd=seed)
            # The clone under test: from disk, pointers only, origin = the Hub over HTTP.
            work = tmp / "work"
            _git({**env, "GIT_LFS_SKIP_SMUDGE": "1"}, "clone", "-q",
                 str(hub.root / f"{REPO}.git"), str(work))
            _git(env, "remote", "set-url", "origin", f"{hub.url}/{REPO}", cwd=work)
            _git(env, "config", "--global", f"credential.{hub.url}.helper", helper)
            run_env = _env(home, {"HF_ENDPOINT": hub.url, "HF_TOKEN": refused})
            batch = f"/{REPO}.git/info/lfs/objects/batch"
            batch_before, whoami_before = hub.count(batch), hub.count("/api/whoami-v2")
            start = time.monotonic()
            proc = subprocess.Popen(["git", "lfs", "fetch", "--all"], cwd=work, env=run_env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
            try:
                out, err = proc.communicate(timeout=seconds)
                ended = f"exit {proc.returncode}"
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # git-lfs and the helpers it started
                out, err = proc.communicate()
                ended = f"still running after {seconds:g} s: killed"
            wall = time.monotonic() - start
            stderr_lines = err.decode(errors="replace").splitlines()
            return {
                "batch_requests": hub.count(batch) - batch_before,
                "whoami_requests": hub.count("/api/whoami-v2") - whoami_before,
                "wall_s": round(wall, 2), "ended": ended,
                "stderr_lines": len(stderr_lines),
                "stderr_tail": stderr_lines[-3:],
                "token_in_output": refused in (out + err).decode(errors="replace"),
            }
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="kill git-lfs after this")
    parser.add_argument("--helper", help="path of git-credential-hf (default: installed one)")
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.helper)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
