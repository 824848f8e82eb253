"""OAuth with the Hub, as huggingface_hub 2.x speaks it, over ``hub``'s transport:

- refresh grant (``POST {endpoint}/oauth/token``, ``grant_type=refresh_token``);
- browser login by device code (RFC 8628: ``/oauth/device`` then polling ``/oauth/token``);
- OIDC in CI (RFC 8693 token exchange of a CI id token, minted in GitHub Actions from
  ``ACTIONS_ID_TOKEN_REQUEST_URL`` / ``_TOKEN`` with ``audience=<endpoint>``).

Protocol only: no printing, no files. Messages never hold a token, a refresh token, a device
code or an id token. The client id is huggingface_hub's, overridable with
``HF_DEVICE_CODE_OAUTH_CLIENT_ID``.
"""

from __future__ import annotations

import math
import os
import time

from . import hub, settings, tokens

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_CLIENT_ID = "26be6b09-91c5-47da-9861-d2d2bb7a7e36"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
DEFAULT_INTERVAL_S = 5
DEFAULT_DEVICE_EXPIRES_S = 900
SLOW_DOWN_STEP_S = 5

# OAuth error codes (RFC 6749 5.2, RFC 8628 3.5)
INVALID_GRANT = "invalid_grant"
AUTHORIZATION_PENDING = "authorization_pending"
SLOW_DOWN = "slow_down"
EXPIRED_TOKEN = "expired_token"
ACCESS_DENIED = "access_denied"


