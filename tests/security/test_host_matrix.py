"""Host confusion: which requests get the token, through the real ``git-credential-hf get``.

Exactly the endpoint's (protocol, host) pairs are served — ``https://huggingface.co`` and its
``hf.co`` alias by default — with the host compared ASCII-case-insensitively and an explicit
default port ignored. Every other row must get no password, nothing on stderr and exit 0.
Attacks: look-alike hosts, other ports and schemes, userinfo in ``url=``, IDN tricks, IPv6,
missing fields (CVE-2020-11008), ``%0a``/``%0d`` in ``url=`` (CVE-2020-5260), bare CR and other
line separators (CVE-2024-52006), NUL, and over-long lines a truncating reader would split.
"""

from __future__ import annotations

import os

import pytest

DEFAULT = None  # HF_ENDPOINT unset
LOCAL = "http://127.0.0.1:8080"
IPV6 = "https://[::1]:8443"
K8S = "https://hub.k8s.example/prefix/"  # a mirror whose name has a 'k' (see the Kelvin row)

MAX_LINE = 64 * 1024  # protocol.MAX_LINE


def req(*lines: str | bytes) -> bytes:
    out = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    return out + b"\n"


def https(host: str | bytes, *more: str | bytes) -> bytes:
    host_b = host if isinstance(host, bytes) else host.encode()
    return req("protocol=https", b"host=" + host_b, *more)


def smuggle(pad: int) -> bytes:
    """A long ``wwwauth[]`` line whose tail, cut off by a reader with a ``pad``-byte buffer,
    would read as its own ``host=huggingface.co`` line."""
    line = b"wwwauth[]=Basic realm=" + b"A" * (pad - len(b"wwwauth[]=Basic realm="))
    return req("protocol=https", "host=evil.example", line + b"host=huggingface.co")


