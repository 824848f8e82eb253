"""urls: git's URL split, ASCII-only host comparison, and the one HF_ENDPOINT parse that the
hosts `get` serves, the URLs `setup` writes and the base URL whoami calls all come from."""

from __future__ import annotations

import io

import pytest

from git_credential_hf import cli, helper, protocol, settings, tokens, urls

TOKEN = "hf_" + "t" * 30 + "AAAA"

SPLIT_CASES = [
    pytest.param("https://huggingface.co/a/b", ("https", None, None, "huggingface.co", "/a/b"), id="plain"),
    pytest.param("https://u:p@h/x", ("https", "u", "p", "h", "/x"), id="user and password"),
    pytest.param("https://u@h", ("https", "u", None, "h", ""), id="user only"),
    pytest.param("https://a@b@h/x", ("https", "a", None, "b@h", "/x"), id="first @ ends the user (git)"),
    pytest.param("https://h/p@q", ("https", None, None, "h", "/p@q"), id="@ in the path is path"),
    pytest.param("https://h?x@y", ("https", None, None, "h", "?x@y"), id="query ends the host"),
    pytest.param("https://u:p:q@h", ("https", "u", "p:q", "h", ""), id="first colon starts the password"),
    pytest.param("huggingface.co/a", None, id="no scheme"),
    pytest.param("://h", None, id="empty scheme"),
]


@pytest.mark.parametrize(("url", "expected"), SPLIT_CASES)
def test_split(url: str, expected: tuple | None) -> None:
    assert urls.split(url) == expected


def test_protocol_url_attribute_uses_the_same_split() -> None:
    cred = protocol.parse_bytes(b"url=https://a@b@huggingface.co/x\n")
    assert (cred.username, cred.host) == ("a", "b@huggingface.co")


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("HuggingFace.CO", "huggingface.co", id="ascii"),
    pytest.param("\u212aelvin.example", "\u212aelvin.example", id="kelvin sign stays"),
    pytest.param("\u0130stanbul", "\u0130stanbul", id="dotted I stays"),
])
def test_lower_is_ascii_only(text: str, expected: str) -> None:
    assert urls.lower(text) == expected
    assert text.lower() != expected or text.isascii()  # str.lower() would differ


VALID = [
    pytest.param("https://huggingface.co", "https://huggingface.co", (("https", "huggingface.co"), ("https", "hf.co")),
                 id="default"),
    pytest.param("https://huggingface.co/", "https://huggingface.co",
                 (("https", "huggingface.co"), ("https", "hf.co")), id="trailing slash"),
    pytest.param("http://127.0.0.1:8080", "http://127.0.0.1:8080", (("http", "127.0.0.1:8080"),), id="ip and port"),
    pytest.param("http://[::1]:8080", "http://[::1]:8080", (("http", "[::1]:8080"),), id="ipv6"),
    pytest.param("https://hub.example.com/api/v1", "https://hub.example.com/api/v1",
                 (("https", "hub.example.com"),), id="path"),
    pytest.param("https://Hub.Example.com:443", "https://Hub.Example.com:443", (("https", "hub.example.com"),),
                 id="default port and case"),
]


@pytest.mark.parametrize(("value", "url", "served"), VALID)
def test_valid_endpoints(value: str, url: str, served: tuple) -> None:
    endpoint = urls.parse_endpoint(value)
    assert (endpoint.url, endpoint.served_hosts()) == (url, served)
    assert endpoint.hub_urls()[0] == url


INVALID = [
    pytest.param("hub.example.com", "scheme", id="no scheme"),
    pytest.param("ftp://hub.example.com", "only http", id="other scheme"),
    pytest.param("https://user:hf_secretsecret@hub.example.com", "user info", id="userinfo"),
    pytest.param("http://127.0.0.1:1\\@127.0.0.1:2", "backslash", id="backslash differential"),
    pytest.param("http://127.0.0.1:1@127.0.0.1:2", "user info", id="at differential"),
    pytest.param("https://hub.example.com?x=1", "query", id="query"),
    pytest.param("https://hub.example.com#f", "query", id="fragment"),
    pytest.param("https://hub example.com", "spaces", id="space"),
    pytest.param("https://hub.example.com\t", "spaces", id="tab"),
    pytest.param("https://\u212aelvin.example", "non-ASCII", id="kelvin sign"),
    pytest.param("https://hub.example.com:", "port", id="empty port"),
    pytest.param("https://hub.example.com:99999", "port", id="port out of range"),
    pytest.param("https://hub.example.com:8x", "port", id="port not a number"),
    pytest.param("https://", "host", id="no host"),
    pytest.param("https://hub_x.example.com", "host", id="underscore host"),
    pytest.param("https://[::1", "host", id="open bracket"),
    pytest.param("https://hub.example.com/a/../b", "path", id="dot segment"),
    pytest.param("https://hub.example.com/<b>", "path", id="markup in path"),
    pytest.param("https://hub.example.com/%zz", "escape", id="bad escape"),
]


