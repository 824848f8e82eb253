"""A Hub that misbehaves: whoami trickling bytes, hanging, 5xx, 429 with Retry-After, invalid
JSON, a huge body, a dropped connection, a refused port, a redirect to another host.

Every ``store`` / ``erase`` / ``login --token-stdin`` / ``whoami`` must end within 15 s with
one clear line on stderr and a non-zero exit, store nothing it should not (store and login
save nothing; erase keeps the saved token: only a 401 may remove it), and a redirect must not
carry the token anywhere: the other host receives no request at all.
"""

from __future__ import annotations

import threading

import pytest
from support import closed_port

LIMIT_S = 15
OPS = ("store", "erase", "login", "whoami")
SLOW_OPS = ("store", "erase", "login")  # 9 processes at once: startup must not eat the margin
SLOW = ("trickle", "trickle-chunked", "hang")
FAST = ("500", "503", "429:30", "badjson", "html", "notdict", "huge", "close", "redirect",
        "refused")


def _prepare(sec, fake_hub, tmp_path, label: str, op: str):
    """A cache of its own for one operation: (args, stdin, env, home, saved, new)."""
    saved, new = sec.make_token(f"net-saved-{label}-{op}"), sec.make_token(f"net-new-{label}-{op}")
    fake_hub.add_token(saved, display_name="saved")
    fake_hub.add_token(new, display_name="new")
    home = tmp_path / f"{label}-{op}".replace(":", "_")
    home.mkdir()
    (home / "token").write_text(saved)
    (home / "token").chmod(0o600)
    (home / "stored_tokens").write_text(f"[saved]\nhf_token = {saved}\n\n")
    env = {**fake_hub.env(), "HF_HOME": str(home)}
    if op == "store":
        return ["store"], fake_hub.request(password=new), env, home
    if op == "erase":
        return ["erase"], fake_hub.request(password=saved), env, home
    if op == "login":
        return ["login", "--token-stdin"], new.encode() + b"\n", env, home
    return ["whoami"], b"", env, home


def _run_all(sec, jobs):
    """Start every job at once, finish them in threads; calls in job order."""
    procs = [sec.start_cli(args, env) for args, _stdin, env, _home in jobs]
    calls = [None] * len(jobs)

    def finish(k: int) -> None:
        calls[k] = sec.finish(procs[k], jobs[k][0], jobs[k][1], timeout=LIMIT_S + 30)

    threads = [threading.Thread(target=finish, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls


def _check(sec, label, jobs, calls, before) -> None:
    for (args, _stdin, _env, home), call, snap in zip(jobs, calls, before):
        where = f"{label} / {args[0]}"
        assert not call.timed_out and call.elapsed <= LIMIT_S, f"{where}: {call.elapsed:.1f} s"
        assert call.returncode not in (0, -9), f"{where}: {call}"
        assert b"Traceback" not in call.stderr
        lines = call.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("git-credential-hf: "), f"{where}: {lines}"
        assert sec.snapshot(home) == snap, f"{where}: the cache changed"


def _whoami_in_process(hub, token: str, result: dict) -> None:
    import time

    from git_credential_hf import hub as hub_module

    start = time.monotonic()
    try:
        hub_module.whoami(token, hub.url)
    except hub_module.HubUnavailableError as e:
        result["error"] = e
    result["elapsed"] = time.monotonic() - start


@pytest.mark.slow  # a wall-clock bound: .ci/run runs it with no neighbours
def test_slow_and_hanging_hub(sec, make_hub, tmp_path) -> None:
    """The slow cases run together: each must still end within the limit. Meanwhile the
    Python API (a notebook's login outlives the call) gives up on a trickling Hub in time and
    leaves no request behind, still reading."""
    import time

    trickling = make_hub()
    trickling.behavior = "trickle"
    api_token = sec.make_token("net-api")
    trickling.add_token(api_token)
    api: dict = {}
    api_thread = threading.Thread(target=_whoami_in_process, args=(trickling, api_token, api))
    api_thread.start()
    jobs, before = [], []
    for behavior in SLOW:
        hub = make_hub()
        hub.behavior = behavior
        for op in SLOW_OPS:
            job = _prepare(sec, hub, tmp_path, behavior, op)
            jobs.append(job)
            before.append(sec.snapshot(job[3]))
    calls = _run_all(sec, jobs)
    _check(sec, "slow", jobs, calls, before)
    for call in calls:
        assert any(w in call.err for w in ("slow", "timed out", "time")), call.err

    api_thread.join()
    assert api["elapsed"] <= LIMIT_S and "error" in api, api
    assert api_token not in str(api["error"]) and api_token not in repr(api["error"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _lingering():
        time.sleep(0.05)
    assert not _lingering(), "an abandoned whoami request is still running"


def _lingering() -> list:
    return [t for t in threading.enumerate() if t.name == "git-credential-hf-whoami"]


@pytest.mark.parametrize("behavior", FAST)
def test_failing_hub(sec, make_hub, tmp_path, behavior) -> None:
    hub = make_hub()
    elsewhere = make_hub()  # where a redirect points: it must never hear from us
    if behavior == "redirect":
        hub.behavior = f"redirect:{elsewhere.url}"
    elif behavior == "refused":
        port = closed_port()
    else:
        hub.behavior = behavior
    jobs, before = [], []
    for op in OPS:
        args, stdin, env, home = _prepare(sec, hub, tmp_path, behavior, op)
        if behavior == "refused":
            env["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
            stdin = stdin.replace(hub.host.encode(), f"127.0.0.1:{port}".encode())
        jobs.append((args, stdin, env, home))
        before.append(sec.snapshot(home))
    calls = _run_all(sec, jobs)
    _check(sec, behavior, jobs, calls, before)
    assert elsewhere.requests == [], "the redirect was followed"
    if behavior.startswith("429"):
        assert all("429" in c.err and "30" in c.err for c in calls), [c.err for c in calls]
    if behavior not in ("refused",):
        assert all(auth and auth.startswith("Bearer ") for _p, auth in hub.requests)


def test_token_is_never_sent_to_a_host_the_user_did_not_configure(sec, make_hub) -> None:
    """The Authorization header goes to the endpoint only: a 302/307/308 is not followed, and
    no request reaches the target at all."""
    target = make_hub()
    for code in ("redirect",):
        hub = make_hub()
        hub.behavior = f"{code}:{target.url}"
        token = sec.make_token("redirect-target")
        hub.add_token(token)
        call = sec.run_cli(["login", "--token-stdin"], token.encode() + b"\n", env=hub.env())
        assert call.returncode == 1 and "redirect" in call.err
        assert not sec.hf_home().joinpath("token").exists()
    assert target.requests == []

