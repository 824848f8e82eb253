"""The retry guard: a token the Hub keeps refusing is not handed straight back to git.

git-lfs answers every 401 with ``erase`` then ``get``. When ``erase`` has to keep the token (it
comes from ``HF_TOKEN``, the Hub says it is still valid, or the Hub cannot be asked), ``get``
would serve it again, for ever. So ``erase`` records the refusal here, keyed by the token's
SHA-256 (never the token), and ``get`` answers ``quit=1`` once the same token was refused
``THRESHOLD`` times, each within ``WINDOW_S`` of the previous one and of this ``get``.

- A token refused once (plain git failing a push to one repository) is still served: the next
  command, for another repository, works.
- The ``quit`` is handed out once: answering it resets the count, so the command after the one
  that was stopped gets the token again (and, if refused twice more, is stopped again).
- A different token (login, switch, another ``HF_TOKEN``) has no record: served at once.
- ``get`` pays one ``stat`` when no refusal is recent (the file is absent or older than the
  window); it reads and hashes only within ``WINDOW_S`` of a refusal.
"""

from __future__ import annotations

from . import settings, state

FILE = "refusals"
WINDOW_S = 10.0
THRESHOLD = 2
_MAX_ENTRIES = 64


def _now() -> float:
    import time

    return time.time()


def _entries(now: float) -> dict[str, tuple[int, float, str]]:
    """``{key: (count, last refusal time, reason)}`` for refusals still inside the window."""
    out: dict[str, tuple[int, float, str]] = {}
    for row in state.lines(FILE):
        if len(row) < 3:
            continue
        try:
            count, last = int(row[1]), float(row[2])
        except ValueError:
            continue
        if 0 <= now - last <= WINDOW_S:
            out[row[0]] = (count, last, row[3] if len(row) > 3 else "")
    return out


def _save(entries: dict[str, tuple[int, float, str]]) -> None:
    if not entries:
        state.remove(FILE)
        return
    recent = sorted(entries.items(), key=lambda kv: kv[1][1])[-_MAX_ENTRIES:]
    state.write_lines(FILE, [[k, str(c), f"{t:.3f}", r] for k, (c, t, r) in recent])


def record(token: str, reason: str = "") -> int:
    """``erase`` kept ``token`` after the Hub refused it: count the refusal. Returns the count
    (1 for a first refusal in the window). ``reason`` (no tab, no newline) ends up in ``get``'s
    line. Never raises: the guard is a courtesy, not a reason to fail ``erase``."""
    reason = " ".join(reason.split())
    try:
        key = state.token_key(token)
        with state.lock():
            now = _now()
            entries = _entries(now)
            count = entries.get(key, (0, 0.0, ""))[0] + 1
            entries[key] = (count, now, reason)
            _save(entries)
            return count
    except (state.StateError, OSError):
        return 0


def clear(token: str) -> None:
    """git reports ``token`` worked (``store``): forget its refusals. One ``stat`` when none."""
    if not _recent():
        return
    try:
        key = state.token_key(token)
        with state.lock():
            entries = _entries(_now())
            if entries.pop(key, None) is not None:
                _save(entries)
    except (state.StateError, OSError):
        pass


def _recent() -> bool:
    modified = state.mtime(FILE)
    if modified is None:
        return False
    return abs(_now() - modified) <= WINDOW_S


def check(token: str) -> tuple[int, str] | None:
    """``get`` is about to serve ``token``. ``None``: serve it. Else ``(count, reason)``: the
    Hub refused it ``count`` times in a row just now; answer ``quit`` instead. Handing out the
    quit resets the count."""
    if not _recent():
        return None  # the common case: one stat
    key = state.token_key(token)
    now = _now()
    found = _entries(now).get(key)
    if found is None or found[0] < THRESHOLD:
        return None
    try:
        with state.lock():
            entries = _entries(now)
            found = entries.pop(key, None)
            if found is None or found[0] < THRESHOLD:
                return None  # another get handed out this quit already
            _save(entries)
    except (state.StateError, OSError):
        pass  # cannot reset: still stop this loop
    return found[0], found[2]


def source_label(source: str) -> str:
    """How ``get``'s line names where a token comes from."""
    if source in settings.TOKEN_ENV_VARS:
        return source
    if source.startswith("stored:"):
        return f"the stored token {source[len('stored:'):]!r}"
    if source == "HF_OIDC_RESOURCE":
        return "the OIDC-exchanged token"
    return f"the token file ({settings.token_path()})"


def message(token_mask: str, source: str, count: int, reason: str) -> str:
    """``get``'s one line when it answers ``quit``."""
    label = source_label(source)
    why = f" ({reason})" if reason else ""
    if source in settings.TOKEN_ENV_VARS:
        fix = f"fix its access on the Hub, or set {source} to a token that can do this"
    else:
        fix = "fix its access on the Hub, or log in with a token that can do this"
    return (
        f"stopping git: the Hub refused {label} {token_mask} {count} times in a row{why}; "
        f"{fix} (check: git-credential-hf status --repo NS/NAME)"
    )