class OAuthError(Exception):
    """The Hub answered with an OAuth error. ``code`` is its ``error`` field (``invalid_grant``:
    the refresh token is dead; ``access_denied``, ``expired_token``: the device login ended)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class OIDCError(Exception):
    """OIDC is asked for (``HF_OIDC_RESOURCE``) but no token could be obtained."""


class TokenResponse:
    """A successful answer of ``/oauth/token``. ``expires_at`` is computed at receipt."""

    __slots__ = ("access_token", "expires_at", "expires_in", "refresh_token")

    def __init__(self, access_token: str, refresh_token: str | None, expires_in: int | None,
                 now: float) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_in = expires_in
        self.expires_at = int(now) + expires_in if expires_in is not None else None

    def __repr__(self) -> str:  # nothing secret
        refresh = self.refresh_token is not None
        return f"TokenResponse(expires_in={self.expires_in}, refresh={refresh})"


class DeviceCode:
    """``/oauth/device``'s answer, normalized as huggingface_hub does (defaults for
    ``interval`` and ``expires_in``; ``verification_uri_complete`` falls back to the URI)."""

    __slots__ = ("device_code", "expires_in", "interval", "user_code", "verification_uri",
                 "verification_uri_complete")

    def __init__(self, info: dict[str, Any]) -> None:
        self.device_code: str = info["device_code"]
        self.user_code: str = info["user_code"]
        self.verification_uri: str = info["verification_uri"]
        self.verification_uri_complete: str = (
            info.get("verification_uri_complete") or self.verification_uri
        )
        self.interval = _positive_int(info.get("interval"), DEFAULT_INTERVAL_S)
        self.expires_in = _positive_int(info.get("expires_in"), DEFAULT_DEVICE_EXPIRES_S)

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, uri={self.verification_uri!r})"


def client_id() -> str:
    return os.environ.get("HF_DEVICE_CODE_OAUTH_CLIENT_ID") or DEFAULT_CLIENT_ID


def _positive_int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)) and value > 0:
        return math.ceil(value)  # 0.5 s is 1 s: never a poll loop without a pause
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return default


def _post(path: str, endpoint: str | None, total_timeout: float | None, *,
          form: dict[str, str] | None = None, json_body: dict[str, str] | None = None
          ) -> tuple[int, Any]:
    """POST to ``{endpoint}{path}``: ``(status, decoded JSON or None when not JSON)``.
    Transport failures raise ``hub.HubUnavailableError``."""
    import json

    base = (endpoint or settings.endpoint()).rstrip("/")
    status, body, _headers = hub.request(
        "POST", base + path, base=base, data=form, json_body=json_body,
        total_timeout=total_timeout,
    )
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def _token_response(status: int, data: Any, what: str, base: str) -> TokenResponse:
    """A ``TokenResponse``, or ``OAuthError`` (an OAuth ``error`` in a 4xx answer), or
    ``hub.HubUnavailableError`` (5xx, not JSON, nothing usable: transient)."""
    if status < 500 and isinstance(data, dict):
        access = data.get("access_token")
        if hub.well_formed(access):
            refresh = data.get("refresh_token")
            expires_in = data.get("expires_in")
            return TokenResponse(
                access,
                refresh if hub.well_formed(refresh) else None,
                _positive_int(expires_in, 0) or None,
                time.time(),
            )
        error = data.get("error")
        if isinstance(error, str) and error and 400 <= status < 500:
            raise OAuthError(f"{what} refused by {base} ({error})", error)
    raise hub.HubUnavailableError(f"{what}: {base} answered HTTP {status} without a token")


def refresh(refresh_token: str, endpoint: str | None = None,
            total_timeout: float | None = None) -> TokenResponse:
    """Exchange a refresh token for a new access token (and maybe a rotated refresh token).
    ``OAuthError`` with ``code == "invalid_grant"`` means the login is dead."""
    base = (endpoint or settings.endpoint()).rstrip("/")
    status, data = _post(
        "/oauth/token", base, total_timeout,
        form={"grant_type": REFRESH_GRANT, "refresh_token": refresh_token,
              "client_id": client_id()},
    )
    return _token_response(status, data, "token refresh", base)


# --- device code (browser login) -------------------------------------------------------------


def request_device_code(endpoint: str | None = None) -> DeviceCode:
    base = (endpoint or settings.endpoint()).rstrip("/")
    status, data = _post("/oauth/device", base, None, form={"client_id": client_id()})
    if status != 200 or not isinstance(data, dict):
        if isinstance(data, dict) and isinstance(data.get("error"), str) and status < 500:
            raise OAuthError(f"{base} refused the browser login ({data['error']})",
                             data["error"])
        raise hub.HubUnavailableError(f"{base}/oauth/device answered HTTP {status}")
    try:
        code = DeviceCode(data)
    except KeyError as e:
        raise hub.HubUnavailableError(
            f"{base}/oauth/device answered without {e.args[0]}") from None
    if not all(isinstance(v, str) and v for v in (code.device_code, code.user_code,
                                                   code.verification_uri)):
        raise hub.HubUnavailableError(f"{base}/oauth/device answered an unusable code")
    return code


def poll_device_token(
    code: DeviceCode,
    endpoint: str | None = None,
    *,
    on_pending: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TokenResponse:
    """Poll until the user authorizes (RFC 8628 3.4-3.5): ``authorization_pending`` keeps
    polling, ``slow_down`` adds 5 s to the interval, ``expired_token`` / ``access_denied`` /
    any other OAuth error stop with ``OAuthError``; a 5xx, a non-JSON answer or a network
    failure is transient. The device code's lifetime bounds the whole wait."""
    base = (endpoint or settings.endpoint()).rstrip("/")
    interval = code.interval
    deadline = clock() + code.expires_in
    form = {"grant_type": DEVICE_GRANT, "device_code": code.device_code,
            "client_id": client_id()}
    while clock() < deadline:
        try:
            status, data = _post("/oauth/token", base, None, form=form)
        except hub.HubUnavailableError:
            status, data = 599, None
        if status < 500 and isinstance(data, dict):
            if hub.well_formed(data.get("access_token")):
                return _token_response(status, data, "browser login", base)
            error = data.get("error")
            if error == AUTHORIZATION_PENDING:
                if on_pending is not None:
                    on_pending()
            elif error == SLOW_DOWN:
                interval += SLOW_DOWN_STEP_S
            elif error == EXPIRED_TOKEN:
                raise OAuthError("the login code expired; please try again", EXPIRED_TOKEN)
            elif error == ACCESS_DENIED:
                raise OAuthError("the login was denied in the browser", ACCESS_DENIED)
            elif isinstance(error, str) and error:
                raise OAuthError(f"browser login refused by {base} ({error})", error)
        sleep(interval)
    raise OAuthError("the login code expired before it was approved; please try again",
                     EXPIRED_TOKEN)


