"""Parser: lossless round trip, httpd's line rules, never an exception."""

import os

import pytest
from hypothesis import given, settings, strategies as st

from cgidlint.evaluate.build import Builder
from cgidlint.evaluate.fs import ConfigFS
from cgidlint.parser.source import parse_bytes
from cgidlint.parser.tokens import getword_conf, resolve_env, split_words

from shared import CORPUS
CORPUS_FILES = sorted(os.path.join(d, f) for d, _, fs in os.walk(CORPUS) for f in fs if f != "SOURCES.md")

config_bytes = st.lists(st.sampled_from([
    b"Define A 1", b"\\", b"\r", b"\n", b"\r\n", b"#", b" ", b"\t", b"\x00", b"\x95\x5c", b"<Directory /x>",
    b"</Directory>", b"<IfModule nope>", b"</IfModule>", b"${A}", b'"', b"'", b"Include x", b"\x0b", b"\xef\xbb\xbf",
]) | st.binary(max_size=8), max_size=40).map(b"".join)


@given(st.binary(max_size=2000))
@settings(max_examples=400)
def test_dump_is_identity_on_arbitrary_bytes(data):
    assert parse_bytes(data).dump() == data


@given(config_bytes)
@settings(max_examples=400)
def test_dump_is_identity_on_config_like_bytes(data):
    src = parse_bytes(data)
    assert src.dump() == data
    # logical lines tile the file
    pos = 0
    for l in src.lines:
        assert l.start == pos
        pos = l.end
    assert pos == len(data)


@given(config_bytes)
@settings(max_examples=300, deadline=None)
def test_no_exception_escapes_the_evaluator(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("p")
    p = d / "httpd.conf"
    p.write_bytes(data)
    b = Builder(ConfigFS("/"), server_root=str(d))
    cfg = b.read_main(str(p))  # errors are data, never exceptions
    assert cfg is not None


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[os.path.relpath(p, CORPUS) for p in CORPUS_FILES])
def test_corpus_round_trips_byte_identical(path):
    data = open(path, "rb").read()
    assert parse_bytes(data, path).dump() == data


def test_corpus_has_59_files():
    assert len(CORPUS_FILES) == 59


def test_continuation_and_line_numbers():
    src = parse_bytes(b"Define A one \\\n    two\nDefine B x\\\\\ny\n")
    assert [l.line for l in src.lines] == [2, 4]
    assert src.lines[0].first_line == 1
    assert src.lines[0].text == b"Define A one     two"
    assert src.lines[1].text == b"Define B x\\y"


def test_cr_only_is_one_line_and_crlf_continuation():
    assert len(parse_bytes(b"Define A 1\rDefine B 2\r").lines) == 1
    src = parse_bytes(b"Define B two \\\r\n  parts\r\n")
    assert src.lines[0].text == b"Define B two   parts" and src.lines[0].line == 2


def test_nul_cuts_the_line():
    src = parse_bytes(b"Define A ab\x00cd ef\nDefine B 2\n")
    assert src.lines[0].text == b"Define A ab" and src.lines[0].has_nul
    assert src.lines[1].text == b"Define B 2"


def test_sjis_comment_swallows_next_line():
    src = parse_bytes(b"# \x93\xfa\x96\x7b\x8c\xea \x5c\nDefine A 1\n")
    assert len(src.lines) == 1 and src.lines[0].is_comment and src.lines[0].line == 2


def test_tokenizer_matches_httpd_escapes():
    words = split_words(b'"q\\"q" "b\\\\s" "n\\nn" u\\"u \'s\\\'s\' "s\\\'s"')
    assert words == [b'q"q', b"b\\s", b"n\\nn", b'u\\"u', b"s's", b"s\\'s"]
    assert split_words(b'"a"b') == [b"a", b"b"]
    assert split_words(b'"abc def') == [b"abc def"]
    assert getword_conf(b"  x  y")[0:3] == (b"x", 2, 5)


def test_resolve_env_rules():
    table = {b"A": b"1"}
    out, undefined = resolve_env(b"$A-${A}-${A-${A}}", table.get)
    assert out == b"$A-1-${A-${A}}" and undefined == [b"A-${A"]
    out, undefined = resolve_env(b"${a:b}", table.get)
    assert out == b"${a:b}" and undefined == []


# -- the fast paths agree with the plain rules ------------------------------

def reference_getword_conf(line, pos=0):
    """ap_getword_conf scanned byte by byte (the rules of parser-spec.md
    §1.4, written the slow obvious way)."""
    space = b" \t\n\r\x0b\x0c"
    n = len(line)
    while pos < n and line[pos] in space:
        pos += 1
    if pos >= n:
        return b"", pos, pos, None
    start = pos
    quote = line[pos]
    if quote in b"\"'":
        out = bytearray()
        end = pos + 1
        while end < n and line[end] != quote:
            if line[end] == 0x5C and end + 1 < n and line[end + 1] in (quote, 0x5C):
                out.append(line[end + 1])
                end += 2
            else:
                out.append(line[end])
                end += 1
        if end < n:
            end += 1
    else:
        out = bytearray()
        end = pos
        while end < n and line[end] not in space:
            if line[end] == 0x5C and end + 1 < n and line[end + 1] == 0x5C:
                out.append(0x5C)
                end += 2
            else:
                out.append(line[end])
                end += 1
        quote = None
    nxt = end
    while nxt < n and line[nxt] in space:
        nxt += 1
    return bytes(out), start, nxt, quote


word_bytes = st.lists(st.sampled_from([b"a", b" ", b"\t", b"\\", b'"', b"'", b"\\\\", b'\\"', b"\x0b", b"x y"]),
                      max_size=16).map(b"".join)


@given(word_bytes, st.integers(0, 20))
@settings(max_examples=1000)
def test_getword_conf_matches_the_byte_by_byte_rules(line, pos):
    pos = min(pos, len(line))
    assert getword_conf(line, pos) == reference_getword_conf(line, pos)


@given(config_bytes)
@settings(max_examples=500)
def test_fast_split_gives_the_general_records(data):
    """Files without NUL or continuation take the fast path; its records
    (made one by one or all at once) are the general path's."""
    from cgidlint.parser.source import _parse_lines
    src = parse_bytes(data)
    general = _parse_lines(data)
    assert [src.line_at(i) for i in range(len(src.texts))] == general
    assert parse_bytes(data).lines == general
    assert src.texts == [l.text for l in general]
    assert [src.line_number(i) for i in range(len(general))] == [l.line for l in general]
    half = parse_bytes(data)
    made = [half.line_at(i) for i in range(0, len(general), 2)]
    assert all(a is b for a, b in zip(made, half.lines[::2]))  # identity kept


@given(word_bytes)
@settings(max_examples=1000)
def test_all_words_is_repeated_getword_conf(text):
    from cgidlint.parser.tokens import all_words
    text = text.strip()  # arguments never start or end with blanks
    words = []
    pos = 0
    while pos < len(text):
        word, _, pos, _ = reference_getword_conf(text, pos)
        words.append(word)
    assert all_words(text) == words


def test_length_limit_is_per_line_not_per_file(monkeypatch):
    from cgidlint.parser import source
    monkeypatch.setattr(source, "MAX_LINE_LEN", 10)
    big = parse_bytes(b"Define A 1\n" * 5)        # 55 bytes, every line within the limit
    assert big.simple and big.too_long_at is None
    long_line = parse_bytes(b"Define A 1\nDefine B 12\nX\n")
    assert not long_line.simple and long_line.too_long_at == 1
    assert [l.too_long for l in long_line.lines] == [False, True, False]
