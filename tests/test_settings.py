"""Endpoint, paths and token variables, read as huggingface_hub reads them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import cases

from git_credential_hf import settings


def test_defaults(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HOME")
    assert settings.endpoint() == "https://huggingface.co"
    assert settings.hf_home() == str(isolated_env / ".cache" / "huggingface")
    assert settings.token_path() == str(isolated_env / ".cache" / "huggingface" / "token")
    assert settings.stored_tokens_path() == str(isolated_env / ".cache" / "huggingface" / "stored_tokens")


PATH_CASES = [
    # (id, env, expected hf_home, expected token path, expected stored_tokens path); ~ is $HOME
    ("HF_HOME", {"HF_HOME": "/x/hf"}, "/x/hf", "/x/hf/token", "/x/hf/stored_tokens"),
    ("HF_HOME tilde", {"HF_HOME": "~/hf"}, "~/hf", "~/hf/token", "~/hf/stored_tokens"),
    ("HF_HOME $VAR", {"HF_HOME": "$MYDIR/hf", "MYDIR": "/m"}, "/m/hf", "/m/hf/token", "/m/hf/stored_tokens"),
    ("XDG_CACHE_HOME", {"HF_HOME": "", "XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface",
     "/xdg/huggingface/token", "/xdg/huggingface/stored_tokens"),
    ("empty XDG counts as unset", {"HF_HOME": "", "XDG_CACHE_HOME": ""}, "~/.cache/huggingface",
     "~/.cache/huggingface/token", "~/.cache/huggingface/stored_tokens"),
    ("HF_TOKEN_PATH moves stored_tokens too", {"HF_HOME": "/x", "HF_TOKEN_PATH": "/t/tok"}, "/x",
     "/t/tok", "/t/stored_tokens"),
    ("HF_TOKEN_PATH tilde", {"HF_TOKEN_PATH": "~/tok"}, None, "~/tok", "~/stored_tokens"),
    ("HF_STORED_TOKENS_PATH", {"HF_HOME": "/x", "HF_STORED_TOKENS_PATH": "$HOME/st"}, "/x",
     "/x/token", "~/st"),
    ("empty HF_TOKEN_PATH counts as unset", {"HF_HOME": "/x", "HF_TOKEN_PATH": ""}, "/x", "/x/token",
     "/x/stored_tokens"),
]


@pytest.mark.parametrize(("env", "home", "token", "stored"), cases(PATH_CASES))
def test_paths(env: dict[str, str], home: str | None, token: str, stored: str,
               isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def expand(p: str) -> str:
        return p.replace("~", str(isolated_env), 1) if p.startswith("~") else p

    if home is not None:
        assert settings.hf_home() == expand(home)
    assert settings.token_path() == expand(token)
    assert settings.stored_tokens_path() == expand(stored)


ENDPOINT_CASES = [
    ("default", None, "https://huggingface.co", (("https", "huggingface.co"), ("https", "hf.co"))),
    ("empty is unset", "", "https://huggingface.co", (("https", "huggingface.co"), ("https", "hf.co"))),
    ("explicit default keeps alias", "https://huggingface.co/", "https://huggingface.co",
     (("https", "huggingface.co"), ("https", "hf.co"))),
    ("trailing slashes stripped", "http://127.0.0.1:8080//", "http://127.0.0.1:8080",
     (("http", "127.0.0.1:8080"),)),
    ("mirror has no alias", "https://hub.example.com", "https://hub.example.com",
     (("https", "hub.example.com"),)),
    ("default port dropped", "https://Hub.Example.com:443/api", "https://Hub.Example.com:443/api",
     (("https", "hub.example.com"),)),
    ("http default port dropped", "http://hub.local:80", "http://hub.local:80", (("http", "hub.local"),)),
    ("other port kept", "https://hub.local:8443", "https://hub.local:8443", (("https", "hub.local:8443"),)),
    ("upper-case scheme", "HTTPS://hub.example.com", "https://hub.example.com",
     (("https", "hub.example.com"),)),
]


@pytest.mark.parametrize(("value", "endpoint", "served"), cases(ENDPOINT_CASES))
def test_endpoint(value: str | None, endpoint: str, served: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is not None:
        monkeypatch.setenv("HF_ENDPOINT", value)
    assert settings.endpoint() == endpoint
    assert settings.served_hosts() == served


def test_an_invalid_endpoint_serves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "hub.example.com")  # no scheme (more cases: test_urls)
    with pytest.raises(settings.EndpointError, match="no http:// or https:// scheme"):
        settings.endpoint()
    assert settings.served_hosts() == ()


SERVES_CASES = [
    ("https", "huggingface.co", True),
    ("https", "HuggingFace.CO", True),
    ("https", "huggingface.co:443", True),
    ("https", "hf.co", True),
    ("https", "hf.co:443", True),
    ("http", "huggingface.co", False),
    ("HTTPS", "huggingface.co", False),
    ("https", "huggingface.co:80", False),
    ("https", "huggingface.co:8443", False),
    ("https", "huggingface.co.", False),
    ("https", "huggingface.co.evil.example", False),
    ("https", "evilhuggingface.co", False),
    ("https", "user@huggingface.co", False),
    ("https", "", False),
    ("", "huggingface.co", False),
    (None, "huggingface.co", False),
    ("https", None, False),
]


@pytest.mark.parametrize(("protocol", "host", "expected"), SERVES_CASES)
def test_serves(protocol: str | None, host: str | None, expected: bool) -> None:
    assert settings.serves(protocol, host) is expected


TOKEN_ENV_CASES = [
    ("none", {}, None),
    ("HF_TOKEN", {"HF_TOKEN": "hf_a"}, ("hf_a", "HF_TOKEN")),
    ("legacy", {"HUGGING_FACE_HUB_TOKEN": "hf_b"}, ("hf_b", "HUGGING_FACE_HUB_TOKEN")),
    ("HF_TOKEN wins", {"HF_TOKEN": "hf_a", "HUGGING_FACE_HUB_TOKEN": "hf_b"}, ("hf_a", "HF_TOKEN")),
    ("empty HF_TOKEN is unset", {"HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "hf_b"},
     ("hf_b", "HUGGING_FACE_HUB_TOKEN")),
    ("whitespace-only is unset", {"HF_TOKEN": " \n "}, None),
    ("cleaned", {"HF_TOKEN": " hf_a\r\n"}, ("hf_a", "HF_TOKEN")),
]


@pytest.mark.parametrize(("env", "expected"), cases(TOKEN_ENV_CASES))
def test_env_token(env: dict[str, str], expected: tuple | None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert settings.env_token() == expected


def test_settings_follow_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", "/first")
    assert settings.token_path() == os.path.join("/first", "token")
    monkeypatch.setenv("HF_HOME", "/second")
    assert settings.token_path() == os.path.join("/second", "token")


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


MORE_ENDPOINTS = [
    ("upper-case X survives the slash strip", "https://HUBX.example/X/", "https://HUBX.example/X",
     (("https", "hubx.example"),)),
    ("scheme is case-insensitive", "HTTPS://Hub.Example", "https://Hub.Example", (("https", "hub.example"),)),
    ("IPv6 with the default port", "https://[::1]:443", "https://[::1]:443", (("https", "[::1]"),)),
    ("IPv6 without a port keeps its bracket", "https://[::1]", "https://[::1]", (("https", "[::1]"),)),
]


@pytest.mark.parametrize(("value", "endpoint", "served"), [c[1:] for c in MORE_ENDPOINTS],
                         ids=[c[0] for c in MORE_ENDPOINTS])
def test_more_endpoints(value: str, endpoint: str, served: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", value)
    assert settings.endpoint() == endpoint
    assert settings.served_hosts() == served


@pytest.mark.parametrize("value", ["https://user@hub.example", "https://hub.example?x=1", "https://hub.example#top",
                                   "https:///api", "://hub.example"])
def test_invalid_endpoints_are_refused_in_one_line(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", value)
    with pytest.raises(settings.EndpointError) as info:
        settings.endpoint()
    assert "user@" not in str(info.value) and "\n" not in str(info.value)
    assert settings.served_hosts() == ()
    assert settings.serves("https", "hub.example") is False


def test_host_case_folding_is_ascii_only() -> None:
    """U+212A KELVIN SIGN lower-cases to "k" with str.lower(): never a Hub host."""
    from git_credential_hf import urls

    assert urls.normalize_host("https", "HUGGINGFACE.CO") == "huggingface.co"
    assert urls.normalize_host("https", "hugging\u212aace.co") == "hugging\u212aace.co"
    assert settings.serves("https", "HF.CO") is True
    assert settings.serves("https", "h\u212a.co") is False


def test_clean_token_drops_inner_line_breaks() -> None:
    assert settings.clean_token("hf_a\r\nb\rc\nd") == "hf_abcd"
    assert settings.clean_token(None) is None
    assert settings.clean_token("\r\n") is None


# --- issue 14 round 2: relative token paths are refused with one exact line -------------------


def relative_line(name: str, value: str) -> str:
    return (f"{name} is a relative path ({value!r}): the token would be read and written relative "
            "to the current directory (a repository, when git runs this helper); set it to an "
            "absolute path")


def test_absolute_paths_pass_the_check() -> None:
    assert settings.check_paths() is None


@pytest.mark.parametrize(("env", "line"), [
    ({"HF_HOME": "rel/hf"}, relative_line("HF_HOME", "rel/hf")),
    ({"HF_TOKEN_PATH": "tok"}, relative_line("HF_TOKEN_PATH", "tok")),
    ({"HF_TOKEN_PATH": "tok", "HF_STORED_TOKENS_PATH": "/abs/stored_tokens"},
     relative_line("HF_TOKEN_PATH", "tok")),  # one relative path is enough
    ({"HF_STORED_TOKENS_PATH": "st"}, relative_line("HF_STORED_TOKENS_PATH", "st")),
    ({"HF_HOME": "", "XDG_CACHE_HOME": "cache"}, relative_line("XDG_CACHE_HOME", "cache")),
    ({"HF_HOME": "", "HOME": "relhome"},
     "the token path is not absolute (is HOME set?); set HF_HOME to an absolute path"),
])
def test_a_relative_token_path_is_refused_naming_the_variable(
        env: dict[str, str], line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(settings.PathError) as info:
        settings.check_paths()
    assert str(info.value) == line
