#!/usr/bin/env python3
"""`get` on a plain token cache against one holding OAuth logins (issue 8's closing numbers).

Interleaved rounds (each case once per round, shuffled with a fixed seed), median and p90 wall
time of: ``python -c pass``; ``git-credential-hf get`` with 20 named plain tokens; the same with
20 named tokens of which the active one is an OAuth login (refresh token, expiry 20 days away:
no refresh due).

    scripts/bench_lifecycle.py [--rounds 25] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "huggingface.co"


def helper_command() -> list[str]:
    found = shutil.which("git-credential-hf", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "git_credential_hf"]


def make_cache(folder: Path, oauth: bool) -> dict[str, str]:
    folder.mkdir(parents=True)
    sections = []
    for i in range(19):
        sections.append(f"[token-{i:02d}]\nhf_token = hf_{i:02d}" + "x" * 32 + "\n")
    active = "hf_active" + "a" * 30
    if oauth:
        expires = int(time.time()) + 20 * 86400
        sections.append(f"[oauth-alice]\nhf_token = {active}\nrefresh_token = "
                        f"hf_oauth_refresh_{'r' * 30}\nexpires_at = {expires}\n")
    else:
        sections.append(f"[laptop]\nhf_token = {active}\n")
    (folder / "stored_tokens").write_text("\n".join(sections))
    (folder / "token").write_text(active)
    for p in folder.iterdir():
        p.chmod(0o600)
    return {"HF_HOME": str(folder)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    try:
        base = {k: v for k, v in os.environ.items()
                if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                             "HF_STORED_TOKENS_PATH", "HF_OIDC_RESOURCE", "HF_ENDPOINT")}
        base["HOME"] = str(tmp)
        helper = helper_command()
        request = f"protocol=https\nhost={HOST}\n\n".encode()
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], base, b""),
            "get, plain cache (20 tokens)": (
                [*helper, "get"], {**base, **make_cache(tmp / "plain", False)}, request),
            "get, OAuth cache (20 tokens, no refresh due)": (
                [*helper, "get"], {**base, **make_cache(tmp / "oauth", True)}, request),
        }
        for _name, (cmd, env, stdin) in cases.items():  # warm up, check it answers
            out = subprocess.run(cmd, input=stdin, env=env, capture_output=True, check=True)
            assert not stdin or b"password=" in out.stdout, out
        times: dict[str, list[float]] = {name: [] for name in cases}
        rng = random.Random(8)
        for _ in range(args.rounds):
            order = list(cases)
            rng.shuffle(order)
            for name in order:
                cmd, env, stdin = cases[name]
                start = time.perf_counter()
                subprocess.run(cmd, input=stdin, env=env, capture_output=True, check=True)
                times[name].append((time.perf_counter() - start) * 1000)
        report = {
            name: {"median_ms": round(statistics.median(t), 2),
                   "p90_ms": round(sorted(t)[int(0.9 * (len(t) - 1))], 2), "runs": len(t)}
            for name, t in times.items()
        }
        floor = report["python -c pass"]["median_ms"]
        for row in report.values():
            row["over_python_ms"] = round(row["median_ms"] - floor, 2)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print("| case | median ms | p90 ms | over python -c pass | runs |")
            print("|---|---|---|---|---|")
            for name, row in report.items():
                print(f"| {name} | {row['median_ms']} | {row['p90_ms']} | "
                      f"{row['over_python_ms']} | {row['runs']} |")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
