"""Talking to git: host-scoped helper entries in the global config, and what git will run.

``setup`` writes, for each Hub URL, ``credential.<url>.helper = ""`` (drop every helper configured
so far for that URL) then this helper, like ``gh auth setup-git``; the generic
``credential.helper`` is never touched. Every git call has a timeout and its exit code is checked;
failures raise ``GitError`` with one line. Only login/logout/setup/status use this module: the
``get`` hot path never does.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

from . import settings
from .urls import credential_fields, lower, match_parts

GIT_TIMEOUT_S = 10.0
SCRIPT = "git-credential-hf"
_SCRIPT_NAMES = (SCRIPT, SCRIPT + ".exe")
_HELPER_KEYS = r"^credential\..*helper$"


class GitError(Exception):
    """git is missing, timed out or failed. The message is one line and holds no secret."""


def run_git(
    *args: str, input: str | None = None, ok: tuple[int, ...] = (0,), cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``git *args`` with a timeout; raise ``GitError`` unless its exit code is in ``ok``."""
    # Never let git open a prompt or a GUI askpass from a library call.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    name = f"git {args[0]}" if args else "git"
    try:
        proc = subprocess.run(
            ["git", *args],
            input=input,
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=GIT_TIMEOUT_S,
            check=False,
            cwd=cwd,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git was not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`{name}` did not finish within {GIT_TIMEOUT_S:g} s") from None
    except OSError as e:
        raise GitError(f"cannot run git: {e.strerror or e}") from None
    if proc.returncode not in ok:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        detail = lines[0] if lines else f"exit code {proc.returncode}"
        raise GitError(f"`{name}` failed: {detail}")
    return proc


# --- which command git should run -------------------------------------------------------------


def this_executable() -> str | None:
    """The ``git-credential-hf`` script of this installation, or ``None`` if there is none."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) in _SCRIPT_NAMES and os.path.isfile(argv0):
        return os.path.abspath(argv0)  # running as the console script itself
    # `python -m git_credential_hf` or the Python API: the script beside this interpreter.
    # sys.executable is not resolved: a venv's bin/python is a symlink out of the venv.
    folder = os.path.dirname(sys.executable)
    for name in _SCRIPT_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def helper_command() -> str:
    """The ``credential.helper`` value for this installation, checked to start (``starts``):
    ``hf`` when the ``git-credential-hf`` git finds on PATH is this one, else its absolute path
    (quoted when it needs quoting). When that does not start — pip writes the launcher's shebang
    as the interpreter's path, which the kernel cannot run when it holds a space
    (``~/My Projects/venv``) — the launcher through its interpreter, ``!'<python>'
    '<launcher>'`` (a script's own folder, not the working directory, leads ``sys.path``: a
    repository cannot shadow the package), then ``!'<python>' -I -m git_credential_hf`` (``-I``:
    neither the working directory nor PYTHON* variables reach ``sys.path``, so a repository git
    runs in cannot shadow the package either).
    ``GitError`` when none starts."""
    candidates = []
    exe = this_executable()
    python = shlex.quote(sys.executable)
    if exe is not None:
        found = shutil.which(SCRIPT)
        if found and os.path.realpath(found) == os.path.realpath(exe):
            candidates.append("hf")
        # git runs an absolute path as is, through the shell: quote it if it needs quoting.
        candidates.append(exe if shlex.quote(exe) == exe else f"!{shlex.quote(exe)}")
        candidates.append(f"!{python} {shlex.quote(exe)}")
    candidates.append(f"!{python} -I -m git_credential_hf")
    reasons = []
    for candidate in candidates:
        reason = starts(candidate)
        if reason is None:
            return candidate
        reasons.append(f"{candidate}: {reason}")
    raise GitError("no command for this helper starts (" + "; ".join(reasons) + ")")


HELPER_START_TIMEOUT_S = 10.0
# `get` for a host no endpoint serves: a working helper answers nothing and exits 0, offline.
_PROBE = "protocol=https\nhost=git-credential-hf.invalid\n\n"
_started: dict[str, str | None] = {}


def shell_command(helper: str) -> str:
    """The shell command git runs for a ``credential.helper`` value, before the operation is
    appended (credential.c): ``!cmd`` → ``cmd``; an absolute path as is; ``name`` →
    ``git credential-name``."""
    if helper.startswith("!"):
        return helper[1:]
    if os.path.isabs(helper):
        return helper
    return f"git credential-{helper}"


def starts(helper: str) -> str | None:
    """``None`` when the helper command starts: run as git runs it (``sh -c '<cmd> get'``)
    for a host that is not the Hub, under a timeout, from a neutral folder, it exits 0.
    Otherwise why not, one line. Cached per process."""
    if helper in _started:
        return _started[helper]
    import tempfile

    from .output import mask_secrets

    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", shell_command(helper) + " get"],
            input=_PROBE,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=HELPER_START_TIMEOUT_S,
            check=False,
            cwd=tempfile.gettempdir(),
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except subprocess.TimeoutExpired:
        reason: str | None = f"no answer within {HELPER_START_TIMEOUT_S:g} s"
    except OSError as e:
        reason = f"cannot run /bin/sh: {e.strerror or e}"
    else:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        reason = None if proc.returncode == 0 else (
            f"exit code {proc.returncode}" + (f": {mask_secrets(lines[0])}" if lines else ""))
    _started[helper] = reason
    return reason


def is_hf_helper(value: str) -> bool:
    """True when a ``credential.helper`` value runs some git-credential-hf."""
    text = value.strip()
    if text.startswith("!"):
        try:
            words = shlex.split(text[1:])
        except ValueError:
            return False
        return "git_credential_hf" in words or any(
            os.path.basename(w) in _SCRIPT_NAMES for w in words
        )
    first = text.split()[0] if text.split() else ""
    if os.path.isabs(first):
        return os.path.basename(first) in _SCRIPT_NAMES
    return first == "hf"


def resolves(helper: str) -> bool:
    """Whether git can start ``helper`` (a ``!`` command is trusted to the shell)."""
    text = helper.strip()
    if text.startswith("!"):
        return True
    first = text.split()[0]
    if os.path.isabs(first):
        return os.path.isfile(first) and os.access(first, os.X_OK)
    # `hf` → `git credential-hf`: git looks in its exec-path, then PATH.
    if shutil.which(f"git-credential-{first}"):
        return True
    exec_path = run_git("--exec-path").stdout.strip()
    return os.path.isfile(os.path.join(exec_path, f"git-credential-{first}"))


def hub_urls() -> list[str]:
    """The URLs ``setup`` configures: the endpoint, and ``https://hf.co`` for the default one
    (``EndpointError`` when ``HF_ENDPOINT`` is not valid)."""
    return settings.endpoint_info().hub_urls()


# --- the config itself: real git, or in memory ---------------------------------------------------


class GitConfig:
    """The git configuration as git itself reads and writes it (``git config``). ``setup`` and
    ``status`` go through these few operations; ``MemoryConfig`` implements the same contract
    without a process, for tests of the decisions."""

    def global_values(self, key: str) -> tuple[list[str], str | None]:
        """Values of ``key`` in the global config, in order, and the file holding them."""
        proc = run_git("config", "--global", "--show-origin", "--null", "--get-all", key,
                       ok=(0, 1))
        fields = proc.stdout.split("\0")[:-1]
        origins, values = fields[0::2], fields[1::2]
        origin = origins[0].removeprefix("file:") if origins else None
        return values, origin

    def replace_all(self, key: str, value: str) -> None:
        run_git("config", "--global", "--replace-all", key, value)

    def add(self, key: str, value: str) -> None:
        run_git("config", "--global", "--add", key, value)

    def unset_all(self, key: str) -> None:
        run_git("config", "--global", "--unset-all", key)

    def global_names(self) -> list[str]:
        """Names of the global ``credential.*`` keys."""
        proc = run_git("config", "--global", "--name-only", "--get-regexp", r"^credential\.",
                       ok=(0, 1))
        return proc.stdout.splitlines()

    def remove_section(self, name: str) -> None:
        """Remove ``[section "sub"]`` from the global config; absent is fine."""
        try:
            run_git("config", "--global", "--remove-section", name)
        except GitError as e:
            if "no such section" not in str(e):
                raise

    def helper_entries(self, cwd: str | None = None) -> list[tuple[str, str, str]]:
        """Every ``credential[.<url>].helper`` entry git reads, in config order:
        ``(url or "", value, origin)``."""
        return [(url, value, origin) for url, value, origin, _s in self.scoped_entries(cwd)]

    def scoped_entries(self, cwd: str | None = None) -> list[tuple[str, str, str, str]]:
        """``helper_entries`` with each entry's scope (``system``, ``global``, ``local``,
        ``worktree``, ``command``): the scope of the file that included it, for an include."""
        proc = run_git("config", "--show-scope", "--show-origin", "--null", "--get-regexp",
                       _HELPER_KEYS, ok=(0, 1), cwd=cwd)
        fields = proc.stdout.split("\0")[:-1]
        entries = []
        for scope, origin, item in zip(fields[0::3], fields[1::3], fields[2::3]):
            key, sep, value = item.partition("\n")
            if not sep:
                continue  # `helper` without a value: git refuses it anyway
            url = _helper_url(key)
            if url is not None:
                entries.append((url, value, origin, scope))
        return entries


def _helper_url(key: str) -> str | None:
    """``""`` for ``credential.helper``, ``<url>`` for ``credential.<url>.helper``, else None."""
    section, _, rest = key.partition(".")
    if lower(section) != "credential":
        return None
    if lower(rest) == "helper":
        return ""
    url, dot, name = rest.rpartition(".")
    return url if dot and lower(name) == "helper" else None


class MemoryConfig:
    """``GitConfig``'s contract in memory: one global file (``ORIGIN``) and optional ``system``
    / repository entries read before / after it. Keys as ``section.sub.name``."""

    ORIGIN = "<memory>"

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []  # the global file, in order
        self.sections: list[str] = []  # section headers present, even when empty
        self.local: list[tuple[str, str]] = []  # a repository's config, read last

    @staticmethod
    def _section(key: str) -> str:
        return key.rpartition(".")[0]

    def global_values(self, key: str) -> tuple[list[str], str | None]:
        values = [v for k, v in self.entries if k == key]
        return values, (self.ORIGIN if values else None)

    def replace_all(self, key: str, value: str) -> None:
        first = next((i for i, (k, _v) in enumerate(self.entries) if k == key), None)
        if first is None:
            self.add(key, value)
            return
        self.entries = [e for e in self.entries if e[0] != key]
        self.entries.insert(first, (key, value))

    def add(self, key: str, value: str) -> None:
        section = self._section(key)
        last = max((i for i, (k, _v) in enumerate(self.entries) if self._section(k) == section),
                   default=None)
        if last is None and section not in self.sections:
            self.sections.append(section)
        self.entries.insert(len(self.entries) if last is None else last + 1, (key, value))

    def unset_all(self, key: str) -> None:
        if not any(k == key for k, _v in self.entries):
            raise GitError("`git config` failed: exit code 5")
        self.entries = [e for e in self.entries if e[0] != key]

    def global_names(self) -> list[str]:
        return [k for k, _v in self.entries if k.startswith("credential.")]

    def remove_section(self, name: str) -> None:
        self.entries = [e for e in self.entries if self._section(e[0]) != name]
        if name in self.sections:
            self.sections.remove(name)

    def helper_entries(self, cwd: str | None = None) -> list[tuple[str, str, str]]:
        return [(url, value, origin) for url, value, origin, _s in self.scoped_entries(cwd)]

    def scoped_entries(self, cwd: str | None = None) -> list[tuple[str, str, str, str]]:
        found = []
        for origin, scope, entries in ((self.ORIGIN, "global", self.entries),
                                       ("<memory:local>", "local", self.local)):
            for key, value in entries:
                url = _helper_url(key)
                if url is not None:
                    found.append((url, value, origin, scope))
        return found


# --- setup / setup --unset ---------------------------------------------------------------------


def setup(unset: bool = False, config: GitConfig | MemoryConfig | None = None) -> list[str]:
    """Write (or with ``unset`` remove) this helper's entries; returns what happened, a line
    per URL. A second ``setup`` changes nothing."""
    config = config or GitConfig()
    ours = helper_command()
    report = []
    for url in hub_urls():
        key = f"credential.{url}.helper"
        values, origin = config.global_values(key)
        where = f" in {origin}" if origin else ""
        if unset:
            report.append(f"{url}: " + _unset(config, url, key, values, where))
            continue
        if values == ["", ours]:
            report.append(f"{url}: git already asks only {ours}{where}; nothing changed")
            continue
        before = [v for v, _o in helpers_for(url, config=config)]
        config.replace_all(key, "")
        config.add(key, ours)
        _values, origin = config.global_values(key)
        line = f'{url}: set {key} = "" then {ours}' + (f" in {origin}" if origin else "")
        replaced = [v for v in values if v and not is_hf_helper(v)]
        if replaced:
            line += f" (replaced: {', '.join(replaced)})"
        after = [v for v, _o in helpers_for(url, config=config)]
        hidden = [v for v in before if v not in after and v not in replaced
                  and not is_hf_helper(v)]
        if hidden:  # e.g. a generic credential.helper: still used for every other host
            line += f" (no longer asked for this URL: {', '.join(hidden)})"
        report.append(line)
    if not unset:
        report += _still_overridden(config)
    return report


def _still_overridden(config: GitConfig | MemoryConfig) -> list[str]:
    """Notes about what setup cannot change: a later config (the current repository's, or a
    file it includes) that hides this helper again, or asks another helper first."""
    notes = []
    for url in hub_urls():
        hider = hidden_by(url, config=config)
        if hider is not None and (hider.scope != "global" or hider.included):
            notes.append(f"{url}: note: in this repository {hider.where()} still hides this "
                         f"helper; fix: {hider.fix()}")
            continue
        chain = helpers_for(url, config=config)
        for value, origin in chain[: next((i for i, (v, _o) in enumerate(chain)
                                           if is_hf_helper(v)), 0)]:
            entry = entry_for(value, origin, url, config=config)
            if entry is not None and (entry.scope != "global" or entry.included):
                notes.append(f"{url}: note: in this repository git asks {value} "
                             f"({entry.where()}) before this helper; remove it there")
    return notes


def _unset(config: GitConfig | MemoryConfig, url: str, key: str, values: list[str],
           where: str) -> str:
    if not values:
        return "nothing to remove"
    if len(values) == 2 and values[0] == "" and is_hf_helper(values[1]):
        config.unset_all(key)
        _drop_empty_section(config, url)
        return f"removed {key}{where}"
    # Someone else edited this key: remove only our helper and the reset just before it.
    keep: list[str] = []
    for value in values:
        if is_hf_helper(value):
            if keep and keep[-1] == "":
                keep.pop()
            continue
        keep.append(value)
    if keep == values:
        return f"left {key}{where} alone: setup did not write it ({', '.join(map(repr, values))})"
    config.unset_all(key)
    for value in keep:
        config.add(key, value)
    kept = ", ".join(repr(v) for v in keep) or "nothing"
    return f"removed this helper from {key}{where}; kept what others wrote: {kept}"


def _drop_empty_section(config: GitConfig | MemoryConfig, url: str) -> None:
    """Remove ``[credential "<url>"]`` when no key is left in it (older git keep the header)."""
    prefix = f"credential.{url}."
    if not any(name.startswith(prefix) for name in config.global_names()):
        config.remove_section(f"credential.{url}")


# --- what git will run for a URL ---------------------------------------------------------------


def helpers_for(
    url: str, cwd: str | None = None, config: GitConfig | MemoryConfig | None = None
) -> list[tuple[str, str]]:
    """The helpers git runs for ``url``, in order, as ``(value, origin)``.

    git applies every matching entry in config order (system, global, local, ``-c``), and an
    empty value clears the list so far (credential.c, urlmatch.c). A request without a user name
    is assumed, as for a plain ``https://host/ns/repo`` remote.
    """
    helpers: list[tuple[str, str]] = []
    for pattern, value, origin in (config or GitConfig()).helper_entries(cwd):
        if pattern and not url_matches(pattern, url):
            continue
        if value:
            helpers.append((value, origin))
        else:
            helpers.clear()
    return helpers


def other_helpers(
    url: str, cwd: str | None = None, config: GitConfig | MemoryConfig | None = None
) -> list[str]:
    """Every helper configured for ``url`` anywhere, resets ignored, that is not ours."""
    seen: list[str] = []
    for pattern, value, _origin in (config or GitConfig()).helper_entries(cwd):
        if value and not is_hf_helper(value) and value not in seen:
            if not pattern or url_matches(pattern, url):
                seen.append(value)
    return seen


def _host_matches(pattern: str, host: str) -> bool:
    """git's match_host: ``*`` matches within one dot-separated label."""
    import fnmatch

    want, have = pattern.split("."), host.split(".")
    return len(want) == len(have) and all(
        fnmatch.fnmatchcase(h, w.replace("[", "[[]")) for w, h in zip(want, have)
    )


