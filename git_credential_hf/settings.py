"""Endpoint, paths and environment tokens, read exactly as huggingface_hub reads them.

Precedence, spelled out (huggingface_hub ``constants.py`` and ``utils/_auth.py``):
- endpoint: ``$HF_ENDPOINT`` (trailing ``/`` stripped), else ``https://huggingface.co``;
- HF home: ``$HF_HOME``, else ``${XDG_CACHE_HOME:-~/.cache}/huggingface``;
- token file: ``$HF_TOKEN_PATH``, else ``$HF_HOME/token``;
- named tokens: ``$HF_STORED_TOKENS_PATH``, else ``stored_tokens`` beside the token file;
- token: ``$HF_TOKEN``, else ``$HUGGING_FACE_HUB_TOKEN`` (legacy), else the token file.
An empty variable counts as unset; paths get ``~`` and ``$VAR`` expansion.
Functions, not module constants: tests and long-lived processes see the current environment.
"""

from __future__ import annotations

import os

DEFAULT_ENDPOINT = "https://huggingface.co"
# hf.co is an alias of the default endpoint only (a mirror or enterprise Hub has no alias).
DEFAULT_ALIASES = (("https", "hf.co"),)
TOKEN_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
_DEFAULT_PORTS = {"https": "443", "http": "80"}
# Host names compare case-insensitively in ASCII only (RFC 4343): str.lower() would also map
# e.g. U+212A KELVIN SIGN to "k", making a non-ASCII host equal to the endpoint's.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


def _expand(path: str) -> str:
    return os.path.expandvars(os.path.expanduser(path))


def endpoint() -> str:
    return (_env("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hf_home() -> str:
    home = _env("HF_HOME")
    if home is None:
        home = os.path.join(_env("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return _expand(home)


def token_path() -> str:
    path = _env("HF_TOKEN_PATH")
    return _expand(path) if path else os.path.join(hf_home(), "token")


def stored_tokens_path() -> str:
    path = _env("HF_STORED_TOKENS_PATH")
    if path:
        return _expand(path)
    return os.path.join(os.path.dirname(token_path()), "stored_tokens")


def clean_token(value: str | None) -> str | None:
    """huggingface_hub's cleaning: drop CR/LF anywhere, strip whitespace; empty means none."""
    if value is None:
        return None
    return value.replace("\r", "").replace("\n", "").strip() or None


def env_token() -> tuple[str, str] | None:
    """``(token, variable name)`` of the first token variable set, else ``None``."""
    for name in TOKEN_ENV_VARS:
        token = clean_token(os.environ.get(name))
        if token:
            return token, name
    return None


def normalize_host(protocol: str, host: str) -> str:
    """Lower-case the host (ASCII letters only) and drop an explicit default port (``:443``
    for https)."""
    host = host.translate(_ASCII_LOWER)
    default = _DEFAULT_PORTS.get(protocol)
    if default and host.endswith(":" + default) and not host.endswith("]"):
        host = host[: -len(default) - 1]
    return host


def split_url(url: str) -> tuple[str, str] | None:
    """``(protocol, normalized host)`` of an endpoint URL; ``None`` when it has no scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return None
    netloc = rest
    for stop in "/?#":
        netloc = netloc.split(stop, 1)[0]
    netloc = netloc.rpartition("@")[2]
    if not netloc:
        return None
    return scheme.lower(), normalize_host(scheme.lower(), netloc)


def served_hosts() -> tuple[tuple[str, str], ...]:
    """The ``(protocol, host)`` pairs this helper answers for: the endpoint's, plus ``hf.co``
    when the endpoint is the default one. An endpoint path plays no part."""
    own = split_url(endpoint())
    if own is None:
        return ()
    if own == split_url(DEFAULT_ENDPOINT):
        return (own, *DEFAULT_ALIASES)
    return (own,)


def serves(protocol: str | None, host: str | None) -> bool:
    """True only when ``protocol`` and ``host`` are present and equal a served pair."""
    if not protocol or not host:
        return False
    return (protocol, normalize_host(protocol, host)) in served_hosts()