# (id, HF_ENDPOINT, stdin, served, username expected in the answer)
ROWS: list[tuple[str, str | None, bytes, bool]] = [
    # --- served -------------------------------------------------------------------------------
    ("exact", DEFAULT, https("huggingface.co"), True),
    ("upper-case-host", DEFAULT, https("HuggingFace.CO"), True),
    ("explicit-default-port", DEFAULT, https("huggingface.co:443"), True),
    ("alias-hf.co", DEFAULT, https("hf.co"), True),
    ("alias-upper-with-port", DEFAULT, https("HF.CO:443"), True),
    ("crlf-lines", DEFAULT, b"protocol=https\r\nhost=huggingface.co\r\n\r\n", True),
    ("url", DEFAULT, req("url=https://huggingface.co/alice/model.git"), True),
    ("url-userinfo", DEFAULT, req("url=https://bob@huggingface.co/alice/model"), True),
    ("url-default-port", DEFAULT, req("url=https://huggingface.co:443/x"), True),
    ("last-host-wins", DEFAULT, https("evil.example", "host=huggingface.co"), True),
    ("path-wwwauth-unknown-keys", DEFAULT,
     https("huggingface.co", "path=alice/model", 'wwwauth[]=Basic realm="Hugging Face"',
           "capability[]=authtype", "x-future-key=1"), True),
    ("endpoint-trailing-slash", "https://huggingface.co/", https("hf.co"), True),
    ("endpoint-empty-is-default", "", https("huggingface.co"), True),
    ("local-endpoint", LOCAL, req("protocol=http", "host=127.0.0.1:8080"), True),
    ("ipv6-endpoint", IPV6, https("[::1]:8443"), True),
    ("ipv6-default-port", "https://[::1]", https("[::1]:443"), True),
    ("mirror-path-ignored", K8S, https("hub.k8s.example"), True),
    ("mirror-upper-case", K8S, https("HUB.K8S.EXAMPLE:443"), True),
    # --- look-alike hosts ---------------------------------------------------------------------
    ("suffix-lookalike", DEFAULT, https("huggingface.co.evil.example"), False),
    ("prefix-lookalike", DEFAULT, https("evilhuggingface.co"), False),
    ("subdomain", DEFAULT, https("evil.huggingface.co"), False),
    ("hyphen-lookalike", DEFAULT, https("hugging-face.co"), False),
    ("trailing-dot", DEFAULT, https("huggingface.co."), False),
    ("trailing-dot-port", DEFAULT, https("huggingface.co.:443"), False),
    ("leading-space", DEFAULT, https(" huggingface.co"), False),
    ("trailing-space", DEFAULT, https("huggingface.co "), False),
    ("trailing-tab", DEFAULT, https("huggingface.co\t"), False),
    ("userinfo-in-host", DEFAULT, https("alice@huggingface.co"), False),
    ("host-with-path", DEFAULT, https("huggingface.co/evil"), False),
    ("percent-encoded-host-attr", DEFAULT, https("huggingface%2eco"), False),
    # --- ports and schemes --------------------------------------------------------------------
    ("other-port", DEFAULT, https("huggingface.co:8443"), False),
    ("port-80-on-https", DEFAULT, https("huggingface.co:80"), False),
    ("port-leading-zero", DEFAULT, https("huggingface.co:0443"), False),
    ("empty-port", DEFAULT, https("huggingface.co:"), False),
    ("double-port", DEFAULT, https("huggingface.co:443:443"), False),
    ("http", DEFAULT, req("protocol=http", "host=huggingface.co"), False),
    ("http-port-80", DEFAULT, req("protocol=http", "host=huggingface.co:80"), False),
    ("ssh", DEFAULT, req("protocol=ssh", "host=huggingface.co"), False),
    ("protocol-upper-case", DEFAULT, req("protocol=HTTPS", "host=huggingface.co"), False),
    ("protocol-with-space", DEFAULT, req("protocol=https ", "host=huggingface.co"), False),
    ("local-endpoint-https", LOCAL, https("127.0.0.1:8080"), False),
    ("local-endpoint-no-port", LOCAL, req("protocol=http", "host=127.0.0.1"), False),
    ("local-endpoint-localhost", LOCAL, req("protocol=http", "host=localhost:8080"), False),
    ("local-endpoint-zero-padded-ip", LOCAL, req("protocol=http", "host=127.000.000.001:8080"),
     False),
    ("local-endpoint-decimal-ip", LOCAL, req("protocol=http", "host=2130706433:8080"), False),
    ("local-endpoint-is-no-alias", LOCAL, https("huggingface.co"), False),
    ("mirror-has-no-hf.co-alias", K8S, https("hf.co"), False),
    ("endpoint-without-scheme", "huggingface.co", https("huggingface.co"), False),
    # --- missing or empty fields (CVE-2020-11008) ---------------------------------------------
    ("protocol-missing", DEFAULT, req("host=huggingface.co"), False),
    ("protocol-empty", DEFAULT, req("protocol=", "host=huggingface.co"), False),
    ("host-missing", DEFAULT, req("protocol=https"), False),
    ("host-empty", DEFAULT, req("protocol=https", "host="), False),
    ("both-missing", DEFAULT, req("path=alice/model"), False),
    ("blank-line-only", DEFAULT, b"\n", False),
    ("empty-stdin", DEFAULT, b"", False),
    ("host-after-blank-line", DEFAULT, b"protocol=https\n\nhost=huggingface.co\n\n", False),
    # --- IDN, punycode, IPv6 ------------------------------------------------------------------
    ("punycode-lookalike", DEFAULT, https("xn--hggingface-r8a.co"), False),
    ("cyrillic-a", DEFAULT, https("huggingf\u0430ce.co"), False),
    ("fullwidth", DEFAULT, https("\uff48\uff55\uff47\uff47\uff49\uff4e\uff47\uff46\uff41\uff43"
                                 "\uff45.\uff43\uff4f"), False),
    ("dotted-capital-i", DEFAULT, https("HUGG\u0130NGFACE.CO"), False),
    ("ideographic-full-stop", DEFAULT, https("huggingface\u3002co"), False),
    ("kelvin-sign-lowercases-to-k", K8S, https("hub.\u212a8s.example"), False),
    ("mirror-trailing-dot", K8S, https("hub.k8s.example."), False),
    ("ipv6-loopback-default-endpoint", DEFAULT, https("[::1]"), False),
    ("ipv6-without-port", IPV6, https("[::1]"), False),
    ("ipv6-expanded", IPV6, https("[0:0:0:0:0:0:0:1]:8443"), False),
    ("ipv6-unbracketed", IPV6, https("::1:8443"), False),
    # --- userinfo and delimiters in url= ------------------------------------------------------
    ("url-userinfo-points-elsewhere", DEFAULT, req("url=https://huggingface.co@evil.example/"),
     False),
    ("url-user-password-elsewhere", DEFAULT,
     req("url=https://huggingface.co:x@evil.example/"), False),
    ("url-double-at", DEFAULT, req("url=https://a@b@huggingface.co/"), False),
    ("url-host-in-path", DEFAULT, req("url=https://evil.example/huggingface.co"), False),
    ("url-query-before-at", DEFAULT, req("url=https://evil.example?@huggingface.co/"), False),
    ("url-fragment-before-at", DEFAULT, req("url=https://evil.example#@huggingface.co/"), False),
    ("url-ssh", DEFAULT, req("url=ssh://huggingface.co/alice/model"), False),
    ("url-no-scheme", DEFAULT, req("url=huggingface.co/alice/model"), False),
    ("url-empty-scheme", DEFAULT, req("url=://huggingface.co/"), False),
    ("url-resets-host", DEFAULT, https("huggingface.co", "url=https://evil.example/"), False),
    # --- encoded line breaks in url= (CVE-2020-5260) ------------------------------------------
    ("url-%0a-in-host", DEFAULT, req("url=https://huggingface.co%0a.evil.example/"), False),
    ("url-%0a-injects-host", DEFAULT, req("url=https://evil.example%0ahost=huggingface.co/"),
     False),
    ("url-%0A-upper", DEFAULT, req("url=https://evil.example%0Ahost=huggingface.co/"), False),
    ("url-%0d-in-host", DEFAULT, req("url=https://huggingface.co%0d/"), False),
    ("url-%0d-in-path", DEFAULT, req("url=https://huggingface.co/alice%0d/model"), False),
    ("url-%0a-in-username", DEFAULT, req("url=https://a%0ahost=evil@huggingface.co/"), False),
    ("url-%00-in-host", DEFAULT, req("url=https://huggingface.co%00/"), False),
    # --- separators inside a value (CVE-2024-52006 and friends) -------------------------------
    ("bare-cr-evil-first", DEFAULT, https(b"evil.example\rhost=huggingface.co"), False),
    ("bare-cr-hf-first", DEFAULT, https(b"huggingface.co\rhost=evil.example"), False),
    ("double-cr", DEFAULT, b"protocol=https\nhost=huggingface.co\r\r\n\n", False),
    ("vertical-tab", DEFAULT, https(b"evil.example\x0bhost=huggingface.co"), False),
    ("vertical-tab-suffix", DEFAULT, https(b"huggingface.co\x0b"), False),
    ("form-feed", DEFAULT, https(b"evil.example\x0chost=huggingface.co"), False),
    ("file-separator", DEFAULT, https(b"evil.example\x1chost=huggingface.co"), False),
    ("record-separator", DEFAULT, https(b"evil.example\x1ehost=huggingface.co"), False),
    ("nel-u0085", DEFAULT, https("evil.example\u0085host=huggingface.co"), False),
    ("u2028", DEFAULT, https("evil.example\u2028host=huggingface.co"), False),
    ("u2029-suffix", DEFAULT, https("huggingface.co\u2029"), False),
    ("nul-suffix", DEFAULT, https(b"huggingface.co\x00"), False),
    ("nul-then-host", DEFAULT, https(b"evil.example\x00host=huggingface.co"), False),
    ("nul-in-unrelated-line", DEFAULT, https("huggingface.co", b"wwwauth[]=x\x00y"), False),
    ("non-utf8-host", DEFAULT, https(b"huggingface.co\xff"), False),
    # --- over-long lines a truncating reader would split ------------------------------------
    *[(f"smuggle-after-{pad}-bytes", DEFAULT, smuggle(pad), False)
      for pad in (1024, 4096, 8192, MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 2,
                  MAX_LINE + 3)],
    ("served-then-over-long-line", DEFAULT,
     https("huggingface.co", b"wwwauth[]=" + b"A" * (MAX_LINE + 10)), False),
    ("over-1mib-then-host", DEFAULT,
     req("protocol=https", "host=evil.example", *[f"x{i}=" + "A" * 1000 for i in range(1100)],
         "host=huggingface.co"), False),
]