def url_matches(pattern: str, url: str) -> bool:
    """Whether ``credential.<pattern>.*`` applies to ``url``, as git decides it (urlmatch.c;
    credential.c's match_partial_url when the pattern is not a URL git can normalize)."""
    want = match_parts(pattern)
    if want is None:  # "host[:port]/path", "://host", "https://": each field set must be equal
        have_fields = credential_fields(url)
        fields = zip(credential_fields(pattern), have_fields)
        return have_fields[0] is not None and all(w is None or w == h for w, h in fields)
    have = match_parts(url)
    if have is None:
        return False
    w_scheme, w_user, w_host, w_port, w_path = want
    h_scheme, h_user, h_host, h_port, h_path = have
    # git matches the URL it rebuilt from the credential, whose path is %-encoded: a "?" or
    # "#" there is a path character, not the pattern's query.
    h_path = [p.replace("?", "%3F").replace("#", "%23") for p in h_path]
    if w_scheme != h_scheme or (w_user is not None and w_user != h_user):
        return False
    return _host_matches(w_host, h_host) and w_port == h_port and h_path[: len(w_path)] == w_path


# --- who hides this helper, and where ------------------------------------------------------------


class Entry:
    """One ``credential[.<url>].helper`` entry: its key, value, file (``None`` when it did not
    come from a file), 1-based line when found, and where it sits in words."""

    __slots__ = ("key", "line", "ours", "path", "scope", "value")

    def __init__(self, url: str, value: str, origin: str, scope: str, cwd: str | None) -> None:
        self.key = f"credential.{url}.helper" if url else "credential.helper"
        self.value, self.scope = value, scope
        self.ours: str | None = None  # for a reset: the helper of ours it drops
        self.path: str | None = None
        self.line: int | None = None
        if origin.startswith("file:"):
            path = origin[len("file:"):]
            self.path = os.path.normpath(os.path.join(cwd or os.getcwd(), path))
            self.line = _line_of(self.path, url, value)
        elif scope != "command":
            self.path = origin  # a blob, stdin, or an in-memory config: shown as is

    @property
    def included(self) -> bool:
        """True for a file read through ``include``/``includeIf`` of the scope's own file."""
        if self.path is None or self.scope not in ("global", "local", "worktree"):
            return False
        if self.scope == "global":
            return self.path not in _global_files()
        return os.path.basename(self.path) not in ("config", "config.worktree")

    def where(self) -> str:
        """``~/.gitconfig:12 (global config)``, ``/repo/.git/config:4 (repository config)``,
        ``/x/work.inc:3 (included by the global config: include/includeIf)``…"""
        if self.path is None:
            return "the command line (-c or GIT_CONFIG_PARAMETERS)"
        spot = self.path + (f":{self.line}" if self.line else "")
        names = {"global": "global config", "local": "repository config",
                 "worktree": "worktree config", "system": "system config"}
        name = names.get(self.scope, f"{self.scope} config")
        if self.included:
            return f"{spot} (included by the {name}: include/includeIf)"
        return f"{spot} ({name})"

    def fix(self) -> str:
        """A fix that works where the entry is."""
        ours = self.ours
        if self.path is None:
            return f"drop -c {self.key}= (or GIT_CONFIG_PARAMETERS) from the command"
        add = f"git config --file {shlex.quote(self.path)} --add {self.key} {shlex.quote(ours)}"
        line = f"line {self.line} of " if self.line else "the empty helper in "
        if self.scope == "global" and not self.included:
            return f"delete {line}{self.path}, then run git-credential-hf setup"
        return f"delete {line}{self.path}, or add this helper after it: {add}" if ours else (
            f"delete {line}{self.path}")


