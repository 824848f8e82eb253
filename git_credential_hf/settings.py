"""Endpoint, paths and environment tokens, read exactly as huggingface_hub reads them.

Precedence, spelled out (huggingface_hub ``constants.py`` and ``utils/_auth.py``):
- endpoint: ``$HF_ENDPOINT`` (trailing ``/`` stripped), else ``https://huggingface.co``; it must
  be an ``http(s)://host[:port][/path]`` URL (``urls.parse_endpoint``), else ``EndpointError``;
- HF home: ``$HF_HOME``, else ``${XDG_CACHE_HOME:-~/.cache}/huggingface``;
- token file: ``$HF_TOKEN_PATH``, else ``$HF_HOME/token``;
- named tokens: ``$HF_STORED_TOKENS_PATH``, else ``stored_tokens`` beside the token file;
- token: ``$HF_TOKEN``, else ``$HUGGING_FACE_HUB_TOKEN`` (legacy), else the token file.
An empty variable counts as unset; paths get ``~`` and ``$VAR`` expansion.
Functions, not module constants: tests and long-lived processes see the current environment.
"""

from __future__ import annotations

import os

from . import urls

DEFAULT_ENDPOINT = urls.DEFAULT_ENDPOINT
TOKEN_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
EndpointError = urls.EndpointError


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


def _expand(path: str) -> str:
    return os.path.expandvars(os.path.expanduser(path))


def endpoint_info() -> urls.Endpoint:
    """The parsed endpoint; ``EndpointError`` (one line, no user info) when it is not valid."""
    return urls.parse_endpoint(_env("HF_ENDPOINT") or DEFAULT_ENDPOINT)


def endpoint() -> str:
    """The endpoint URL, without a trailing ``/``; ``EndpointError`` when it is not valid."""
    return endpoint_info().url


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


def served_hosts() -> tuple[tuple[str, str], ...]:
    """The ``(protocol, host)`` pairs this helper answers for: the endpoint's, plus ``hf.co``
    when the endpoint is the default one; none when ``HF_ENDPOINT`` is not valid."""
    try:
        return endpoint_info().served_hosts()
    except EndpointError:
        return ()


def serves(protocol: str | None, host: str | None) -> bool:
    """True only when ``protocol`` and ``host`` are present and equal a served pair."""
    if not protocol or not host:
        return False
    return (protocol, urls.normalize_host(protocol, host)) in served_hosts()
