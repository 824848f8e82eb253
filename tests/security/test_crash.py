"""Crash safety: writers killed with SIGKILL at random moments while they save.

A writer process saves token after token (``tokens.save_token`` with a name, so both the token
file and ``stored_tokens`` are rewritten), announcing each save on stdout before it starts; it is
killed after a random delay. The token file must then hold the old or the new token — the last
announced one or the one before — never an empty or partial file; ``stored_tokens`` must parse;
modes stay 0600. The real ``login --token-stdin`` is killed the same way.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # not run on the extra Pythons of .ci/run (pyproject: markers)

KILLS = 200  # loop writers, over LANES independent caches at once
LANES = 2
CLI_KILLS = 24  # real `login --token-stdin` processes
SEED = 20240611

WRITER = r"""
import os, sys
import configparser, filelock, io, tempfile  # what the first save would import: kills must
from git_credential_hf import tokens           # land in saves, not in imports
lane = sys.argv[1]
start = int(sys.argv[2])
os.write(1, b"ready\n")
i = start
while True:
    os.write(1, b"%d\n" % i)
    tokens.save_token("hf_%s%031d" % (lane, i), "name%d" % (i % 3))
    i += 1
"""


def token_for(lane: str, i: int) -> str:
    return f"hf_{lane}{i:031d}"


def check_cache(home: Path, allowed: set[str], everything: set[str]) -> str:
    token_file = home / "token"
    content = token_file.read_text()
    assert content in allowed, f"token file holds {content[:12]!r}…, not the old or new token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    stored = home / "stored_tokens"
    if stored.exists():
        import configparser

        config = configparser.ConfigParser(interpolation=None)
        config.read_string(stored.read_text())  # raises on a partial file
        assert {config.get(s, "hf_token") for s in config.sections()} <= everything
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    for tmp in home.glob(".tmp-*"):
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o600, "a world-readable temporary file"
    return content


def kill_lane(lane: str, home: Path, kills: int, rng: random.Random, stats: dict,
              run_cli) -> None:
    env = {**os.environ, "HF_HOME": str(home), "HF_TOKEN_PATH": "", "HF_STORED_TOKENS_PATH": ""}
    home.mkdir(parents=True)
    first = token_for(lane, 0)
    (home / "token").write_text(first)
    (home / "token").chmod(0o600)
    current, everything, next_i = first, {first}, 1
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, lane, str(next_i)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                bufsize=0)  # no read-ahead: every announcement is counted
        assert proc.stdout.readline() == b"ready\n", proc.stderr.read()
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        announced = [int(x) for x in out.split()]
        if announced:
            last = announced[-1]
            everything |= {token_for(lane, i) for i in announced}
            allowed = {token_for(lane, last)}
            allowed.add(token_for(lane, last - 1) if len(announced) > 1 else current)
            stats["saves_begun"] += len(announced)
            next_i = last + 1
        else:
            allowed = {current}
        current = check_cache(home, allowed, everything)
        stats["kills"] += 1
        left = len(list(home.glob(".tmp-*")))
        stats["temp_total"] += left
        # A killed writer's temporary file is swept by the next writer: at most one per file.
        assert left <= 2, f"{left} temporary files pile up"
        stats["temp_seen"] = max(stats["temp_seen"], left)
    # logout leaves no copy of any token behind, not even in a crashed writer's leftovers
    call = run_cli(["logout"], env={"HF_HOME": str(home)})
    assert call.returncode == 0, call
    assert not (home / "token").exists() and not list(home.glob(".tmp-token-*"))
    leftovers = [p.name for p in home.iterdir() if p.is_file() and current.encode() in p.read_bytes()]
    assert leftovers == [], f"the logged-out token survives in {leftovers}"


def test_sigkill_during_save_leaves_old_or_new_token(sec, tmp_path) -> None:
    stats = {"kills": 0, "saves_begun": 0, "temp_seen": 0, "temp_total": 0}
    errors: list[BaseException] = []

    def lane(k: int) -> None:
        try:
            kill_lane(chr(ord("A") + k), tmp_path / f"lane{k}", KILLS // LANES,
                      random.Random(SEED + k), stats, sec.run_cli)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(LANES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    assert stats["kills"] == KILLS
    assert stats["saves_begun"] >= KILLS // 2, f"kills rarely hit a save: {stats}"
    assert stats["temp_total"] > 0, f"no kill landed between temp file and rename: {stats}"
    print(f"\ncrash: {stats}")


def test_sigkill_during_real_login(sec, fake_hub, tmp_path) -> None:
    """``login --token-stdin`` killed at random moments (its save comes after the whoami call):
    each cache holds its old token or the new one."""
    rng = random.Random(SEED)
    outcomes = {"old": 0, "new": 0}
    # How long one login takes here; 4 run at once, so kills spread over 0.5–2.5 times that.
    probe = sec.make_token("kill-probe")
    fake_hub.add_token(probe)
    timing = [sec.run_cli(["login", "--token-stdin"], probe.encode() + b"\n",
                          env={**fake_hub.env(), "HF_HOME": str(tmp_path / f"probe{k}")})
              for k in range(2)]
    span = max(c.elapsed for c in timing)
    for batch in range(CLI_KILLS // 4):
        procs = []
        for k in range(4):
            home = tmp_path / f"b{batch}-{k}"
            home.mkdir()
            old, new = sec.make_token(f"kill-old-{batch}-{k}"), sec.make_token(f"kill-{batch}-{k}")
            fake_hub.add_token(new, display_name=f"kill-{batch}-{k}")
            (home / "token").write_text(old)
            (home / "token").chmod(0o600)
            proc = sec.start_cli(["login", "--token-stdin"], {**fake_hub.env(),
                                                              "HF_HOME": str(home)})
            proc.stdin.write(new.encode() + b"\n")
            proc.stdin.close()
            procs.append((proc, home, old, new, rng.uniform(0.5, 2.5) * span))
        started = time.monotonic()
        for proc, home, old, new, delay in sorted(procs, key=lambda p: p[4]):
            time.sleep(max(0.0, started + delay - time.monotonic()))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            out, err = proc.stdout.read(), proc.stderr.read()
            assert not sec.find_leaks(out.decode() + err.decode())
            content = check_cache(home, {old, new}, {old, new})
            outcomes["old" if content == old else "new"] += 1
    print(f"\nreal login kills: {outcomes} (a login takes {span:.2f} s)")
    assert sum(outcomes.values()) == CLI_KILLS
