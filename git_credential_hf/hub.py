"""The Hub client: ``GET {endpoint}/api/whoami-v2``, what its answer means, and the HTTP transport
every Hub call (``oauth`` included) goes through.

``requests`` is imported here only, when the Hub is called. A token travels only through the
``auth=`` hook (``BearerAuth``), so ``~/.netrc`` and URL userinfo cannot replace it. Every
error message names the endpoint and the failure, never the token. Redirects are not followed:
the Authorization header must not travel anywhere the user did not configure.
"""

from __future__ import annotations

from . import output, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
TOTAL_TIMEOUT_S = 12.0  # bounds a server that trickles its body byte by byte
MAX_BODY = 1024 * 1024
ORG_TOKEN_PREFIX = "api_org_"
ORG_TOKEN_MESSAGE = "You must use your personal account token, not an organization token."


class HubError(Exception):
    """The Hub could not confirm a token. Subclasses say why; messages hold no token."""


class OrgTokenError(HubError):
    """An organization token (``api_org_…``), refused before any network call."""


class MalformedTokenError(HubError):
    """Not a token at all (empty, spaces, control or non-ASCII characters): refused before any
    network call, since it could not travel in an HTTP header as it is."""


class InvalidTokenError(HubError):
    """The Hub answered 401: the token is unknown, revoked or expired."""


class RateLimitedError(HubError):
    """The Hub answered 429. ``retry_after`` is in seconds when the Hub said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HubUnavailableError(HubError):
    """No usable answer: unreachable, timed out, 5xx, redirect, or not the expected JSON."""


def well_formed(token: object) -> bool:
    """A token that can travel in an HTTP header as it is: printable ASCII, no spaces."""
    return isinstance(token, str) and bool(token) and all("!" <= c <= "~" for c in token)


def whoami(token: str, endpoint: str | None = None) -> dict[str, Any]:
    """The whoami-v2 answer for ``token``, or a ``HubError`` subclass."""
    if not well_formed(token):
        raise MalformedTokenError("not a well-formed token (printable ASCII only, no spaces)")
    if token.startswith(ORG_TOKEN_PREFIX):
        raise OrgTokenError(ORG_TOKEN_MESSAGE)
    base = (endpoint or settings.endpoint()).rstrip("/")
    status, body, headers = _get(f"{base}/api/whoami-v2", token, base)
    if status == 401:
        raise InvalidTokenError(f"{base} rejected the token {output.mask(token)} (401)")
    if status == 429:
        retry = _retry_after(headers.get("Retry-After"))
        hint = f"; retry in {retry:g} s" if retry is not None else ""
        raise RateLimitedError(f"{base} is rate-limiting whoami requests (429){hint}", retry)
    if 300 <= status < 400:
        raise HubUnavailableError(f"{base} answered with a redirect ({status}); not followed")
    if status != 200:
        raise HubUnavailableError(f"{base} answered HTTP {status}")
    import json

    try:
        info = json.loads(body)
    except ValueError:
        raise HubUnavailableError(f"{base} answered with malformed JSON") from None
    if not isinstance(info, dict) or not isinstance(info.get("name"), str):
        raise HubUnavailableError(f"{base} answered with unexpected JSON (no account name)")
    return info


def _get(url: str, token: str, base: str) -> tuple[int, bytes, dict[str, str]]:
    """whoami's GET, on the shared transport."""
    return request("GET", url, base=base, token=token)