@pytest.mark.parametrize(("value", "why"), INVALID)
def test_invalid_endpoints_are_refused_in_one_line(value: str, why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(urls.EndpointError, match=why) as caught:
        urls.parse_endpoint(value)
    message = str(caught.value)
    assert "\n" not in message and "http(s)://host[:port][/path]" in message
    assert "hf_secretsecret" not in message and "user:" not in message
    monkeypatch.setenv("HF_ENDPOINT", value)
    assert settings.served_hosts() == ()


BAD = "http://127.0.0.1:1\\@user:hf_secretsecret@127.0.0.1:2"


@pytest.mark.parametrize("argv", [
    pytest.param(["status"], id="status"),
    pytest.param(["setup"], id="setup"),
    pytest.param(["setup", "--unset"], id="setup --unset"),
    pytest.param(["whoami"], id="whoami"),
    pytest.param(["logout"], id="logout"),
    pytest.param(["login", "--token", TOKEN], id="login"),
])
def test_every_command_refuses_an_invalid_endpoint(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    tokens.save_token(TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", BAD)
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "HF_ENDPOINT" in err
    assert "hf_secretsecret" not in err and "user:" not in err
    assert tokens.read_token_file() == TOKEN


@pytest.mark.parametrize("operation", ["store", "erase"])
def test_store_and_erase_refuse_an_invalid_endpoint_in_one_line(operation: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", BAD)
    err = io.StringIO()
    request = f"protocol=http\nhost=127.0.0.1:2\npassword={TOKEN}\n".encode()
    assert helper.run(operation, io.BytesIO(request), io.BytesIO(), err) == 1
    assert err.getvalue().count("\n") == 1 and "HF_ENDPOINT" in err.getvalue()
    assert "hf_secretsecret" not in err.getvalue()
    assert tokens.read_token_file() == TOKEN


@pytest.mark.parametrize("host", ["127.0.0.1:1", "127.0.0.1:2", "huggingface.co"])
def test_get_answers_nothing_silently_for_an_invalid_endpoint(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", BAD)
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run("get", io.BytesIO(f"protocol=http\nhost={host}\n".encode()), out, err)
    assert (code, out.getvalue(), err.getvalue()) == (0, b"", "")


def test_served_hosts_setup_urls_and_whoami_base_come_from_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from git_credential_hf import gitconfig

    monkeypatch.setenv("HF_ENDPOINT", "http://Hub.Local:8080/base/")
    endpoint = settings.endpoint_info()
    assert settings.served_hosts() == endpoint.served_hosts() == (("http", "hub.local:8080"),)
    assert gitconfig.hub_urls() == endpoint.hub_urls() == ["http://Hub.Local:8080/base"]
    assert settings.endpoint() == endpoint.url


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


@pytest.mark.parametrize(("url", "parts"), [
    ("https:///x", ("https", None, None, "", "/x")),
    ("https://?q", ("https", None, None, "", "?q")),
    ("https://#f", ("https", None, None, "", "#f")),
    ("https://@h/x", ("https", "", None, "h", "/x")),
])
def test_split_stops_at_a_separator_right_after_the_scheme(url, parts):
    assert urls.split(url) == parts


@pytest.mark.parametrize(("url", "path"), [
    ("https://hf.co/a?b?c", ["a?b?c"]),
    ("https://hf.co/a#b/c", ["a#b", "c"]),
    ("https://hf.co?b/c", ["?b", "c"]),
    ("https://hf.co//a//b/", ["a", "b"]),
])
def test_match_parts_keeps_query_and_fragment_in_the_segments(url, path):
    assert urls.match_parts(url)[4] == path


@pytest.mark.parametrize(("url", "parts"), [
    ("hf.co", (None, None, "hf.co", None)),
    ("://hf.co", (None, None, "hf.co", None)),
    ("https://", ("https", None, None, None)),
    ("HTTPS://Al%69ce:pw@HF.co:443//a/b%2F//", ("HTTPS", "Alice", "HF.co:443", "a/b/")),
    ("@hf.co/?q", (None, "", "hf.co", "?q")),
    ("hf%2eco#f", (None, None, "hf.co", "#f")),
    ("", (None, None, None, None)),
])
def test_credential_fields_reads_as_written_and_decodes(url, parts):
    assert urls.credential_fields(url) == parts


@pytest.mark.parametrize(("value", "message"), [
    ("hub.example", "HF_ENDPOINT 'hub.example' is not an http(s)://host[:port][/path] URL: it has no "
                    "http:// or https:// scheme"),
    ("https://me:pw@hub.example", "HF_ENDPOINT is not an http(s)://host[:port][/path] URL: it holds user "
                                  "info or '@'"),
])
def test_endpoint_refusals_are_exact_and_never_echo_user_info(value, message):
    with pytest.raises(urls.EndpointError) as info:
        urls.parse_endpoint(value)
    assert str(info.value) == message


@pytest.mark.parametrize("path", ["/a%41b", "/%2F", "/x/%7e"])
def test_endpoint_paths_with_good_escapes_are_accepted(path):
    assert urls.parse_endpoint("https://hub.example" + path).url == "https://hub.example" + path


@pytest.mark.parametrize("path", ["/a%4", "/a%", "/a%zz", "/a%4g"])
def test_endpoint_paths_with_bad_escapes_are_refused(path):
    with pytest.raises(urls.EndpointError, match="bad %-escape"):
        urls.parse_endpoint("https://hub.example" + path)


FORM = "is not an http(s)://host[:port][/path] URL"
REFUSALS = [
    ("https://hub.example\\x", f"HF_ENDPOINT 'https://hub.example\\\\x' {FORM}: it holds a backslash"),
    ("https://hub.example/a b", f"HF_ENDPOINT 'https://hub.example/a b' {FORM}: it holds spaces, control or non-ASCII characters"),
    ("https://hub.example/\x7f", f"HF_ENDPOINT 'https://hub.example/\\x7f' {FORM}: it holds spaces, control or non-ASCII characters"),
    ("x://hub.example", f"HF_ENDPOINT 'x://hub.example' {FORM}: only http:// and https:// are supported"),
    ("ftp://hub.example", f"HF_ENDPOINT 'ftp://hub.example' {FORM}: only http:// and https:// are supported"),
    ("https://hub.example/?q", f"HF_ENDPOINT 'https://hub.example/?q' {FORM}: it holds a query or a fragment"),
    ("https://hub_x.example", f"HF_ENDPOINT 'https://hub_x.example' {FORM}: bad host name"),
    ("https://[::1", f"HF_ENDPOINT 'https://[::1' {FORM}: bad host name"),
    ("https://[fe80::g]", f"HF_ENDPOINT 'https://[fe80::g]' {FORM}: bad host name"),
    ("https://[::1]x", f"HF_ENDPOINT 'https://[::1]x' {FORM}: bad host name"),
    ("https://[::1]]:80", f"HF_ENDPOINT 'https://[::1]]:80' {FORM}: bad host name"),
    ("https://hub.example:0", f"HF_ENDPOINT 'https://hub.example:0' {FORM}: bad port"),
    ("https://hub.example:65536", f"HF_ENDPOINT 'https://hub.example:65536' {FORM}: bad port"),
    ("https://hub.example:", f"HF_ENDPOINT 'https://hub.example:' {FORM}: bad port"),
    ("https://hub.example/a/./b", f"HF_ENDPOINT 'https://hub.example/a/./b' {FORM}: bad path"),
    ("https://hub.example/a/../b", f"HF_ENDPOINT 'https://hub.example/a/../b' {FORM}: bad path"),
    ("https://hub.example/a%zz", f"HF_ENDPOINT 'https://hub.example/a%zz' {FORM}: bad %-escape in the path"),
]


@pytest.mark.parametrize(("value", "message"), REFUSALS)
def test_every_endpoint_refusal_line(value, message):
    with pytest.raises(urls.EndpointError) as info:
        urls.parse_endpoint(value)
    assert str(info.value) == message


@pytest.mark.parametrize(("value", "url", "host", "path"), [
    ("https://hub.example:1", "https://hub.example:1", "hub.example:1", ""),
    ("https://hub.example:65535/", "https://hub.example:65535", "hub.example:65535", ""),
    ("https://[::1]", "https://[::1]", "[::1]", ""),
    ("https://[::1]:8443/api", "https://[::1]:8443/api", "[::1]:8443", "/api"),
    ("http://hub.example/a/b.c/", "http://hub.example/a/b.c", "hub.example", "/a/b.c"),
    ("https://a://b.example", None, None, None),
])
def test_endpoint_parts(value, url, host, path):
    if url is None:
        with pytest.raises(urls.EndpointError):
            urls.parse_endpoint(value)
        return
    endpoint = urls.parse_endpoint(value)
    assert (endpoint.url, endpoint.host, endpoint.path) == (url, host, path)


@pytest.mark.parametrize(("hostport", "parts"), [
    ("[::1]:80", ("::1", "80")), ("[::1]", ("::1", "")), ("[::1]x", ("::1", "x")),
    ("[a]b]:1", ("a", "b]:1")), ("h:1", ("h", "1")), ("h", ("h", "")),
])
def test_split_host_port(hostport, parts):
    assert urls.split_host_port(hostport) == parts
