"""The wire format, table-driven: what git sends in, what the parser makes of it."""

from __future__ import annotations

import pytest
from support import cases

from git_credential_hf import protocol
from git_credential_hf.protocol import MAX_INPUT, MAX_LINE, ProtocolError, format_pairs, parse_bytes


def fields(data: bytes) -> dict[str, object]:
    c = parse_bytes(data)
    return {
        "protocol": c.protocol,
        "host": c.host,
        "path": c.path,
        "username": c.username,
        "password": c.password,
        **{f"{k}[]": v for k, v in c.lists.items()},
    }


PARSE_CASES = [
    # (id, input, expected subset)
    ("basic", b"protocol=https\nhost=huggingface.co\n\n", {"protocol": "https", "host": "huggingface.co"}),
    ("eof ends the list", b"protocol=https\nhost=hf.co", {"protocol": "https", "host": "hf.co"}),
    ("crlf loses one cr", b"protocol=https\r\nhost=hf.co\r\n\r\n", {"host": "hf.co"}),
    ("only one cr is stripped", b"host=hf.co\r\r\n", {"host": "hf.co\r"}),
    ("bare cr does not split", b"protocol=https\nhost=a\rhost=b\n", {"host": "a\rhost=b"}),
    ("vertical tab does not split", b"host=a\x0bhost=b\n", {"host": "a\x0bhost=b"}),
    ("U+2028 does not split", "host=a\u2028host=b\n".encode(), {"host": "a\u2028host=b"}),
    ("file separator does not split", b"host=a\x1chost=b\n", {"host": "a\x1chost=b"}),
    ("first = splits", b"password=a=b=c\n", {"password": "a=b=c"}),
    ("later value wins", b"host=a\nhost=b\n", {"host": "b"}),
    ("blank line ends input", b"host=a\n\nhost=b\n", {"host": "a"}),
    ("unknown keys ignored", b"host=a\nfuture_key=x\nlists=y\n", {"host": "a"}),
    ("empty key ignored", b"=\nhost=a\n", {"host": "a"}),
    ("list accumulates", b"wwwauth[]=Basic\nwwwauth[]=Bearer\n", {"wwwauth[]": ["Basic", "Bearer"]}),
    ("empty list value resets", b"capability[]=a\ncapability[]=\ncapability[]=b\n", {"capability[]": ["b"]}),
    ("non-utf8 survives", b"username=\xff\xfe\n", {"username": "\udcff\udcfe"}),
    ("url sets fields", b"url=https://huggingface.co/alice/model\n",
     {"protocol": "https", "host": "huggingface.co", "path": "alice/model", "username": None}),
    ("url replaces earlier fields", b"protocol=http\nhost=x\nusername=u\npath=p\nurl=https://hf.co\n",
     {"protocol": "https", "host": "hf.co", "username": None, "path": None}),
    ("fields after url override", b"url=https://hf.co\nhost=x\n", {"protocol": "https", "host": "x"}),
    ("url user@ becomes username", b"url=https://bob@hf.co/x\n", {"username": "bob", "host": "hf.co"}),
    ("url user:pass@", b"url=https://bob:s%40cret@hf.co/x\n",
     {"username": "bob", "password": "s@cret", "host": "hf.co"}),
    ("url @ after slash is path", b"url=https://hf.co/a@b\n", {"host": "hf.co", "path": "a@b", "username": None}),
    ("url host percent-decoded", b"url=https://hugging%66ace.co/\n", {"host": "huggingface.co"}),
    ("url path percent-decoded, slashes trimmed", b"url=https://hf.co//a%20b//\n", {"path": "a b"}),
    ("url plus stays plus", b"url=https://hf.co/a+b\n", {"path": "a+b"}),
    ("url bad escape stays", b"url=https://hf.co/%zz%4\n", {"path": "%zz%4"}),
    ("url query ends host", b"url=https://hf.co?x=1\n", {"host": "hf.co"}),
    ("url fragment ends host", b"url=https://hf.co#frag\n", {"host": "hf.co"}),
    ("url keeps port", b"url=http://127.0.0.1:8080/x\n", {"host": "127.0.0.1:8080"}),
    ("url without scheme matches nothing", b"protocol=https\nhost=hf.co\nurl=hf.co/x\n",
     {"protocol": None, "host": None}),
    ("url empty scheme matches nothing", b"url=://hf.co\n", {"protocol": None, "host": None}),
    ("url with %0a refused", b"url=https://hf.co%0a.evil/\n", {"protocol": None, "host": None}),
    ("url with %0d refused", b"url=https://evil.example%0dhost=hf.co/\n", {"protocol": None, "host": None}),
    ("url with %00 refused", b"url=https://hf.co%00.evil/\n", {"protocol": None, "host": None}),
    ("empty input", b"", {"protocol": None, "host": None}),
]