def _global_files() -> set[str]:
    paths = set()
    explicit = os.environ.get("GIT_CONFIG_GLOBAL")
    if explicit:
        paths.add(os.path.normpath(os.path.expanduser(explicit)))
    else:
        paths.add(os.path.normpath(os.path.expanduser("~/.gitconfig")))
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        paths.add(os.path.normpath(os.path.join(xdg, "git", "config")))
    return paths


def _line_of(path: str, url: str, value: str) -> int | None:
    """The last line of ``path`` that sets ``helper`` to ``value`` in the ``[credential]`` or
    ``[credential "<url>"]`` section (a best-effort reading of git's syntax)."""
    import re

    header = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
    setting = re.compile(r"^\s*helper\s*(?:=\s*(.*?))?\s*(?:[#;].*)?$", re.IGNORECASE)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found, section, sub = None, "", None
    for number, text in enumerate(lines, 1):
        head = header.match(text)
        if head:
            section, sub = head.group(1).lower(), head.group(2)
            if sub is None and section.startswith("credential."):  # [credential.url] legacy
                section, sub = "credential", head.group(1)[len("credential."):]
            text = text[head.end():]
        if section != "credential" or (sub or "") != url:
            continue
        match = setting.match(text)
        if match:
            raw = (match.group(1) or "").strip()
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = raw[1:-1]
            if raw == value:
                found = number
    return found


