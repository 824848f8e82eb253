#!/usr/bin/env python3
"""A tiny local imitation of the Hugging Face Hub, for end-to-end tests, demos and benchmarks.

It serves `GET /api/whoami-v2` (Bearer token) and git smart HTTP (Basic auth whose password is
a token) by running the real `git http-backend` as a CGI program. Standard library only.

    python scripts/local_hub.py --root /tmp/hub --token hf_xxx:alice:write --repo alice/model
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # annotations only: the script stays standard-library-only at runtime
    from typing_extensions import Self

WHOAMI_PATH = "/api/whoami-v2"
# Everything git smart HTTP (or dumb HTTP) asks for ends with one of these; the prefix is the repo.
_GIT_PATH = re.compile(
    r"^/(?P<repo>.+?)(?:\.git)?(?P<suffix>/(?:info/refs|git-upload-pack|git-receive-pack|HEAD"
    r"|objects/.+))$"
)


@dataclass
class _Token:
    user: str
    role: str
    display_name: str | None = None
    orgs: list[str] = field(default_factory=list)
    fine_grained: dict | None = None
    is_org: bool = False  # "api_org_..." tokens belong to an organization


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


class LocalHub:
    def __init__(self, root: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
                 read_push_status: int = 401) -> None:
        self.root = pathlib.Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.host, self._port, self.read_push_status = host, port, read_push_status
        self.whoami_behavior: str | None = None
        self.requests_log: list[tuple[str, str, str | None, int]] = []
        self.verbose = False
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        # A private, empty HOME so neither http-backend nor create_repo read ~/.gitconfig.
        self._home = tempfile.mkdtemp(prefix="local-hub-home-")
        weakref.finalize(self, shutil.rmtree, self._home, ignore_errors=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"hub": self})  # each hub gets its own class
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self._port), handler)
        # A short poll interval keeps stop() (and so every test teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="local-hub")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes "hang"/"slow" handlers
        self._server.shutdown()
        self._server.server_close()
        # Keep-alive connections live in their own daemon threads: cut them so clients see EOF.
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- tokens, repos, log ---------------------------------------------------------------------
    def add_token(self, token: str, user: str = "alice", role: str = "write",
                  display_name: str | None = None, orgs: list[str] = (),
                  fine_grained: dict | None = None) -> None:
        with self._lock:
            self._tokens[token] = _Token(user, role, display_name, list(orgs), fine_grained,
                                         token.startswith("api_org_"))

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def lookup(self, token: str | None) -> _Token | None:
        with self._lock:
            return self._tokens.get(token) if token else None

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

    def log(self, entry: tuple[str, str, str | None, int]) -> None:
        with self._lock:
            self.requests_log.append(entry)

    def count(self, path_prefix: str) -> int:
        with self._lock:
            return sum(1 for _, path, _, _ in self.requests_log if path.startswith(path_prefix))

    def whoami_body(self, tok: _Token) -> dict:
        access: dict = {"displayName": tok.display_name or f"{tok.user}-{tok.role}",
                        "role": tok.role, "createdAt": "2024-01-01T00:00:00.000Z"}
        if tok.role == "fineGrained":
            access["fineGrained"] = tok.fine_grained or {"global": [], "scoped": []}
        return {
            "type": "org" if tok.is_org else "user",
            "id": hashlib.sha256(tok.user.encode()).hexdigest()[:24],
            "name": tok.user, "fullname": tok.user.title(), "email": f"{tok.user}@example.com",
            "emailVerified": True, "isPro": False,
            "orgs": [{"type": "org", "name": o, "roleInOrg": "write"} for o in tok.orgs],
            "auth": {"type": "access_token", "accessToken": access},
        }


def _can_write(tok: _Token, repo_id: str) -> bool:
    if tok.role in ("write", "admin"):
        return True
    if tok.role != "fineGrained":
        return False
    fg = tok.fine_grained or {}
    if "repo.write" in fg.get("global", []):
        return True
    # Scoped permissions name either the namespace (user/org) or the repo itself.
    bare_id = repo_id.split("/", 1)[1] if repo_id.startswith(("datasets/", "spaces/")) else repo_id
    names = {bare_id, bare_id.split("/")[0]}
    return any("repo.write" in s.get("permissions", []) and s.get("entity", {}).get("name") in names
               for s in fg.get("scoped", []))


class _Handler(BaseHTTPRequestHandler):
    hub: LocalHub
    protocol_version = "HTTP/1.1"  # keep-alive: git reuses connections, benchmarks care
    # TCP_NODELAY: headers and body go out in two writes; with Nagle + the client's delayed ACK
    # every response with a body stalled ~40 ms (ls-remote: 130 ms instead of 40 ms).
    disable_nagle_algorithm = True
    server_version = "LocalHub/1.0"

    def setup(self) -> None:
        super().setup()
        with self.hub._lock:
            self.hub._conns.add(self.connection)

    def finish(self) -> None:
        with self.hub._lock:
            self.hub._conns.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        if self.hub.verbose:  # request lines carry no credentials: git/curl move them to headers
            sys.stderr.write(f"local_hub: {self.address_string()} {format % args}\n")

    def send_response(self, code: int, message: str | None = None) -> None:
        # Logged before the client can see the response, so tests can assert right after.
        scheme = (self.headers.get("Authorization") or "").split(" ")[0] or None
        self.hub.log((self.command, urlsplit(self.path).path, scheme, code))
        super().send_response(code, message)

    def _reply(self, code: int, body: bytes | str | dict = b"", headers: dict | None = None,
               content_type: str = "text/plain; charset=utf-8") -> None:
        if isinstance(body, dict):
            body, content_type = json.dumps(body).encode(), "application/json"
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

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_GET

    def _handle(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        if split.path == WHOAMI_PATH and self.command == "GET":
            return self._whoami()
        match = _GIT_PATH.match(unquote(split.path))
        if not match:
            return self._reply(404, {"error": "Not Found"})
        tok = self.hub.lookup(self._credentials())
        if tok is None:  # before the existence check, like the Hub: don't leak private repo names
            return self._reply(401, "Invalid username or password.\n",
                               {"WWW-Authenticate": 'Basic realm="Hugging Face"'})
        repo_id, suffix = match["repo"], match["suffix"]
        try:
            repo_dir = _repo_dir(self.hub.root, repo_id)
        except ValueError:
            return self._reply(404, "Repository not found\n")
        if not repo_dir.is_dir() or self.hub.root not in repo_dir.resolve().parents:
            return self._reply(404, "Repository not found\n")
        pushing = suffix == "/git-receive-pack" or "service=git-receive-pack" in split.query
        if pushing and not _can_write(tok, repo_id):
            headers = {"WWW-Authenticate": 'Basic realm="Hugging Face"'}
            return self._reply(self.hub.read_push_status,
                               "You are not authorized to push to this repo.\n",
                               headers if self.hub.read_push_status == 401 else None)
        self._cgi(repo_dir.relative_to(self.hub.root).as_posix() + suffix, split.query, body,
                  tok.user)

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

    def _whoami(self) -> None:
        behavior = self.hub.whoami_behavior or ""
        if behavior == "500":
            return self._reply(500, {"error": "Internal Error"})
        if behavior == "429":
            return self._reply(429, {"error": "Too Many Requests"}, {"Retry-After": "1"})
        if behavior.startswith("redirect:"):
            return self._reply(302, "", {"Location": behavior[len("redirect:"):] + self.path})
        if behavior == "hang":  # never answer; give up at stop() so shutdown is quick
            self.hub.log((self.command, WHOAMI_PATH, None, 0))
            self.hub._stopping.wait(60)
            self.close_connection = True
            return
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        tok = self.hub.lookup(token.strip() if scheme.lower() == "bearer" else None)
        if tok is None:
            return self._reply(401, {"error": "Invalid credentials in Authorization header"})
        info = self.hub.whoami_body(tok)
        if behavior == "badjson":
            return self._reply(200, b'{"type": "user", "name": ', content_type="application/json")
        if behavior == "slow":  # headers now, then one byte per second: defeats read timeouts
            data = json.dumps(info).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for i in range(len(data)):
                    if self.hub._stopping.wait(1):
                        break
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
            except OSError:
                pass  # client gave up
            self.close_connection = True
            return
        self._reply(200, info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory holding the bare repos")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN[:USER[:ROLE]]")
    parser.add_argument("--repo", action="append", default=[], metavar="NS/NAME")
    parser.add_argument("--read-push-status", type=int, default=401, choices=(401, 403))
    parser.add_argument("--ready-file", help="write the URL to this file once listening")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)

    hub = LocalHub(args.root, args.host, args.port, args.read_push_status)
    hub.verbose = args.verbose
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
