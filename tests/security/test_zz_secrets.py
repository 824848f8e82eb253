"""Secrets: no token body in any output, except ``get``'s own ``password=`` line.

Every CLI call of this suite goes through ``conftest.run_cli``, which checks its stdout and
stderr on the spot and records them; at the end of the session, whatever subset ran, the
conftest's ``pytest_sessionfinish`` audits the whole record and what the tests printed: no
token, nor any 8 characters of one, anywhere else (a leak fails the run). A battery of its own
makes the audit meaningful when this file runs alone: every subcommand, success and failure paths, tokens
in argv, stdin and the environment. Exceptions' ``str``/``repr``/traceback are checked
in-process.
"""

from __future__ import annotations

import io
import traceback

import pytest

from git_credential_hf import _login, helper, hub, protocol, tokens


def test_every_subcommand_masks_tokens(sec, fake_hub) -> None:
    write, read = sec.make_token("sec-write"), sec.make_token("sec-read")
    revoked, org = sec.make_token("sec-revoked"), sec.make_token("sec-org", prefix="api_org_")
    fake_hub.add_token(write, display_name="laptop")
    fake_hub.add_token(read, role="read", display_name="ro")
    env = fake_hub.env()
    run, helper_run = sec.run_cli, sec.run_helper
    calls = [
        run(["login", "--token-stdin"], write.encode() + b"\n", env=env),
        run(["login", "--token", write], env=env),
        run(["login", "--token-stdin"], revoked.encode() + b"\n", env=env),
        run(["login", "--token-stdin"], org.encode() + b"\n", env=env),
        run(["login", "--token-stdin", "--write-permission"], read.encode() + b"\n", env=env),
        run(["login", "--token-stdin"], b"  " + write.encode() + b" \r\n", env=env),
        run(["whoami"], env=env),
        run(["status"], env=env),
        helper_run("get", fake_hub.request(), env=env),
        helper_run("get", sec.request(host="huggingface.co.evil.example"), env=env),
        helper_run("store", fake_hub.request(password=revoked), env=env),
        helper_run("store", fake_hub.request(password=read), env=env),
        helper_run("erase", fake_hub.request(password=read), env=env),
        helper_run("erase", fake_hub.request(password=write), env=env),
        helper_run("store", fake_hub.request(password=write + "\x01"), env=env),
        helper_run("store", fake_hub.request()[:-1] + write.encode() + b"\n\n", env=env),
        run(["whoami"], env={**env, "HF_TOKEN": revoked}),
        run(["status"], env={**env, "HF_TOKEN": read}),
        run(["logout"], env={**env, "HF_TOKEN": read}),
        run(["whoami"], env=env),
        run(["logout"], env=env),
        run(["login", "--token-stdin"], write.encode() + b"\n", env=env),
        run(["bogus", write], env=env),
        run([write], env=env),
        run(["login", "--token", write, "--no-such-flag"], env=env),
    ]
    fake_hub.tokens.pop(write)
    calls.append(helper_run("erase", fake_hub.request(password=write), env=env))
    for behavior in ("500", "429:7", "badjson", "redirect:http://127.0.0.1:9"):
        fake_hub.behavior = behavior
        calls.append(run(["login", "--token-stdin"], read.encode() + b"\n", env=env))
    assert all(not c.leaks() for c in calls)
    # the masked form does appear: the user can tell which token a message is about
    assert any(tokens.mask(write) in c.out + c.err for c in calls)


@pytest.mark.parametrize("args", [
    pytest.param(["login", "{t}"], id="login-positional"),  # the natural slip
    pytest.param(["login", "--tokne={t}"], id="login-typo-flag"),
    pytest.param(["whoami", "--token={t}"], id="whoami-flag"),
    pytest.param(["logout", "{t}"], id="logout-positional"),
    pytest.param(["setup", "{t}"], id="setup"),
])
def test_argument_errors_do_not_echo_a_token(sec, args) -> None:
    """A usage error must not print the token the user typed (terminal logs, CI logs)."""
    token = sec.make_token("sec-argv")
    call = sec.run_cli([a.format(t=token) for a in args], check_leaks=False)
    assert call.returncode == 2 and len(call.err.splitlines()) == 1, call
    assert not call.leaks(), f"usage error echoes the token: {call.err!r}"