@pytest.mark.parametrize(("data", "expected"), cases(PARSE_CASES))
def test_parse(data: bytes, expected: dict[str, object]) -> None:
    got = fields(data)
    for key, value in expected.items():
        assert got.get(key) == value, key


REFUSED = [
    ("line without =", b"protocol=https\nhost\n", False),
    ("NUL byte", b"protocol=https\nhost=hf.co\0evil\n", False),
    ("line over 64 KiB", b"host=" + b"a" * MAX_LINE + b"\n", True),
    ("unterminated line over 64 KiB", b"a" * (MAX_LINE + 10), True),
    ("input over 1 MiB", b"k=v\n" * (MAX_INPUT // 4 + 1), True),
]


@pytest.mark.parametrize(("data", "quiet"), cases(REFUSED))
def test_refused(data: bytes, quiet: bool) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_bytes(data)
    assert info.value.quiet is quiet


def test_line_of_exactly_64_kib_is_accepted() -> None:
    value = "a" * (MAX_LINE - len("path="))
    assert parse_bytes(f"path={value}\n".encode()).path == value


def test_parse_stops_at_blank_line_without_reading_further() -> None:
    import io

    stream = io.BytesIO(b"host=a\n\nrest-of-stream")
    protocol.parse(stream)
    assert stream.read() == b"rest-of-stream"


FORMAT_CASES = [
    ("plain", [("username", "u"), ("password", "p")], b"username=u\npassword=p\n"),
    ("empty list", [], b""),
    ("non-utf8 round trip", [("username", "\udcff")], b"username=\xff\n"),
    ("LF in a value writes nothing", [("username", "u"), ("password", "a\nhost=evil")], b""),
    ("CR in a value writes nothing", [("password", "a\rb")], b""),
    ("NUL in a value writes nothing", [("password", "a\0b")], b""),
]


@pytest.mark.parametrize(("pairs", "expected"), cases(FORMAT_CASES))
def test_format(pairs: list[tuple[str, str]], expected: bytes) -> None:
    assert format_pairs(pairs) == expected


def test_repr_hides_password() -> None:
    c = parse_bytes(b"password=hf_secretsecretsecret\n")
    assert "hf_secret" not in repr(c)


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


class CountingStream:
    """A byte stream that records how much of it the parser asked for and got."""

    def __init__(self, data: bytes) -> None:
        import io

        self._inner = io.BytesIO(data)
        self.sizes: list[int] = []

    def readline(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        return self._inner.readline(size)

    def tell(self) -> int:
        return self._inner.tell()


@pytest.mark.parametrize("data", [b"a" * (10 * MAX_LINE), b"host=" + b"a" * (10 * MAX_LINE) + b"\n"],
                         ids=["no newline", "newline far away"])
def test_an_endless_line_is_read_only_up_to_the_limit(data: bytes) -> None:
    """git's input is read with a bounded readline: an over-long line costs 64 KiB + 2 bytes of
    reading and memory, never the whole line."""
    stream = CountingStream(data)
    with pytest.raises(ProtocolError) as info:
        protocol.parse(stream)
    assert info.value.quiet
    assert stream.sizes == [MAX_LINE + 2]
    assert stream.tell() == MAX_LINE + 2


def test_a_line_of_64_kib_ending_in_crlf_is_accepted() -> None:
    value = "a" * (MAX_LINE - len("path="))
    assert parse_bytes(f"path={value}\r\n".encode()).path == value


def test_a_line_one_byte_over_64_kib_is_refused_even_with_crlf() -> None:
    value = "a" * (MAX_LINE + 1 - len("path="))
    with pytest.raises(ProtocolError) as info:
        parse_bytes(f"path={value}\r\n".encode())
    assert info.value.quiet


def test_input_of_exactly_1_mib_is_accepted_and_one_byte_more_is_refused() -> None:
    line = b"k=" + b"v" * 1021 + b"\n"  # 1024 bytes
    exact = line * (MAX_INPUT // len(line))
    assert len(exact) == MAX_INPUT
    assert parse_bytes(exact).host is None  # no error
    with pytest.raises(ProtocolError) as info:
        parse_bytes(exact + b"x")
    assert info.value.quiet


def test_repr_masks_a_password_and_shows_its_absence() -> None:
    with_password = parse_bytes(b"protocol=https\nhost=hf.co\npassword=hf_secretsecretsecret\n")
    assert repr(with_password) == (
        "Credential(protocol='https', host='hf.co', path=None, username=None, password='****')"
    )
    assert repr(parse_bytes(b"host=hf.co\n")).endswith("password=None)")
    assert repr(parse_bytes(b"host=hf.co\npassword=\n")).endswith("password=None)")


URL_CASES = [
    # git's credential_from_url: the first "://" ends the scheme, the first "@" before the first
    # "/", "?" or "#" ends the user info, whose first ":" starts the password.
    ("scheme of one letter", b"url=a://hf.co\n", {"protocol": "a", "host": "hf.co"}),
    ("later :// is path", b"url=https://hf.co/x://y\n", {"protocol": "https", "host": "hf.co", "path": "x://y"}),
    ("first @ ends the user", b"url=https://a@b@hf.co/p\n", {"username": "a", "host": "b@hf.co"}),
    ("empty user", b"url=https://@hf.co/p\n", {"username": "", "password": None, "host": "hf.co"}),
    ("user without password", b"url=https://bob@hf.co\n", {"username": "bob", "password": None}),
    ("empty password", b"url=https://bob:@hf.co\n", {"username": "bob", "password": ""}),
    ("upper-case letters in host and path", b"url=https://heXa.co/Xa/bX\n", {"host": "heXa.co", "path": "Xa/bX"}),
    ("non-utf8 byte in a decoded path", b"url=https://hf.co/\xff%41\n", {"path": "\udcffA"}),
    ("non-utf8 byte in the host", b"url=https://\xffhf.co/\n", {"host": "\udcffhf.co"}),
    ("non-utf8 byte in the user", b"url=https://\xfe:p@hf.co/\n", {"username": "\udcfe", "password": "p"}),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in URL_CASES], ids=[c[0] for c in URL_CASES])
def test_url_forms(data: bytes, expected: dict[str, object]) -> None:
    got = fields(data)
    for key, value in expected.items():
        assert got.get(key) == value, key


def test_format_round_trips_non_utf8_values() -> None:
    assert format_pairs([("path", "\udcff/\udcfe")]) == b"path=\xff/\xfe\n"


@pytest.mark.parametrize(("data", "message"), [
    (b"host=a\0b\n", "NUL byte in input"),
    (b"host\n", "invalid credential line (no '=')"),
    (b"host=" + b"a" * MAX_LINE + b"\n", "line over 64 KiB"),
    (b"k=v\n" * (MAX_INPUT // 4 + 1), "input over 1 MiB"),
])
def test_refusal_messages(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_bytes(data)
    assert str(info.value) == message


def test_absent_fields_are_none_not_empty() -> None:
    c = parse_bytes(b"protocol=https\nhost=hf.co\n")
    assert (c.path, c.username, c.password, c.lists) == (None, None, None, {})
    assert parse_bytes(b"password=\n").password == ""  # present but empty stays ""