# --- OIDC (CI) -------------------------------------------------------------------------------


def oidc_resource() -> str | None:
    return os.environ.get("HF_OIDC_RESOURCE") or None


def github_id_token(audience: str, total_timeout: float | None = None) -> str:
    """An id token minted by GitHub Actions (the job needs ``permissions: id-token: write``)."""
    import json

    url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    request_token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not request_token:
        raise OIDCError(
            "GitHub Actions gave no id token: the job needs `permissions: id-token: write`"
        )
    base = url.split("?", 1)[0]
    try:
        status, body, _ = hub.request("GET", url, base=base, token=request_token,
                                      params={"audience": audience},
                                      total_timeout=total_timeout)
    except hub.HubUnavailableError as e:
        raise OIDCError(f"cannot mint a GitHub Actions id token: {e}") from None
    try:
        value = json.loads(body).get("value") if status == 200 else None
    except (ValueError, AttributeError):
        value = None
    if not hub.well_formed(value):
        raise OIDCError(f"cannot mint a GitHub Actions id token: {base} answered HTTP {status}")
    return value


def subject_token(endpoint: str, total_timeout: float | None = None) -> tuple[str, bool]:
    """``(id token, minted)``: ``HF_OIDC_ID_TOKEN`` when set, else one minted by the CI
    provider (GitHub Actions only, as huggingface_hub)."""
    given = os.environ.get("HF_OIDC_ID_TOKEN")
    if given:
        return given, False
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return github_id_token(endpoint, total_timeout), True
    raise OIDCError(
        "HF_OIDC_RESOURCE is set but no OIDC id token is available (set HF_OIDC_ID_TOKEN, or "
        "run in GitHub Actions with `permissions: id-token: write`)"
    )


def exchange(id_token: str, resource: str, endpoint: str | None = None,
             total_timeout: float | None = None) -> TokenResponse:
    """RFC 8693 token exchange of a CI id token for a short-lived Hub token scoped to
    ``resource``. Sent as JSON, as huggingface_hub sends it."""
    base = (endpoint or settings.endpoint()).rstrip("/")
    try:
        status, data = _post(
            "/oauth/token", base, total_timeout,
            json_body={"grant_type": EXCHANGE_GRANT, "subject_token_type": ID_TOKEN_TYPE,
                       "subject_token": id_token, "resource": resource},
        )
        return _token_response(status, data, "OIDC token exchange", base)
    except (OAuthError, hub.HubUnavailableError) as e:
        raise OIDCError(str(e)) from None


def oidc_token(endpoint: str | None = None, total_timeout: float | None = None
               ) -> tuple[TokenResponse, bool] | None:
    """``(exchanged token, id token was minted)`` when ``HF_OIDC_RESOURCE`` is set, else
    ``None``. Raises ``OIDCError``: opting in is explicit, a failure is never a silent
    fallback to another token."""
    resource = oidc_resource()
    if resource is None:
        return None
    base = (endpoint or settings.endpoint()).rstrip("/")
    started = time.monotonic()
    id_token, minted = subject_token(base, total_timeout)
    remaining = None
    if total_timeout is not None:
        remaining = max(0.5, total_timeout - (time.monotonic() - started))
    return exchange(id_token, resource, base, remaining), minted


# --- refreshing a stored login ---------------------------------------------------------------

REFRESH_BUDGET_S = 15.0  # the most a refresh may add to one `get`: lock wait and network
LOCK_SHARE_S = 10.0  # of which waiting for another process's refresh (it then is adopted)

