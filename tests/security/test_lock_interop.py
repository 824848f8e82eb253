"""Issue 9 item 7: our writers of `stored_tokens` and huggingface_hub's locked writers (its
`_save_token` under `WeakFileLock(<stored_tokens>.lock)`, as its OAuth refresh runs it) must not
lose each other's entries. Before both sides shared a lock, 40 + 40 racing writers kept about
30 of ours and 1 of theirs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import needs_hf_hub_2

PROCESSES = 8  # per side
WRITES = 5  # per process: 40 + 40 writes in all

OURS = r"""
import os, sys, time
from git_credential_hf import tokens
gate, who, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
while not os.path.exists(gate):
    time.sleep(0.001)
for i in range(n):
    tokens.save_token(f"hf_ours{who:02d}{i:02d}" + "x" * 28, f"ours-{who}-{i}")
"""

THEIRS = r"""
import os, sys, time
from huggingface_hub import constants
from huggingface_hub.utils._auth import _save_token
from huggingface_hub.utils._fixes import WeakFileLock
gate, who, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
while not os.path.exists(gate):
    time.sleep(0.001)
for i in range(n):
    with WeakFileLock(constants.HF_STORED_TOKENS_PATH + ".lock", timeout=60):
        _save_token(f"hf_hub{who:02d}{i:02d}" + "y" * 29, f"hub-{who}-{i}",
                    refresh_token="r" * 20, expires_at=2_000_000_000)
"""


@pytest.mark.timeout(300)
@needs_hf_hub_2
def test_our_writers_and_huggingface_hubs_locked_writers_keep_every_entry(tmp_path: Path) -> None:
    from git_credential_hf import tokens

    home = Path(os.environ["HF_HOME"])
    home.mkdir(parents=True)
    gate = tmp_path / "go"
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(gate), str(who), str(WRITES)], env=env)
        for who in range(PROCESSES)
        for script in (OURS, THEIRS)
    ]
    time.sleep(3)  # let every interpreter start and import before the gate opens
    gate.touch()
    codes = [p.wait(timeout=240) for p in procs]
    assert codes == [0] * len(procs)
    sections = tokens.stored_sections()
    ours = [n for n in sections if n.startswith("ours-")]
    theirs = [n for n in sections if n.startswith("hub-")]
    assert (len(ours), len(theirs)) == (PROCESSES * WRITES, PROCESSES * WRITES)
    assert all(sections[n]["refresh_token"] == "r" * 20 for n in theirs)
