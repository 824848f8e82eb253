"""URLs and hosts, by git's rules: one split, one host comparison, one endpoint parse.

- ``split`` is git's ``credential_from_url``: ``scheme://`` is required, the authority ends at
  the first ``/``, ``?`` or ``#``, and user info ends at the *first* ``@`` in it (urlmatch.c
  does the same), a ``:`` in the user info starts the password;
- host names compare case-insensitively in ASCII only (RFC 4343, git's ``tolower``):
  ``str.lower()`` would map U+212A KELVIN SIGN to ``k``, a host git itself refuses to match;
- an explicit default port (``:443`` for https, ``:80`` for http) is the same host;
- ``HF_ENDPOINT`` must be ``http(s)://host[:port][/path]``, with nothing two parsers could read
  differently (user info, a backslash, a query, spaces, non-ASCII): ``parse_endpoint`` refuses
  the rest, and everything that needs the endpoint (the hosts ``get`` serves, the URLs ``setup``
  configures, the base URL whoami calls) comes from its one answer;
- ``hf.co`` is an alias of the default endpoint only (a mirror or enterprise Hub has none).
A leaf on ``get``'s hot path: built-ins only.
"""

from __future__ import annotations

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_ALIASES = (("https", "hf.co"),)
DEFAULT_PORTS = {"https": "443", "http": "80"}
ENDPOINT_SCHEMES = ("http", "https")
ENDPOINT_FORM = "http(s)://host[:port][/path]"

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = str.maketrans(_UPPER, _UPPER.lower())
_DIGITS = "0123456789"
_HEX = _DIGITS + "abcdefABCDEF"
_HOST_CHARS = frozenset(_UPPER + _UPPER.lower() + _DIGITS + "-.")
_PATH_CHARS = frozenset(_UPPER + _UPPER.lower() + _DIGITS + "-._~/%!$&'()*+,;=:")


def lower(text: str) -> str:
    """ASCII-only lower-casing (``A``-``Z``), as git and DNS compare host names."""
    return text.translate(_ASCII_LOWER)


def split(url: str) -> tuple[str, str | None, str | None, str, str] | None:
    """``(scheme, username, password, host, rest)`` as git's credential_from_url cuts ``url``;
    nothing is decoded (``%XX`` stays), ``rest`` starts at the first ``/``, ``?`` or ``#``.
    ``None`` when there is no ``scheme://``."""
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return None
    username, password, host, rest = _split_authority(url[scheme_end + 3 :])
    return url[:scheme_end], username, password, host, rest


def _split_authority(text: str) -> tuple[str | None, str | None, str, str]:
    end = len(text)
    for stop in "/?#":
        found = text.find(stop, 0, end)
        if found != -1:
            end = found
    at = text.find("@", 0, end)
    if at == -1:
        return None, None, text[:end], text[end:]
    user, colon, secret = text[:at].partition(":")
    return user, (secret if colon else None), text[at + 1 : end], text[end:]


def split_host_port(hostport: str) -> tuple[str, str]:
    """``("host", "port")`` (port ``""`` when absent); ``[v6]`` brackets are removed."""
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        return host, port[1:] if port.startswith(":") else port
    host, _, port = hostport.partition(":")
    return host, port


def normalize_host(protocol: str, host: str) -> str:
    """``host[:port]`` as git compares it: ASCII lower-case, an explicit default port dropped."""
    host = lower(host)
    default = DEFAULT_PORTS.get(protocol)
    if default and host.endswith(":" + default) and not host.endswith("]"):
        host = host[: -len(default) - 1]
    return host


def match_parts(url: str) -> tuple[str, str | None, str, str, list[str]] | None:
    """``(scheme, user, host, port, path segments)`` of a URL git's url_normalize accepts, for
    urlmatch; the port is the default one when absent. ``?`` and ``#`` stay in the segments:
    git matches the credential's path, which keeps them (credential_from_url), against the
    pattern's path and query. ``None`` when git could not normalize it (no ``scheme://``, no
    host, a non-ASCII host): git then compares fields as written (``credential_fields``)."""
    parts = split(url)
    if parts is None:
        return None
    scheme, user, _password, hostport, rest = parts
    host, port = split_host_port(hostport)
    if not host or not host.isascii():
        return None
    scheme = lower(scheme)
    port = port or DEFAULT_PORTS.get(scheme, "")
    return scheme, user, lower(host), port, [p for p in rest.split("/") if p]