def test_matrix_is_big_enough() -> None:
    ids = [row[0] for row in ROWS]
    assert len(ids) == len(set(ids))
    assert len(ROWS) >= 30 and sum(1 for r in ROWS if not r[3]) >= 30


@pytest.mark.parametrize(("endpoint", "stdin", "served"), [r[1:] for r in ROWS],
                         ids=[r[0] for r in ROWS])
def test_get_serves_exactly_the_endpoint_hosts(sec, endpoint, stdin, served) -> None:
    token = sec.make_token("matrix")
    home = sec.hf_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_text(token)
    call = sec.run_helper("get", stdin, env={"HF_ENDPOINT": endpoint})
    assert call.returncode == 0 and not call.timed_out
    assert call.stderr == b"", "get never writes to stderr"
    if served:
        user = "bob" if b"bob@" in stdin else "hf_user"
        assert call.stdout == f"username={user}\npassword={token}\n".encode()
    else:
        assert call.stdout == b"", f"answered a request it does not serve: {call.out[:200]!r}"
        assert token not in call.out


def test_env_token_follows_the_same_rules(sec) -> None:
    """``HF_TOKEN`` is handed out for the served hosts only, like the file's token."""
    token = sec.make_token("matrix-env")
    env = {"HF_TOKEN": token}
    served = sec.run_helper("get", https("huggingface.co"), env=env)
    assert served.stdout == f"username=hf_user\npassword={token}\n".encode()
    for stdin in (https("huggingface.co.evil.example"), req("host=huggingface.co"),
                  https(b"evil.example\rhost=huggingface.co")):
        call = sec.run_helper("get", stdin, env=env)
        assert call.stdout == b"" and call.stderr == b"" and call.returncode == 0
    assert os.environ.get("HF_TOKEN") is None
