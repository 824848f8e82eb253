#!/usr/bin/env python3
"""A tiny local imitation of the Hugging Face Hub, for end-to-end tests, demos and benchmarks.

Standard library only. It serves, on 127.0.0.1:
- `GET /api/whoami-v2` (Bearer token);
- git smart HTTP (Basic auth whose password is a token), by running the real `git http-backend`
  as a CGI program; pushing needs write access to the repo's namespace (below);
- OAuth: `POST /oauth/device` (RFC 8628), `POST /oauth/token` with the device-code, refresh-token
  (rotating, single use) and token-exchange (RFC 8693, OIDC id tokens) grants; OAuth access tokens
  expire (401 everywhere after `expires_at`); `/oauth/device/approve?user_code=…` approves;
- git-lfs: the batch API at `<repo>.git/info/lfs/objects/batch` (basic transfer), answering with
  presigned-style storage URLs on this server (`/lfs-storage/…`, signed query, no Authorization
  header allowed, as S3's); `locks/verify` answers 501 (git-lfs then stops asking);
- `GET /api/{models|datasets|spaces}/{ns}/{name}/auth-check[/write]`;
- fault modes per endpoint (`whoami_behavior`, `oauth_behavior`, `lfs_behavior`,
  `auth_check_behavior`): see `FAULTS`;
- optionally TLS behind an HTTP CONNECT proxy (`enable_tls`), so that https://huggingface.co and
  https://hf.co resolve to this server for git, git-lfs and requests (`HTTPS_PROXY`), and extra
  listeners sharing the state (`listen_also`).

Namespaces: a user token with role write/admin pushes to its user's repos and to orgs where
whoami lists it with roleInOrg admin/write; a fine-grained token per its `repo.write` scopes.

    python scripts/local_hub.py --root /tmp/hub --token hf_xxx:alice:write --repo alice/model
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import hmac
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

if TYPE_CHECKING:  # annotations only: the script stays standard-library-only at runtime
    from typing_extensions import Self

WHOAMI_PATH = "/api/whoami-v2"
# Everything git smart HTTP (or dumb HTTP) asks for ends with one of these; the prefix is the repo.
_GIT_PATH = re.compile(
    r"^/(?P<repo>.+?)(?:\.git)?(?P<suffix>/(?:info/refs|git-upload-pack|git-receive-pack|HEAD"
    r"|objects/.+))$"
)
# git-lfs derives `<remote>.git/info/lfs` from the remote URL (or `<remote>/info/lfs` for a remote
# already ending in .git).
_LFS_PATH = re.compile(r"^/(?P<repo>.+?)(?:\.git)?/info/lfs/(?P<rest>objects/batch|locks/verify"
                       r"|locks)$")
_AUTH_CHECK_PATH = re.compile(r"^/api/(?P<type>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"
                              r"/auth-check(?P<write>/write)?$")
_STORAGE_PATH = re.compile(r"^/lfs-storage/(?P<op>upload|download|verify)/(?P<repo>.+)"
                           r"/(?P<oid>[0-9a-f]{64})$")
_OID = re.compile(r"^[0-9a-f]{64}$")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
LFS_JSON = "application/vnd.git-lfs+json"
WRITE_ROLES = ("admin", "write")  # a user's role in an org that lets it push there
REPO_TYPES = ("datasets", "spaces", "models", "kernels")

# The values every `*_behavior` knob takes (None: answer normally).
#   before authentication: "500"/"502"/"503" (that status), "429" (Retry-After: 1),
#   "429:<s>" (Retry-After: s), "redirect:<url>" (302 to url + path), "hang" (never answers),
#   "close" (drops the connection);
#   after a successful authentication, instead of the real answer: "badjson" (cut JSON), "html",
#   "notdict" (a JSON list), "huge" (5 MiB), "slow" (the real body, one byte a second),
#   "trickle" (a 1 MB body, a byte every 0.1 s), "trickle-chunked" (the same, chunked).
FAULTS = ("500", "502", "503", "429", "429:<s>", "redirect:<url>", "hang", "close", "badjson",
          "html", "notdict", "huge", "slow", "trickle", "trickle-chunked")


def _random(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass
class _Token:
    user: str
    role: str
    display_name: str | None = None
    orgs: dict[str, str] = field(default_factory=dict)  # org name -> roleInOrg
    fine_grained: dict | None = None
    is_org: bool = False  # "api_org_..." tokens belong to an organization
    expires_at: float | None = None  # unix seconds; None: never
    oauth: bool = False  # minted by /oauth/token: whoami may lack a displayName

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def _git_env(home: str) -> dict[str, str]:
    """Environment for git child processes that ignores the user's and the system's git config."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Local Hub",
        "GIT_AUTHOR_EMAIL": "hub@example.com",
        "GIT_COMMITTER_NAME": "Local Hub",
        "GIT_COMMITTER_EMAIL": "hub@example.com",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }


def _repo_dir(root: pathlib.Path, repo_id: str) -> pathlib.Path:
    """`root/<repo_id>.git`, refusing ids that could escape the root (`..`, absolute, empty)."""
    parts = repo_id.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise ValueError(f"invalid repo id: {repo_id!r}")
    return root.joinpath(*parts[:-1], parts[-1] + ".git")


def split_repo_id(repo_id: str) -> tuple[str, str]:
    """`(namespace, "ns/name")` of a repo id as URLs spell it (`datasets/ns/name`, `ns/name`)."""
    parts = repo_id.split("/")
    if len(parts) >= 3 and parts[0] in REPO_TYPES:
        parts = parts[1:]
    return parts[0], "/".join(parts)


