"""Issue 9, item 3: every printed git config value is masked.

``status``, ``setup``, ``setup --unset`` and ``logout`` print other helpers' ``credential.helper``
values. A CI snippet like ``!f() { echo username=x; echo password=hf_…; }; f`` holds the token
itself. Before: printed verbatim (into CI logs). After: token-shaped runs are masked as
``hf_****abcd`` and anything after ``password=`` is hidden.
"""

from __future__ import annotations

import subprocess

PLAIN_SECRET = "correct-horse-battery-staple"  # not token-shaped: hidden because of password=


def _git_config(env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", "config", "--global", *args], env=env, check=True,
                   capture_output=True)


def test_helper_values_holding_secrets_are_masked_everywhere(sec, fake_hub, tmp_path) -> None:
    import os

    sec.register_secret(PLAIN_SECRET)
    token, ci_token = sec.make_token("printed-login"), sec.make_token("printed-ci")
    fake_hub.add_token(token)
    home = tmp_path / "home"
    home.mkdir()
    env = {**fake_hub.env(), "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
           "HF_HOME": str(home / "hf"), "GIT_CONFIG_NOSYSTEM": "1"}
    git_env = {**os.environ, **env}
    generic = f"!f() {{ t={ci_token}; echo username=ci; echo password=$t; }}; f"
    scoped = f"!f() {{ test $1 = get && echo password={PLAIN_SECRET}; }}; f"
    _git_config(git_env, "--add", "credential.helper", generic)
    _git_config(git_env, "--add", f"credential.{fake_hub.url}.helper", scoped)

    calls = {
        "status-before": sec.run_cli(["status"], env=env, check_leaks=False),
        "setup": sec.run_cli(["setup"], env=env, check_leaks=False),
        "login": sec.run_cli(["login", "--token-stdin"], token.encode() + b"\n", env=env,
                             check_leaks=False),
        "status": sec.run_cli(["status"], env=env, check_leaks=False),
        "logout": sec.run_cli(["logout"], env=env, check_leaks=False),
        "setup-unset": sec.run_cli(["setup", "--unset"], env=env, check_leaks=False),
    }
    for name, call in calls.items():
        assert b"Traceback" not in call.stderr, name
        assert not call.leaks(), f"{name} prints a secret from git config: {call.out}{call.err}"
    # the values are still recognisable: the masked token and the helper's shape are shown
    shown = calls["status-before"].out + calls["setup"].out + calls["logout"].out
    assert sec.find_leaks(shown) == [] and "hf_****" + ci_token[-4:] in shown
    assert "password=****" in calls["status-before"].out
