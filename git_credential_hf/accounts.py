"""Which Hub account each saved token belongs to, so the username git sends picks the token.

The map lives in this tool's state folder (``state``), file ``accounts``: one line per token,
``sha256(token) <TAB> account <TAB> unix time it was validated <TAB> role``. It never holds a
token. It is written whenever a token is validated with whoami (login, store, switch, list,
status) and entries whose token is no longer saved anywhere are dropped then.

``select(username)`` runs inside ``get``: no network, no configparser, no json. It reads the map
(one failed ``open`` when there is none) and, only when the username is a known account, the
token files, hashing their tokens to find that account's.
"""

from __future__ import annotations

import os

from . import files, settings, state, tokens

FILE = "accounts"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _rows() -> list[list[str]]:
    return [r for r in state.lines(FILE) if len(r) >= 3 and len(r[0]) == 64]


def _time(row: list[str]) -> float:
    try:
        return float(row[2])
    except ValueError:
        return 0.0


def stored_light() -> dict[str, str]:
    """``{section: hf_token}`` from ``stored_tokens``, read without configparser (hot path).

    Lenient on purpose: a line this reader gets wrong can only make it miss a token, never
    serve a wrong one, since a token is served only when its hash is the one recorded for the
    account."""
    raw = files.read_small(settings.stored_tokens_path(), tokens.MAX_STORED_FILE)
    if raw is None:
        return {}
    found: dict[str, str] = {}
    section = None
    for line in raw.decode("utf-8", "replace").split("\n"):
        text = line.strip()
        if not text or text[0] in "#;":
            continue
        if text.startswith("[") and text.endswith("]") and line[0] == "[":
            section = text[1:-1]
            continue
        if section is None or line[0] in " \t":
            continue  # before any section, or a continuation line
        eq, colon = text.find("="), text.find(":")
        cut = eq if colon < 0 or 0 <= eq < colon else colon  # the first delimiter
        if cut > 0 and text[:cut].strip().lower() == "hf_token":
            value = settings.clean_token(text[cut + 1 :])
            if value:
                found[section] = value
    return found


def select(username: str | None) -> tuple[str, str] | None:
    """The token ``get`` serves for a request naming ``username``, as ``(token, source)``
    (source: an env variable name, ``"file"`` or ``"stored:<name>"``), or ``None`` when the
    username is no known account with a saved token: then the active token is the answer."""
    if not username:
        return None
    mine = [r for r in _rows() if r[1] == username]
    if not mine:
        return None
    keys = {r[0]: _time(r) for r in mine}
    active, source = tokens.active_token()
    if active and state.token_key(active) in keys:
        return active, source  # the active token is this account's: keep it
    best: tuple[float, str, str] | None = None
    for name, token in stored_light().items():
        when = keys.get(state.token_key(token))
        if when is not None and (best is None or when > best[0]):
            best = (when, token, f"stored:{name}")
    if best is None:
        return None
    return best[1], best[2]


def account_of(token: str) -> str | None:
    key = state.token_key(token)
    for row in _rows():
        if row[0] == key:
            return row[1]
    return None


def known() -> dict[str, tuple[str, str]]:
    """``{token key: (account, role)}`` for every recorded token."""
    return {r[0]: (r[1], r[3] if len(r) > 3 else "") for r in _rows()}


def _saved_tokens() -> set[str]:
    """Every token saved somewhere we look: env variables, the token file, stored_tokens."""
    found = {t for t in stored_light().values()}
    for name in settings.TOKEN_ENV_VARS:
        value = settings.clean_token(os.environ.get(name))
        if value:
            found.add(value)
    saved = tokens.read_token_file()
    if saved:
        found.add(saved)
    return found


def _clean(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return "" if any(c in text for c in "\t\n\r") else text


def learn(token: str, info: dict[str, Any]) -> None:
    """Record that whoami said ``token`` belongs to ``info["name"]``; drop entries whose token
    is gone. Best effort: a state folder that cannot be written costs nothing but the map."""
    from . import hub

    account = _clean(info.get("name"))
    if not account or info.get("type") not in (None, "user"):
        return
    import time

    try:
        alive = {state.token_key(t) for t in _saved_tokens() | {token}}
        key = state.token_key(token)
        with state.lock():
            rows = [r for r in _rows() if r[0] in alive and r[0] != key]
            rows.append([key, account, f"{time.time():.3f}", _clean(hub.token_role(info))])
            state.write_lines(FILE, rows)
    except (state.StateError, OSError):
        pass


def carry(old: str, new: str) -> None:
    """A refresh replaced ``old`` by ``new`` (same account): move the entry over."""
    key = state.token_key(old)
    row = next((r for r in _rows() if r[0] == key), None)
    if row:
        role = row[3] if len(row) > 3 else ""
        learn(new, {"name": row[1], "type": "user", "auth": {"accessToken": {"role": role}}})


def prune() -> None:
    """Drop entries whose token is no longer saved (after a logout or a removal)."""
    try:
        alive = {state.token_key(t) for t in _saved_tokens()}
        with state.lock():
            rows = _rows()
            kept = [r for r in rows if r[0] in alive]
            if len(kept) != len(rows):
                state.write_lines(FILE, kept)
    except (state.StateError, OSError):
        pass