NONE = "none"  # not an OAuth token (no section with OAuth fields): nothing to do
FRESH = "fresh"  # not due
REFRESHED = "refreshed"  # we refreshed it
ADOPTED = "adopted"  # another process had refreshed it: its result is served
TRANSIENT = "transient"  # could not refresh now (network, lock, disk): the old token is served
DEAD = "dead"  # invalid_grant: the refresh token is dead, a new login is needed


class Refresh:
    """What ``refresh_if_due`` did: ``state``, the ``token`` to serve, its ``expires_at``, and
    a one-line ``problem`` (never a token)."""

    __slots__ = ("expires_at", "problem", "state", "token")

    def __init__(self, state: str, token: str, expires_at: int | None = None,
                 problem: str | None = None) -> None:
        self.state = state
        self.token = token
        self.expires_at = expires_at
        self.problem = problem

    def __repr__(self) -> str:
        return f"Refresh({self.state}, expires_at={self.expires_at})"


def refresh_if_due(token: str, *, force: bool = False, budget: float = REFRESH_BUDGET_S,
                   endpoint: str | None = None, now: float | None = None) -> Refresh:
    """Refresh the stored login holding ``token`` (the token file's) when fewer than 24 h
    remain, or always with ``force`` (``erase``: the Hub just rejected it), as
    huggingface_hub does: under its ``<stored_tokens>.lock`` (and ours), re-read, adopt a
    refresh another process made, else call the Hub and save the new access token, the new
    (or kept) refresh token and ``expires_at`` in that section, and in the token file if it
    still holds ``token``. Bounded by ``budget`` seconds in all. Never raises."""
    found = tokens.oauth_section(token)
    if found is None:
        return Refresh(NONE, token)
    name, fields = found
    refresh_token = fields.get("refresh_token")
    expires = tokens.expires_at(fields)
    if refresh_token is None or not (force or tokens.refresh_due(expires, now)):
        return Refresh(FRESH, token, expires)
    started = time.monotonic()
    try:
        with tokens.locked(timeout=min(LOCK_SHARE_S, budget)):
            return _refresh_locked(token, name, budget - (time.monotonic() - started), endpoint)
    except tokens.TokenStoreError as e:  # locked by a slow peer, unreadable, unwritable
        current = tokens.read_token_file()
        if current and current != token:  # a peer finished meanwhile: serve its token
            found = tokens.oauth_section(current)
            expires = tokens.expires_at(found[1]) if found else None
            return Refresh(ADOPTED, current, expires)
        return Refresh(TRANSIENT, token, expires, f"could not refresh: {e}")


def _refresh_locked(token: str, name: str, remaining: float, endpoint: str | None) -> Refresh:
    fields = tokens.stored_sections().get(name, {})
    held = fields.get("hf_token")
    if held != token:
        if not held:  # the login was removed meanwhile (logout): nothing to refresh
            return Refresh(TRANSIENT, token, None, "the login was removed")
        return Refresh(ADOPTED, held, tokens.expires_at(fields))
    refresh_token = fields.get("refresh_token")
    expires = tokens.expires_at(fields)
    if refresh_token is None:
        return Refresh(FRESH, token, expires)
    try:
        answer = refresh(refresh_token, endpoint, total_timeout=max(0.5, remaining))
    except OAuthError as e:
        if e.code == INVALID_GRANT:
            return Refresh(DEAD, token, expires, str(e))
        return Refresh(TRANSIENT, token, expires, str(e))
    except hub.HubUnavailableError as e:
        return Refresh(TRANSIENT, token, expires, str(e))
    # The token file first: a huggingface_hub reading both files without the lock in between
    # then sees the new token (and serves it), never the old token with no section left.
    tokens.replace_active(token, answer.access_token)
    tokens.save_token(answer.access_token, name,
                      refresh_token=answer.refresh_token or refresh_token,
                      expires_at=answer.expires_at, activate=False)
    from . import accounts

    accounts.carry(token, answer.access_token)  # same account: username selection keeps working
    return Refresh(REFRESHED, answer.access_token, answer.expires_at)