def credential_fields(url: str) -> tuple[str | None, str | None, str | None, str | None]:
    """``(protocol, username, host, path)`` as git's credential_from_potentially_partial_url
    reads ``url``: ``scheme://`` optional, the host with its port as written, the path without
    its leading and trailing slashes, ``%XX`` decoded, nothing lower-cased. An empty protocol,
    host or path is ``None`` (git leaves the field unset: it then matches anything)."""
    from urllib.parse import unquote  # not on get's hot path: only gitconfig asks

    scheme_end = url.find("://")
    protocol = url[:scheme_end] if scheme_end > 0 else None
    authority = url[scheme_end + 3 :] if scheme_end >= 0 else url
    user, _password, host, rest = _split_authority(authority)
    path = rest.lstrip("/").rstrip("/")
    return (protocol, None if user is None else unquote(user), unquote(host) or None,
            unquote(path) or None)


class EndpointError(ValueError):
    """``HF_ENDPOINT`` is not an ``http(s)://host[:port][/path]`` URL. The message is one line
    and never shows user info."""


class Endpoint:
    """A validated endpoint: ``url`` (no trailing ``/``), ``scheme``, ``host`` (as git
    compares it: ``normalize_host``) and ``path`` (``""`` or ``/…``)."""

    __slots__ = ("host", "path", "scheme", "url")

    def __init__(self, url: str, scheme: str, host: str, path: str) -> None:
        self.url, self.scheme, self.host, self.path = url, scheme, host, path

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r})"

    def is_default(self) -> bool:
        """Same scheme and host as huggingface.co (a path plays no part)."""
        return (self.scheme, self.host) == ("https", "huggingface.co")

    def served_hosts(self) -> tuple[tuple[str, str], ...]:
        """The ``(protocol, host)`` pairs a helper for this endpoint answers for."""
        own = (self.scheme, self.host)
        return (own, *DEFAULT_ALIASES) if self.is_default() else (own,)

    def hub_urls(self) -> list[str]:
        """The URLs ``setup`` configures: the endpoint's, and ``https://hf.co`` for the default."""
        urls = [self.url]
        if self.is_default():
            urls += [f"{protocol}://{host}" for protocol, host in DEFAULT_ALIASES]
        return urls


def _refuse(value: str, why: str) -> EndpointError:
    shown = "" if "@" in value else f" {value!r}"  # user info is never echoed
    return EndpointError(f"HF_ENDPOINT{shown} is not an {ENDPOINT_FORM} URL: {why}")


def parse_endpoint(value: str) -> Endpoint:
    """Validate ``value`` (a trailing ``/`` is dropped, as huggingface_hub does)."""
    if "\\" in value:
        raise _refuse(value, "it holds a backslash")
    if not value.isascii() or any(c <= " " or c == "\x7f" for c in value):
        raise _refuse(value, "it holds spaces, control or non-ASCII characters")
    url = value.rstrip("/")
    scheme_end = url.find("://")
    if scheme_end <= 0:
        raise _refuse(value, "it has no http:// or https:// scheme")
    scheme = lower(url[:scheme_end])
    if scheme not in ENDPOINT_SCHEMES:
        raise _refuse(value, "only http:// and https:// are supported")
    if "@" in url:
        raise _refuse(value, "it holds user info or '@'")
    if "?" in url or "#" in url:
        raise _refuse(value, "it holds a query or a fragment")
    netloc, slash, path = url[scheme_end + 3 :].partition("/")
    host, port = split_host_port(netloc)
    if netloc.startswith("["):
        bad_host = not host or any(c not in _HEX + ":." for c in host) or "]" not in netloc
        if not bad_host and netloc.index("]") + 1 < len(netloc):
            bad_host = netloc[netloc.index("]") + 1] != ":"
    else:
        bad_host = not host or any(c not in _HOST_CHARS for c in host)
    if bad_host:
        raise _refuse(value, "bad host name")
    if (":" in netloc.rpartition("]")[2]) and not (
        port and all(c in _DIGITS for c in port) and 0 < int(port) < 65536
    ):
        raise _refuse(value, "bad port")
    segments = path.split("/") if slash else []
    if any(c not in _PATH_CHARS for c in path) or any(s in (".", "..") for s in segments):
        raise _refuse(value, "bad path")
    if any(c == "%" and not _escape_ok(path, i) for i, c in enumerate(path)):
        raise _refuse(value, "bad %-escape in the path")
    canonical = f"{scheme}://{netloc}" + (f"/{path}" if slash else "")
    return Endpoint(canonical, scheme, normalize_host(scheme, netloc), f"/{path}" if slash else "")


def _escape_ok(text: str, i: int) -> bool:
    pair = text[i + 1 : i + 3]
    return len(pair) == 2 and all(c in _HEX for c in pair)