def _normalize_orgs(orgs: object) -> dict[str, str]:
    """`["acme"]` (role write), `[("acme", "read")]` or `{"acme": "read"}` -> {name: role}."""
    if isinstance(orgs, dict):
        return {str(k): str(v) for k, v in orgs.items()}
    result: dict[str, str] = {}
    for org in orgs or ():
        if isinstance(org, str):
            result[org] = "write"
        else:
            name, role = org
            result[name] = role
    return result


def can_write(tok: _Token, repo_id: str) -> bool:
    """The Hub's push rule: your namespace, orgs where you are admin/write, or fine-grained
    `repo.write` scopes naming the namespace or the repo."""
    namespace, bare_id = split_repo_id(repo_id)

    def member() -> bool:
        return namespace == tok.user or tok.orgs.get(namespace) in WRITE_ROLES

    if tok.role in WRITE_ROLES:
        return member()
    if tok.role != "fineGrained":
        return False
    fg = tok.fine_grained or {}
    if "repo.write" in fg.get("global", []):
        return member()
    names = {bare_id, namespace}
    return any("repo.write" in s.get("permissions", []) and s.get("entity", {}).get("name") in names
               for s in fg.get("scoped", []))


_can_write = can_write  # the seed's name


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # racing test processes connect all at once
    hub: LocalHub

    def handle_error(self, request: object, client_address: object) -> None:
        if self.hub.verbose:  # clients that hang up early (killed, timed out) are expected
            super().handle_error(request, client_address)


