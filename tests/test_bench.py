"""Smoke test of scripts/bench: it runs end to end and its JSON has the promised shape.

No timing assertion: budgets are the benchmark's business (a quiet machine, 30+ rounds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # not run on the extra Pythons of .ci/run (pyproject: markers)

BENCH = Path(__file__).resolve().parents[1] / "scripts" / "bench"
CASES = {"get_hub", "get_other", "python_pass", "console_floor", "store_get", "hf_hub",
         "ls_helper", "ls_store", "ls_py_floor",
         # get with 20 stored tokens and accounts (each verified to answer the right token)
         "get_many", "get_username", "get_unknown_user", "get_guard_window", "get_oauth"}
RATIOS = {"get / floor", "get / python", "non-Hub get / floor", "hf_hub / get",
          "ls-remote helper / Python floor", "ls-remote helper / store"}
BUDGETS = {"get / floor", "non-Hub get / floor", "hf_hub / get", "ls-remote helper / Python floor"}


@pytest.mark.timeout(120)
def test_quick_json_run_has_every_case_ratio_and_budget() -> None:
    pytest.importorskip("huggingface_hub")  # the hf_hub case exists only when it is installed
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--rounds", "3", "--json"],
                          capture_output=True, text=True, timeout=110, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    assert report["quick"] is True and report["enforced"] is False and report["rounds"] == 3
    assert set(report["cases"]) == CASES
    for name, case in report["cases"].items():
        assert len(case["samples_ms"]) == 3, name
        assert all(v > 0 for v in case["samples_ms"]), name
        assert 0 < case["min_ms"] <= case["median_ms"] <= case["p90_ms"], name
        assert case["label"] and case["command"], name
        floor = report["cases"]["python_pass"]["median_ms"]
        assert case["over_python_ms"] == pytest.approx(case["median_ms"] - floor, abs=0.002), name
    assert set(report["ratios"]) == RATIOS
    assert {b["name"] for b in report["budgets"]} == BUDGETS
    for budget in report["budgets"]:
        assert budget["op"] in ("<=", ">=") and isinstance(budget["ok"], bool)
        assert budget["ratio"] == report["ratios"][budget["name"]]
    assert report["ok"] == all(b["ok"] for b in report["budgets"])
    assert "PYTHONDONTWRITEBYTECODE unset" in report["bytecode"]
    assert isinstance(report["machine"]["loadavg_before"], list)
    assert isinstance(report["notes"], list)
    assert "hf_Bench" not in proc.stdout.replace("hf_****", "")  # the token is never printed


def test_fewer_than_30_rounds_needs_quick() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--rounds", "3"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "--rounds must be >= 30" in proc.stderr