class BearerAuth:
    """``requests``' auth hook (an ``AuthBase``: a callable on the prepared request) that sets
    ``Authorization: Bearer <token>``. Passed as ``auth=``, it runs after everything else that
    could set that header, and an explicit ``auth`` stops requests from reading ``~/.netrc``:
    neither a netrc entry for the Hub's host nor userinfo in the URL can replace the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:  # never the token, whatever prints this object
        return f"BearerAuth({output.mask(self._token)})"


class NoAuth:
    """``auth=`` for calls that carry no credential (the OAuth endpoints): no netrc or URL
    userinfo is sent either."""

    def __call__(self, r: Any) -> Any:
        r.headers.pop("Authorization", None)
        return r


def request(
    method: str,
    url: str,
    *,
    base: str | None = None,
    token: str | None = None,
    data: dict[str, str] | None = None,
    json_body: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    total_timeout: float | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP request to the Hub (or the CI's token service): ``(status, body, headers)``.

    The token, when given, travels only through ``BearerAuth``; ``data`` is sent
    form-encoded, ``json_body`` as JSON. Redirects are not followed. The whole exchange, body
    included, ends within ``total_timeout`` (default ``TOTAL_TIMEOUT_S``) of wall-clock time:
    socket timeouts bound each read, not the answer, and a server trickling a byte at a time
    keeps a read alive for ever. So the request runs in a daemon thread, abandoned (its
    connection shut down) at the deadline. Failures raise ``HubUnavailableError`` naming
    ``base`` (default: the URL without its query), never the token."""
    import threading

    if base is None:
        base = url.split("?", 1)[0]
    limit = TOTAL_TIMEOUT_S if total_timeout is None else total_timeout
    outcome: dict[str, Any] = {}
    # The socket timeout outlasts the deadline by a second: when both would fire together, the
    # deadline reports (one message for "no answer in time"), and an abandoned worker still ends.
    call = {"method": method, "url": url, "token": token, "data": data, "json": json_body,
            "params": params, "read_timeout": min(READ_TIMEOUT_S, limit + 1.0)}

    def work() -> None:
        try:
            outcome["value"] = _fetch(call, base, outcome)
        except BaseException as e:  # handed over to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=work, name="git-credential-hf-http", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        _abort(outcome.get("response"))
        raise HubUnavailableError(f"{base} is too slow (no answer within {limit:g} s)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _abort(response: Any) -> None:
    """Wake a worker blocked on ``response``: shut its socket down. (``close()`` would wait
    for the lock the blocked read holds.) Best effort: the worker is a daemon thread anyway."""
    import socket

    connection = getattr(getattr(response, "raw", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: nothing to wake


def _fetch(call: dict[str, Any], base: str, outcome: dict[str, Any]
           ) -> tuple[int, bytes, dict[str, str]]:
    import requests

    token = call["token"]
    try:
        with requests.request(
            call["method"],
            call["url"],
            auth=BearerAuth(token) if token is not None else NoAuth(),
            headers={"User-Agent": "git-credential-hf", "Accept": "application/json"},
            data=call["data"],
            json=call["json"],
            params=call["params"],
            timeout=(min(CONNECT_TIMEOUT_S, call["read_timeout"]), call["read_timeout"]),
            allow_redirects=False,
            stream=True,
        ) as resp:
            outcome["response"] = resp
            body = bytearray()
            for chunk in resp.iter_content(chunk_size=8192):
                body += chunk
                if len(body) > MAX_BODY:
                    raise HubUnavailableError(f"{base} answered with an oversized body")
            return resp.status_code, bytes(body), dict(resp.headers)
    except requests.exceptions.Timeout:
        raise HubUnavailableError(f"{base} timed out") from None
    except requests.exceptions.ConnectionError:
        raise HubUnavailableError(f"cannot reach {base} (connection failed)") from None
    except requests.exceptions.RequestException as e:
        raise HubUnavailableError(f"request to {base} failed ({type(e).__name__})") from None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def token_role(info: dict[str, Any]) -> str:
    """``read``, ``write``, ``fineGrained`` … from a whoami answer (``unknown`` if absent)."""
    access = (info.get("auth") or {}).get("accessToken") or {}
    role = access.get("role")
    return role if isinstance(role, str) else "unknown"


def token_name(info: dict[str, Any]) -> str:
    """The name huggingface_hub stores a token under: its displayName, else the account."""
    access = (info.get("auth") or {}).get("accessToken") or {}
    name = access.get("displayName")
    return name if isinstance(name, str) and name else info["name"]


def can_write(info: dict[str, Any]) -> bool:
    """True for a ``write`` token, or a fine-grained one with ``repo.write`` globally or on
    some scoped entity."""
    role = token_role(info)
    if role == "write":
        return True
    if role != "fineGrained":
        return False
    access = (info.get("auth") or {}).get("accessToken") or {}
    grained = access.get("fineGrained") or {}
    if "repo.write" in (grained.get("global") or []):
        return True
    return any("repo.write" in (s.get("permissions") or []) for s in grained.get("scoped") or [])


def get_status(url: str, token: str) -> int:
    """The HTTP status of an authenticated ``GET url`` (same transport and limits as whoami;
    ``url`` must be on the endpoint). Raises ``HubError`` subclasses when there is no answer."""
    if not well_formed(token):
        raise MalformedTokenError("not a well-formed token (printable ASCII only, no spaces)")
    base = settings.endpoint()
    status, _body, _headers = _get(url, token, base)
    return status