class LocalHub:
    def __init__(self, root: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
                 read_push_status: int = 401) -> None:
        self.root = pathlib.Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.host, self._port, self.read_push_status = host, port, read_push_status
        # Fault knobs (see FAULTS), one per endpoint family.
        self.whoami_behavior: str | None = None
        self.oauth_behavior: str | None = None
        self.lfs_behavior: str | None = None
        self.auth_check_behavior: str | None = None
        # (method, path, Authorization scheme, status): no credentials, ever.
        self.requests_log: list[tuple[str, str, str | None, int]] = []
        # The same requests with more detail: method, path, query, host (the Host header, i.e.
        # the name the client used), auth (scheme), user (who authenticated), status, tls.
        self.request_details: list[dict] = []
        self.counters: collections.Counter[str] = collections.Counter()
        self.verbose = False
        self.tokens: dict[str, _Token] = {}
        # OAuth knobs and state.
        self.oauth_expires_in = 30 * 24 * 3600  # lifetime of device/refresh access tokens
        self.oidc_expires_in = 3600  # lifetime of token-exchange access tokens
        self.refresh_rotation = "rotate"  # "rotate" (single use) | "same" | "omit"
        self.oauth_display_name: str | None = None  # whoami's displayName for OAuth tokens
        self.device_interval = 5
        self.device_expires_in = 900
        # Approve (as device_user) once this many polls were answered authorization_pending.
        self.device_auto_approve: int | None = None
        self.device_user = "alice"  # who approves (auto or by the approve URL without ?user=)
        self.device_slow_down = 0  # answer slow_down to this many polls first
        self.device_error: str | None = None  # force "expired_token" / "access_denied"
        self.client_ids: list[str] = []  # every client_id /oauth/* received
        self.devices: dict[str, dict] = {}  # device_code -> state
        self.refresh_tokens: dict[str, dict] = {}  # refresh token -> {user, ..., valid}
        self.id_tokens: dict[str, dict] = {}  # OIDC subject tokens tests registered
        self.exchanges: list[dict] = []  # {resource, user, expires_in} of each exchange
        # LFS knobs.
        self.lfs_verify = True  # offer a verify action after uploads
        self.lfs_locks_status = 501  # answer to locks/verify and locks (git-lfs: not supported)
        self.lfs_upload_denied_status = 403
        self.storage_rejects_authorization = True  # as S3: presigned URL + header = 400
        self.storage_expires_in = 3600
        self._secret = secrets.token_bytes(32)  # signs storage URLs
        self._tls: ssl.SSLContext | None = None
        self.tunnel_hosts: set[str] | None = None  # CONNECT targets accepted (None: any)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        # A private, empty HOME so neither http-backend nor create_repo read ~/.gitconfig.
        self._home = tempfile.mkdtemp(prefix="local-hub-home-")
        weakref.finalize(self, shutil.rmtree, self._home, ignore_errors=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def _serve(self, host: str, port: int) -> _Server:
        handler = type("Handler", (_Handler,), {"hub": self})  # each hub gets its own class
        server = _Server((host, port), handler)
        server.hub = self
        # A short poll interval keeps stop() (and so every test teardown) fast.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                                  name="local-hub")
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)
        return server

    def start(self) -> Self:
        self._stopping.clear()
        self._serve(self.host, self._port)
        return self

    def listen_also(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the same state on another address too (e.g. 127.0.0.2 or a second port, for a
        host alias); returns its URL."""
        server = self._serve(host, port)
        return f"http://{host}:{server.server_address[1]}"

    def stop(self) -> None:
        if not self._servers:
            return
        self._stopping.set()  # wakes "hang"/"slow" handlers
        for server in self._servers:
            server.shutdown()
            server.server_close()
        # Keep-alive connections live in their own daemon threads: cut them so clients see EOF.
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
        self._servers, self._threads = [], []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._servers[0].server_address[1] if self._servers else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def now(self) -> float:
        return time.time()

    # -- TLS behind a CONNECT proxy -----------------------------------------------------------
    def enable_tls(self, certfile: str | os.PathLike, keyfile: str | os.PathLike,
                   hosts: set[str] | None = None) -> None:
        """Accept `CONNECT host:443` on every listener and speak TLS (this cert) inside the
        tunnel: with `HTTPS_PROXY=<hub.url>` (and the CA trusted), https://huggingface.co/…
        and https://hf.co/… land here. `hosts` limits the names tunnelled (None: any)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certfile), str(keyfile))
        self._tls, self.tunnel_hosts = ctx, hosts

    # -- tokens, repos, log ---------------------------------------------------------------------
    def add_token(self, token: str, user: str = "alice", role: str = "write",
                  display_name: str | None = None, orgs: object = (),
                  fine_grained: dict | None = None, expires_at: float | None = None,
                  is_org: bool | None = None) -> None:
        """Register a token. `orgs`: names (roleInOrg write), (name, role) pairs or a dict."""
        with self._lock:
            self.tokens[token] = _Token(
                user, role, display_name, _normalize_orgs(orgs), fine_grained,
                token.startswith("api_org_") if is_org is None else is_org, expires_at)

    def revoke(self, token: str) -> None:
        with self._lock:
            self.tokens.pop(token, None)

    def expire(self, token: str) -> None:
        """Make a token (access or refresh) dead from now on."""
        with self._lock:
            if token in self.tokens:
                self.tokens[token].expires_at = self.now() - 1
            if token in self.refresh_tokens:
                self.refresh_tokens[token]["valid"] = False

    def lookup(self, token: str | None) -> _Token | None:
        """The token's record, or None when unknown, revoked or expired."""
        with self._lock:
            tok = self.tokens.get(token) if token else None
        return None if tok is None or tok.expired(self.now()) else tok

    def create_repo(self, repo_id: str, with_commit: bool = True) -> pathlib.Path:
        path = _repo_dir(self.root, repo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        env = _git_env(self._home)

        def git(*args: str, stdin: bytes | None = None) -> str:
            out = subprocess.run(["git", "--git-dir", str(path), *args], input=stdin, env=env,
                                 check=True, capture_output=True)
            return out.stdout.decode().strip()

        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)],
                       env=env, check=True, capture_output=True)
        git("symbolic-ref", "HEAD", "refs/heads/main")
        if with_commit:
            # Plumbing instead of a worktree: no checkout, no hooks, no user config involved.
            blob = git("hash-object", "-w", "--stdin", stdin=f"# {repo_id}\n".encode())
            tree = git("mktree", stdin=f"100644 blob {blob}\tREADME.md\n".encode())
            commit = git("commit-tree", tree, "-m", "Initial commit")
            git("update-ref", "refs/heads/main", commit)
        return path

    def log(self, entry: tuple[str, str, str | None, int], detail: dict | None = None) -> None:
        with self._lock:
            self.requests_log.append(entry)
            self.request_details.append(detail or {
                "method": entry[0], "path": entry[1], "query": "", "host": None,
                "auth": entry[2], "user": None, "status": entry[3], "tls": False})

    def count(self, path_prefix: str, host: str | None = None) -> int:
        """Requests whose path starts with `path_prefix` (and, if given, whose Host header's
        name is `host`)."""
        with self._lock:
            return sum(1 for d in self.request_details if d["path"].startswith(path_prefix)
                       and (host is None or (d["host"] or "").rsplit(":", 1)[0] == host))

    def counter(self, name: str) -> int:
        """How many times something happened: device_codes, device_polls, device_grants,
        refresh_grants, refreshes, exchanges, exchanges_ok, lfs_batch, lfs_batch_upload,
        lfs_batch_download, lfs_batch_refused, lfs_locks, storage_put, storage_get,
        storage_verify, storage_refused, auth_checks."""
        with self._lock:
            return self.counters[name]

    def bump(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    def whoami_body(self, tok: _Token) -> dict:
        access: dict = {"role": tok.role, "createdAt": "2024-01-01T00:00:00.000Z"}
        if tok.oauth:
            if self.oauth_display_name or tok.display_name:
                access["displayName"] = tok.display_name or self.oauth_display_name
        else:
            access["displayName"] = tok.display_name or f"{tok.user}-{tok.role}"
        if tok.expires_at is not None:
            access["expiresAt"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                                time.gmtime(tok.expires_at))
        if tok.role == "fineGrained":
            access["fineGrained"] = tok.fine_grained or {"global": [], "scoped": []}
        return {
            "type": "org" if tok.is_org else "user",
            "id": hashlib.sha256(tok.user.encode()).hexdigest()[:24],
            "name": tok.user, "fullname": tok.user.title(), "email": f"{tok.user}@example.com",
            "emailVerified": True, "isPro": False,
            "orgs": [{"type": "org", "name": o, "roleInOrg": r} for o, r in tok.orgs.items()],
            "auth": {"type": "access_token", "accessToken": dict(sorted(access.items()))},
        }

    # -- OAuth ----------------------------------------------------------------------------------
    def issue_oauth(self, user: str = "alice", *, role: str = "write",
                    expires_in: float | None = None, refresh: bool = True, orgs: object = (),
                    display_name: str | None = None, fine_grained: dict | None = None,
                    prefix: str = "hf_oauth_") -> dict:
        """Mint an OAuth access token (and a refresh token) as a device or refresh grant does;
        returns the token response plus `expires_at`. A negative `expires_in` gives a token
        that is already expired."""
        lifetime = self.oauth_expires_in if expires_in is None else expires_in
        access = prefix + _random(34)
        expires_at = self.now() + lifetime
        norm_orgs = _normalize_orgs(orgs)
        with self._lock:
            self.tokens[access] = _Token(user, role, display_name, norm_orgs, fine_grained,
                                         False, expires_at, oauth=True)
        answer = {"access_token": access, "token_type": "bearer",
                  "expires_in": int(lifetime), "expires_at": int(expires_at)}
        if refresh:
            rt = "hf_oauth_refresh_" + _random(40)
            with self._lock:
                self.refresh_tokens[rt] = {"user": user, "role": role, "orgs": norm_orgs,
                                           "display_name": display_name, "valid": True}
            answer["refresh_token"] = rt
        return answer

    def add_id_token(self, id_token: str, user: str = "alice",
                     resources: list[str] | None = None) -> None:
        """An OIDC id token the token-exchange grant accepts (for `resources`, None: any)."""
        with self._lock:
            self.id_tokens[id_token] = {"user": user, "resources": resources}

    def revoke_refresh(self, refresh_token: str) -> None:
        with self._lock:
            if refresh_token in self.refresh_tokens:
                self.refresh_tokens[refresh_token]["valid"] = False

    def last_device(self) -> dict | None:
        """The latest device authorization: device_code, user_code, polls, approved_for, …"""
        with self._lock:
            if not self.devices:
                return None
            code, state = list(self.devices.items())[-1]
            return {"device_code": code, **state}

    def approve_device(self, user_code: str, user: str | None = None, deny: bool = False) -> bool:
        """What the user does in the browser: approve (as `user`) or deny a user code."""
        with self._lock:
            for state in self.devices.values():
                if state["user_code"] == user_code.upper() and not state["consumed"]:
                    state["denied"] = deny
                    state["approved_for"] = None if deny else (user or self.device_user)
                    return True
        return False

    def _storage_sig(self, op: str, repo_id: str, oid: str, size: int, exp: int) -> str:
        msg = f"{op}\n{repo_id}\n{oid}\n{size}\n{exp}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def lfs_object_path(self, repo_id: str, oid: str) -> pathlib.Path:
        return _repo_dir(self.root, repo_id) / "lfs" / "objects" / oid[:2] / oid[2:4] / oid


class _Handler(BaseHTTPRequestHandler):
    hub: LocalHub
    protocol_version = "HTTP/1.1"  # keep-alive: git reuses connections, benchmarks care
    # TCP_NODELAY: headers and body go out in two writes; with Nagle + the client's delayed ACK
    # every response with a body stalled ~40 ms (ls-remote: 130 ms instead of 40 ms).
    disable_nagle_algorithm = True
    server_version = "LocalHub/1.0"
    _auth_user: str | None = None

    def setup(self) -> None:
        super().setup()
        with self.hub._lock:
            self.hub._conns.add(self.connection)

    def finish(self) -> None:
        with self.hub._lock:
            self.hub._conns.discard(self.connection)
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        if self.hub.verbose:  # request lines carry no credentials: git/curl move them to headers
            sys.stderr.write(f"local_hub: {self.address_string()} {format % args}\n")

    def _record(self, code: int) -> None:
        scheme = (self.headers.get("Authorization") or "").split(" ")[0] or None
        if self.command == "CONNECT":
            path, query = self.path, ""
        else:
            split = urlsplit(self.path)
            path, query = split.path, split.query
        self.hub.log((self.command, path, scheme, code), {
            "method": self.command, "path": path, "query": query,
            "host": self.headers.get("Host"), "auth": scheme, "user": self._auth_user,
            "status": code, "tls": isinstance(self.connection, ssl.SSLSocket)})

    def send_response(self, code: int, message: str | None = None) -> None:
        # Logged before the client can see the response, so tests can assert right after.
        self._record(code)
        super().send_response(code, message)

    def _reply(self, code: int, body: bytes | str | dict | list = b"",
               headers: dict | None = None,
               content_type: str = "text/plain; charset=utf-8") -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            if content_type.startswith("text/plain"):
                content_type = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        """Always drain the request body, or the next request on this keep-alive socket breaks."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:  # git uses chunked encoding for big pushes
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers, then the blank line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _credentials(self) -> str | None:
        """The token: a Bearer token, or the password of Basic auth (the username is ignored)."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value.strip()).decode().partition(":")[2]
            except ValueError:
                return None
        return None

    def _authenticate(self, bearer_only: bool = False) -> _Token | None:
        if bearer_only:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            tok = self.hub.lookup(token.strip() if scheme.lower() == "bearer" else None)
        else:
            tok = self.hub.lookup(self._credentials())
        self._auth_user = tok.user if tok else None
        return tok

    # -- dispatch -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_PUT = do_GET

    def do_CONNECT(self) -> None:
        """A CONNECT proxy to ourselves: TLS inside the tunnel, then the same handler."""
        self._auth_user = None
        hub, target = self.hub, self.path.rpartition(":")[0] or self.path
        if hub._tls is None or (hub.tunnel_hosts is not None and target not in hub.tunnel_hosts):
            self.close_connection = True
            return self._reply(403, "tunnel refused\n")
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            tls = hub._tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            type(self)(tls, self.client_address, self.server)  # serves the tunnel until EOF
        except (ssl.SSLError, OSError):
            pass

    def _handle(self) -> None:
        self._auth_user = None
        body = self._read_body()
        split = urlsplit(self.path)
        path = split.path
        if path == WHOAMI_PATH and self.command == "GET":
            return self._whoami()
        if path.startswith("/oauth/") or path == "/device":
            return self._oauth(path, split.query, body)
        match = _AUTH_CHECK_PATH.match(path)
        if match and self.command == "GET":
            return self._auth_check(match)
        match = _STORAGE_PATH.match(unquote(path))
        if match:
            return self._storage(match, split.query, body)
        match = _LFS_PATH.match(unquote(path))
        if match:
            return self._lfs(match["repo"], match["rest"], body)
        match = _GIT_PATH.match(unquote(path))
        if not match:
            return self._reply(404, {"error": "Not Found"})
        tok = self._authenticate()
        if tok is None:  # before the existence check, like the Hub: don't leak private repo names
            return self._reply(401, "Invalid username or password.\n",
                               {"WWW-Authenticate": 'Basic realm="Hugging Face"'})
        repo_id, suffix = match["repo"], match["suffix"]
        repo_dir = self._existing_repo(repo_id)
        if repo_dir is None:
            return self._reply(404, "Repository not found\n")
        pushing = suffix == "/git-receive-pack" or "service=git-receive-pack" in split.query
        if pushing and not can_write(tok, repo_id):
            headers = {"WWW-Authenticate": 'Basic realm="Hugging Face"'}
            return self._reply(self.hub.read_push_status,
                               "You are not authorized to push to this repo.\n",
                               headers if self.hub.read_push_status == 401 else None)
        self._cgi(repo_dir.relative_to(self.hub.root).as_posix() + suffix, split.query, body,
                  tok.user)

    def _existing_repo(self, repo_id: str) -> pathlib.Path | None:
        try:
            repo_dir = _repo_dir(self.hub.root, repo_id)
        except ValueError:
            return None
        if not repo_dir.is_dir() or self.hub.root not in repo_dir.resolve().parents:
            return None
        return repo_dir

    def _cgi(self, path_info: str, query: str, body: bytes, user: str) -> None:
        env = _git_env(self.hub._home)
        env.update({
            "GIT_PROJECT_ROOT": str(self.hub.root), "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": "/" + path_info, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
            "REMOTE_USER": user, "REMOTE_ADDR": self.client_address[0],
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
        })
        if self.command == "POST":
            env["CONTENT_LENGTH"] = str(len(body))  # decoded length, even if it came chunked
            env["CONTENT_TYPE"] = self.headers.get("Content-Type", "")
        for header, var in (("Git-Protocol", "GIT_PROTOCOL"),
                            ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if self.headers.get(header):
                env[var] = self.headers[header]
        proc = subprocess.run(["git", "http-backend"], check=False, input=body, env=env,
                              capture_output=True)
        if proc.stderr and self.hub.verbose:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
        head, sep, out = proc.stdout.partition(b"\r\n\r\n")
        if not sep:  # http-backend writes CRLF, but be lenient
            head, sep, out = proc.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key and key.lower() != "content-length":  # we recompute it below
                headers[key.strip()] = value.strip()
        if not sep:
            status, headers, out = 500, {}, b"git http-backend failed\n"
        content_type = headers.pop("Content-Type", "application/octet-stream")
        self._reply(status, out, headers, content_type)

    # -- faults ---------------------------------------------------------------------------------
    def _fault_before(self, behavior: str | None) -> bool:
        """Faults that happen whatever the credentials; True when the request was answered."""
        behavior = behavior or ""
        if behavior in ("500", "502", "503"):
            self._reply(int(behavior), {"error": "Internal Error"})
            return True
        if behavior == "429" or behavior.startswith("429:"):
            retry = behavior.partition(":")[2] or "1"
            self._reply(429, {"error": "Too Many Requests"}, {"Retry-After": retry})
            return True
        if behavior.startswith("redirect:"):
            self._reply(302, "", {"Location": behavior[len("redirect:"):] + self.path})
            return True
        if behavior == "hang":  # never answer; give up at stop() so shutdown is quick
            self._record(0)
            self.hub._stopping.wait(120)
            self.close_connection = True
            return True
        if behavior == "close":
            self._record(0)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        return False

    def _fault_after(self, behavior: str | None, payload: dict) -> bool:
        """Faults in place of a successful answer (`payload`); True when answered."""
        behavior = behavior or ""
        if behavior == "badjson":
            data = json.dumps(payload).encode()
            self._reply(200, data[: len(data) // 2], content_type="application/json")
        elif behavior == "html":
            self._reply(200, "<html><body>Service Unavailable</body></html>",
                        content_type="text/html")
        elif behavior == "notdict":
            self._reply(200, b'["alice"]', content_type="application/json")
        elif behavior == "huge":
            self._reply(200, b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}',
                        content_type="application/json")
        elif behavior == "slow":  # headers now, then one byte per second: defeats read timeouts
            self._trickle(json.dumps(payload).encode(), 1.0, chunked=False)
        elif behavior in ("trickle", "trickle-chunked"):  # a byte every 0.1 s of a 1 MB body
            self._trickle(b" " * 1_000_000, 0.1, chunked=behavior == "trickle-chunked")
        else:
            return False
        return True

    def _trickle(self, data: bytes, delay: float, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(len(data)):
                if self.hub._stopping.wait(delay):
                    break
                piece = data[i:i + 1]
                self.wfile.write(b"1\r\n" + piece + b"\r\n" if chunked else piece)
                self.wfile.flush()
        except OSError:
            pass  # client gave up
        self.close_connection = True

    # -- whoami ---------------------------------------------------------------------------------
    def _whoami(self) -> None:
        behavior = self.hub.whoami_behavior
        if self._fault_before(behavior):
            return
        tok = self._authenticate(bearer_only=True)
        if tok is None:
            return self._reply(401, {"error": "Invalid credentials in Authorization header"})
        info = self.hub.whoami_body(tok)
        if not self._fault_after(behavior, info):
            self._reply(200, info)

    # -- auth-check -----------------------------------------------------------------------------
    def _auth_check(self, match: re.Match) -> None:
        self.hub.bump("auth_checks")
        behavior = self.hub.auth_check_behavior
        if self._fault_before(behavior):
            return
        tok = self._authenticate(bearer_only=True)
        if tok is None:
            return self._reply(401, {"error": "Invalid credentials in Authorization header"},
                               {"X-Error-Code": "InvalidCredentials"})
        kind, repo = match["type"], match["repo"]
        repo_id = repo if kind == "models" else f"{kind}/{repo}"
        if self._existing_repo(repo_id) is None:
            return self._reply(404, {"error": "Repository not found"},
                               {"X-Error-Code": "RepoNotFound"})
        access = "write" if match["write"] else "read"
        if access == "write" and not can_write(tok, repo_id):
            return self._reply(403, {"error": f"You don't have write access to {repo_id}"},
                               {"X-Error-Code": "Forbidden"})
        answer = {"repoId": repo, "repoType": kind[:-1], "access": access}
        if not self._fault_after(behavior, answer):
            self._reply(200, answer)

    # -- OAuth ----------------------------------------------------------------------------------
    def _form(self, body: bytes, query: str = "") -> dict[str, str]:
        """Form fields (urlencoded or JSON body), then the query string's."""
        fields: dict[str, str] = {}
        for key, values in parse_qs(query, keep_blank_values=True).items():
            fields[key] = values[0]
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                data = None
            if isinstance(data, dict):
                fields.update({k: str(v) for k, v in data.items() if v is not None})
        else:
            try:
                text = body.decode()
            except UnicodeDecodeError:
                text = ""
            for key, values in parse_qs(text, keep_blank_values=True).items():
                fields[key] = values[0]
        return fields

    def _oauth_error(self, error: str, description: str = "", status: int = 400) -> None:
        self._reply(status, {"error": error, "error_description": description},
                    {"Cache-Control": "no-store"})

    def _oauth(self, path: str, query: str, body: bytes) -> None:
        hub = self.hub
        if path == "/device" and self.command == "GET":  # the verification page
            code = parse_qs(query).get("user_code", [""])[0]
            page = (f"<html><body><h1>Device login</h1><p>Code: <b>{code}</b></p>"
                    f"<form method='post' action='/oauth/device/approve'>"
                    f"<input name='user_code' value='{code}'><button>Authorize</button>"
                    f"</form></body></html>")
            return self._reply(200, page, content_type="text/html; charset=utf-8")
        if path == "/oauth/device/approve" and self.command in ("GET", "POST"):
            fields = self._form(body, query)
            tok = self._authenticate()  # a logged-in browser: approve as that user
            user = fields.get("user") or (tok.user if tok else None)
            deny = fields.get("deny", "") not in ("", "0", "false")
            if not hub.approve_device(fields.get("user_code", ""), user, deny=deny):
                return self._reply(404, {"error": "unknown or used user_code"})
            return self._reply(200, {"user_code": fields["user_code"].upper(),
                                     "approved": not deny, "user": user or hub.device_user})
        if self.command != "POST" or path not in ("/oauth/device", "/oauth/token"):
            return self._reply(404 if self.command in ("GET", "HEAD") else 405,
                               {"error": "Not Found"})
        behavior = hub.oauth_behavior
        if self._fault_before(behavior):
            return
        fields = self._form(body)
        if fields.get("client_id"):
            with hub._lock:
                hub.client_ids.append(fields["client_id"])
        if path == "/oauth/device":
            return self._device_authorization(fields, behavior)
        grant = fields.get("grant_type", "")
        if grant == DEVICE_GRANT:
            return self._device_grant(fields, behavior)
        if grant == REFRESH_GRANT:
            return self._refresh_grant(fields, behavior)
        if grant == EXCHANGE_GRANT:
            return self._exchange_grant(fields, behavior)
        if not grant:
            return self._oauth_error("invalid_request", "grant_type is required")
        return self._oauth_error("unsupported_grant_type", f"unsupported grant_type {grant!r}")

    def _host_url(self) -> str:
        """The origin this request used (so the client's name, proxy and scheme keep working)."""
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        host = self.headers.get("Host") or f"{self.hub.host}:{self.hub.port}"
        return f"{scheme}://{host}"

    def _token_answer(self, answer: dict, behavior: str | None) -> None:
        answer = {k: v for k, v in answer.items() if k != "expires_at"}
        if not self._fault_after(behavior, answer):
            self._reply(200, answer, {"Cache-Control": "no-store"})

    def _device_authorization(self, fields: dict[str, str], behavior: str | None) -> None:
        hub = self.hub
        if not fields.get("client_id"):
            return self._oauth_error("invalid_request", "client_id is required")
        device_code = _random(40)
        user_code = _random(4, string.ascii_uppercase) + "-" + _random(4, string.ascii_uppercase)
        with hub._lock:
            hub.counters["device_codes"] += 1
            hub.devices[device_code] = {
                "user_code": user_code, "client_id": fields["client_id"], "polls": 0, "pending": 0,
                "approved_for": None, "denied": False, "consumed": False,
                "expires_at": hub.now() + hub.device_expires_in}
        base = self._host_url()
        answer = {"device_code": device_code, "user_code": user_code,
                  "verification_uri": f"{base}/device",
                  "verification_uri_complete": f"{base}/device?user_code={user_code}",
                  "interval": hub.device_interval, "expires_in": hub.device_expires_in}
        if not self._fault_after(behavior, answer):
            self._reply(200, answer, {"Cache-Control": "no-store"})

    def _device_grant(self, fields: dict[str, str], behavior: str | None) -> None:
        hub = self.hub
        with hub._lock:
            hub.counters["device_polls"] += 1
            state = hub.devices.get(fields.get("device_code", ""))
            if state is None or state["consumed"]:
                error = "invalid_grant"
            elif hub.device_error:
                error = hub.device_error
            elif state["denied"]:
                error = "access_denied"
            elif hub.now() >= state["expires_at"]:
                error = "expired_token"
            elif state["polls"] < hub.device_slow_down:
                state["polls"] += 1
                error = "slow_down"
            else:
                state["polls"] += 1
                auto = hub.device_auto_approve
                if state["approved_for"] is None and auto is not None and state["pending"] >= auto:
                    state["approved_for"] = hub.device_user
                error = "" if state["approved_for"] else "authorization_pending"
                state["pending"] += bool(error)
            if not error:
                state["consumed"] = True
                user = state["approved_for"]
                hub.counters["device_grants"] += 1
        if error:
            return self._oauth_error(error, {
                "invalid_grant": "unknown or used device_code",
                "authorization_pending": "the user has not authorized the device yet",
                "slow_down": "polling too fast", "expired_token": "the device code expired",
                "access_denied": "the user denied the request"}.get(error, error))
        with hub._lock:
            orgs = next((t.orgs for t in hub.tokens.values() if t.user == user), {})
        self._token_answer(hub.issue_oauth(user, orgs=orgs), behavior)

    def _refresh_grant(self, fields: dict[str, str], behavior: str | None) -> None:
        hub = self.hub
        old = fields.get("refresh_token", "")
        with hub._lock:
            hub.counters["refresh_grants"] += 1
            record = hub.refresh_tokens.get(old)
            if record is None or not record["valid"]:
                record = None
            elif hub.refresh_rotation == "rotate":
                record["valid"] = False  # single use
        if record is None:
            return self._oauth_error("invalid_grant", "the refresh token is invalid or was used")
        rotate = hub.refresh_rotation == "rotate"
        answer = hub.issue_oauth(record["user"], role=record["role"], orgs=record["orgs"],
                                 display_name=record["display_name"], refresh=rotate)
        if hub.refresh_rotation == "same":
            answer["refresh_token"] = old
        hub.bump("refreshes")
        self._token_answer(answer, behavior)

    def _exchange_grant(self, fields: dict[str, str], behavior: str | None) -> None:
        hub = self.hub
        hub.bump("exchanges")
        subject, resource = fields.get("subject_token", ""), fields.get("resource", "")
        with hub._lock:
            identity = hub.id_tokens.get(subject)
        if fields.get("subject_token_type", ID_TOKEN_TYPE) != ID_TOKEN_TYPE:
            return self._oauth_error("invalid_request", "subject_token_type must be an id_token")
        if identity is None:
            return self._oauth_error("invalid_grant", "the subject token is not valid")
        if not resource:
            return self._oauth_error("invalid_request", "resource is required")
        allowed = identity["resources"]
        if allowed is not None and resource not in allowed:
            return self._oauth_error("invalid_target", f"not allowed for {resource}")
        if "/" in resource:  # a repo: a write token scoped to it
            _ns, bare = split_repo_id(resource)
            kind = resource.split("/")[0][:-1] if resource.split("/")[0] in REPO_TYPES else "model"
            fine = {"global": [], "scoped": [{"entity": {"type": kind, "name": bare},
                                              "permissions": ["repo.content.read",
                                                              "repo.write"]}]}
            answer = hub.issue_oauth(identity["user"], role="fineGrained", fine_grained=fine,
                                     expires_in=hub.oidc_expires_in, refresh=False,
                                     prefix="hf_jwt_")
        else:  # a user name: a read-only token
            answer = hub.issue_oauth(identity["user"], role="read", refresh=False,
                                     expires_in=hub.oidc_expires_in, prefix="hf_jwt_")
        with hub._lock:
            hub.counters["exchanges_ok"] += 1
            hub.exchanges.append({"resource": resource, "user": identity["user"],
                                  "expires_in": answer["expires_in"]})
        answer["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token"
        self._token_answer(answer, behavior)

    # -- LFS ------------------------------------------------------------------------------------
    def _lfs_reply(self, code: int, body: dict, headers: dict | None = None) -> None:
        self._reply(code, body, headers, content_type=LFS_JSON)

    def _lfs(self, repo_id: str, rest: str, body: bytes) -> None:
        hub = self.hub
        is_batch = rest == "objects/batch"
        hub.bump("lfs_batch" if is_batch else "lfs_locks")
        if self._fault_before(hub.lfs_behavior):
            return
        tok = self._authenticate()
        if tok is None:
            if is_batch:
                hub.bump("lfs_batch_refused")
            realm = 'Basic realm="Hugging Face"'
            return self._lfs_reply(401, {"message": "Invalid credentials"},
                                   {"WWW-Authenticate": realm, "LFS-Authenticate": realm})
        if self._existing_repo(repo_id) is None:
            return self._lfs_reply(404, {"message": "Repository not found"})
        if not is_batch:
            return self._lfs_reply(hub.lfs_locks_status, {"message": "Locking is not supported"})
        try:
            request = json.loads(body or b"null")
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("objects"), list):
            return self._lfs_reply(422, {"message": "malformed batch request"})
        operation = request.get("operation")
        if operation not in ("upload", "download"):
            return self._lfs_reply(422, {"message": f"unknown operation {operation!r}"})
        hub.bump(f"lfs_batch_{operation}")
        if operation == "upload" and not can_write(tok, repo_id):
            hub.bump("lfs_batch_refused")
            return self._lfs_reply(hub.lfs_upload_denied_status,
                                   {"message": "You are not authorized to push to this repo."})
        objects = [self._lfs_object(repo_id, operation, o) for o in request["objects"]]
        answer = {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
        if not self._fault_after(hub.lfs_behavior, answer):
            self._lfs_reply(200, answer)

    def _lfs_object(self, repo_id: str, operation: str, obj: object) -> dict:
        hub = self.hub
        oid = obj.get("oid") if isinstance(obj, dict) else None
        size = obj.get("size") if isinstance(obj, dict) else None
        if not isinstance(oid, str) or not _OID.match(oid) or not isinstance(size, int) \
                or isinstance(size, bool) or size < 0:
            return {"oid": str(oid), "size": size if isinstance(size, int) else 0,
                    "error": {"code": 422, "message": "invalid oid or size"}}
        path = hub.lfs_object_path(repo_id, oid)
        stored = path.is_file() and path.stat().st_size == size
        result: dict = {"oid": oid, "size": size}
        exp = int(hub.now() + hub.storage_expires_in)

        def action(op: str) -> dict:
            sig = hub._storage_sig(op, repo_id, oid, size, exp)
            href = (f"{self._host_url()}/lfs-storage/{op}/{quote(repo_id)}/{oid}"
                    f"?size={size}&exp={exp}&sig={sig}")
            return {"href": href, "expires_in": hub.storage_expires_in}

        if operation == "upload":
            if not stored:
                result["authenticated"] = True
                result["actions"] = {"upload": action("upload")}
                if hub.lfs_verify:
                    result["actions"]["verify"] = action("verify")
        elif stored:
            result["authenticated"] = True
            result["actions"] = {"download": action("download")}
        else:
            result["error"] = {"code": 404, "message": "Object does not exist"}
        return result

    def _storage(self, match: re.Match, query: str, body: bytes) -> None:
        """Presigned-style storage: the signed query authorizes; an Authorization header is an
        error, as on S3."""
        hub = self.hub
        op, repo_id, oid = match["op"], match["repo"], match["oid"]
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if self.headers.get("Authorization") and hub.storage_rejects_authorization:
            hub.bump("storage_refused")
            return self._reply(400, "<Error><Code>InvalidArgument</Code><Message>Only one auth "
                                    "mechanism allowed</Message></Error>",
                               content_type="application/xml")
        try:
            size, exp = int(params.get("size", "")), int(params.get("exp", ""))
        except ValueError:
            size = exp = -1
        good = hmac.compare_digest(params.get("sig", ""),
                                   hub._storage_sig(op, repo_id, oid, size, exp))
        if not good or exp < hub.now():
            hub.bump("storage_refused")
            return self._reply(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                               content_type="application/xml")
        path = hub.lfs_object_path(repo_id, oid)
        expected = {"upload": "PUT", "download": "GET", "verify": "POST"}[op]
        if self.command != expected and not (op == "download" and self.command == "HEAD"):
            return self._reply(405, "method not allowed\n")
        if op == "upload":
            hub.bump("storage_put")
            if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
                return self._reply(400, "<Error><Code>BadDigest</Code></Error>",
                                   content_type="application/xml")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{oid}.{threading.get_ident()}")
            tmp.write_bytes(body)
            os.replace(tmp, path)
            return self._reply(200, b"")
        if op == "verify":
            hub.bump("storage_verify")
            if path.is_file() and path.stat().st_size == size:
                return self._lfs_reply(200, {"message": "ok"})
            return self._lfs_reply(404, {"message": "Object does not exist"})
        hub.bump("storage_get")
        if not path.is_file():
            return self._reply(404, "<Error><Code>NoSuchKey</Code></Error>",
                               content_type="application/xml")
        self._reply(200, path.read_bytes(), content_type="application/octet-stream")


def make_tls_files(folder: str | os.PathLike,
                   names: tuple[str, ...] = ("huggingface.co", "hf.co", "localhost")
                   ) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for `names`, with the `openssl` command:
    returns (ca_file, cert_file, key_file). For tests only (the keys are not protected)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (str(folder / n) for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n"
                   "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    # keyUsage on the CA and keyids on both: Python >= 3.13 verifies with VERIFY_X509_STRICT.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=local-hub test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", f"/CN={names[0]}")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", str(ext))
    return ca, cert, key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory holding the bare repos")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN[:USER[:ROLE]]")
    parser.add_argument("--repo", action="append", default=[], metavar="NS/NAME")
    parser.add_argument("--read-push-status", type=int, default=401, choices=(401, 403))
    parser.add_argument("--device-auto-approve", type=int, metavar="N",
                        help="approve a device login after N pending polls (as --device-user)")
    parser.add_argument("--device-user", default="alice")
    parser.add_argument("--device-interval", type=int, default=5, metavar="S")
    parser.add_argument("--oauth-expires-in", type=int, metavar="S",
                        help="lifetime of OAuth access tokens (default 30 days)")
    parser.add_argument("--ready-file", help="write the URL to this file once listening")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)

    hub = LocalHub(args.root, args.host, args.port, args.read_push_status)
    hub.verbose = args.verbose
    hub.device_auto_approve, hub.device_user = args.device_auto_approve, args.device_user
    hub.device_interval = args.device_interval
    if args.oauth_expires_in is not None:
        hub.oauth_expires_in = args.oauth_expires_in
    for spec in args.token:  # TOKEN[:USER[:ROLE]]
        token, user, role = [*spec.split(":"), "", ""][:3]
        hub.add_token(token, user or "alice", role or "write")
    for repo_id in args.repo:
        if not _repo_dir(hub.root, repo_id).exists():
            hub.create_repo(repo_id)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    hub.start()
    if args.ready_file:  # atomic, and before the stdout line: either signal means "ready"
        tmp = f"{args.ready_file}.tmp{os.getpid()}"
        pathlib.Path(tmp).write_text(hub.url + "\n")
        os.replace(tmp, args.ready_file)
    print(hub.url, flush=True)
    while not done.wait(0.2):  # a timed wait lets the signal handler run promptly
        pass
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