def scoped_entries(config: GitConfig | MemoryConfig | None = None,
                   cwd: str | None = None) -> list[tuple[str, str, str, str]]:
    return (config or GitConfig()).scoped_entries(cwd)


def hidden_by(url: str, cwd: str | None = None,
              config: GitConfig | MemoryConfig | None = None) -> Entry | None:
    """The entry that drops this helper for ``url`` after it was configured — the last empty
    ``helper`` after the last entry of ours, in config order (a repository's own config, an
    included file…) — or ``None`` when this helper runs, or was never configured (then
    ``setup`` is the fix)."""
    ours, hider = None, None
    for pattern, value, origin, scope in scoped_entries(config, cwd):
        if pattern and not url_matches(pattern, url):
            continue
        if value and is_hf_helper(value):
            ours, hider = value, None
        elif not value and ours:
            hider = (pattern, value, origin, scope)
    if hider is None:
        return None
    entry = Entry(*hider, cwd)
    entry.ours = ours
    return entry


def entry_for(value: str, origin: str, url: str, cwd: str | None = None,
              config: GitConfig | MemoryConfig | None = None) -> Entry | None:
    """The ``Entry`` of a helper ``helpers_for`` listed (for its file and line)."""
    for pattern, v, o, scope in scoped_entries(config, cwd):
        if v == value and o == origin and (not pattern or url_matches(pattern, url)):
            return Entry(pattern, v, o, scope, cwd)
    return None


# --- forgetting copies held by other helpers ---------------------------------------------------


def forget_hub_credentials() -> list[str]:
    """``git credential reject`` for every served host, whatever the user name, through the
    configured helpers and also through helpers our reset hides, so no stale copy survives.
    Returns the helpers asked."""
    asked: list[str] = []
    for protocol, host in settings.served_hosts():
        request = f"protocol={protocol}\nhost={host}\n\n"
        run_git("credential", "reject", input=request)
        others = other_helpers(f"{protocol}://{host}")
        if others:
            # `-c` entries come last: an empty one clears the list, then each other helper.
            flags = ["-c", "credential.helper="]
            for value in others:
                flags += ["-c", f"credential.helper={value}"]
            run_git(*flags, "credential", "reject", input=request)
        asked += [v for v in others if v not in asked]
    return asked