def test_exception_messages_and_tracebacks_are_masked(sec, fake_hub, make_hub) -> None:
    token = sec.make_token("sec-exc")
    short = "hf_" + token[3:10]
    errors: list[BaseException] = []

    def catch(fn, *args):
        try:
            fn(*args)
        except BaseException as e:
            errors.append(e)
        else:
            pytest.fail(f"{fn.__name__} did not raise")

    catch(hub.whoami, token, fake_hub.url)  # 401
    for behavior in ("500", "429:3", "badjson", "notdict", "huge", "close",
                     "redirect:http://127.0.0.1:9"):
        other = make_hub()
        other.behavior = behavior
        other.add_token(token)
        catch(hub.whoami, token, other.url)
    catch(hub.whoami, token, "http://127.0.0.1:9")  # refused
    catch(hub.whoami, "api_org_" + token[3:], fake_hub.url)
    catch(hub.whoami, token + " x", fake_hub.url)
    catch(tokens.save_token, token + "\n")
    catch(_login.login, token)
    catch(_login.whoami, token)
    catch(protocol.parse_bytes, f"password={token}\n{token}\n".encode())
    catch(protocol.parse_bytes, f"password={token}\x00\n".encode())
    assert len(errors) == 16

    secrets = {token, "api_org_" + token[3:], token[3:], short}
    for error in errors:
        chain, seen = [], error
        while seen is not None:  # the context a `from None` hides is still attached
            chain.append(seen)
            seen = seen.__cause__ or seen.__context__
        texts = [str(e) for e in chain] + [repr(e) for e in chain]
        # the three-argument form: Python 3.9 has no format_exception(error)
        parts = (type(error), error, error.__traceback__)
        texts.append("".join(traceback.format_exception(*parts, chain=False)))
        texts.append("".join(traceback.format_exception(*parts, chain=True)))
        for text in texts:
            assert not any(s in text for s in secrets), f"{type(error).__name__}: {text[:300]}"
            assert not sec.find_leaks(text)

    cred = protocol.parse_bytes(f"protocol=https\nhost=hf.co\npassword={token}\n".encode())
    assert token not in repr(cred) and token not in str(cred)


def test_helper_crash_message_holds_no_token(sec, monkeypatch) -> None:
    """An unexpected exception in store/erase is reduced to its type name on stderr."""
    token = sec.make_token("sec-crash")

    def boom(cred, ctx=None):
        raise RuntimeError(f"boom with {cred.password}")

    monkeypatch.setattr(helper, "store", boom)
    err = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(
        f"protocol=https\nhost=huggingface.co\npassword={token}\n\n".encode())))
    monkeypatch.setattr("sys.stderr", err)
    assert helper.main("store") == 1
    assert err.getvalue() == "git-credential-hf: store failed: RuntimeError\n"


def test_the_session_audit_finds_leaks_in_calls_and_prints(sec) -> None:
    """The suite-wide audit runs at session end (conftest ``pytest_sessionfinish``) over
    whatever ran; here, its check itself, fed one leak of each kind and clean ones."""
    token = sec.make_token("sec-audit")
    clean = sec.Call(["store"], 1, b"", f"masked {tokens.mask(token)}\n".encode(), 0.1)
    leaky = sec.Call(["store"], 1, b"", f"oops {token[5:15]}\n".encode(), 0.1)
    answer = sec.Call(["get"], 0, f"password={token}\n".encode(), b"", 0.1)
    assert sec.audit([clean, answer], [("t", "nothing secret")]) == []
    assert len(sec.audit([leaky], [])) == 1
    assert len(sec.audit([], [("t (call)", f"printed {token}")])) == 1
