"""httpd's configuration tokenizer and variable expansion, on bytes.

``getword_conf`` is a port of the behaviour of util.c ``ap_getword_conf``
(parser-spec.md §1.4): quoted tokens run to the next unescaped matching quote
or to the end of the line; inside them only ``\\\\`` and ``\\<quote>`` are
escapes; unquoted tokens run to whitespace and only ``\\\\`` is an escape.

``resolve_env`` follows core.c ``ap_resolve_env`` (§1.6): ``${NAME}`` with NAME
up to the first ``}``, looked up in the Define table (case-insensitive keys),
then the environment; not found stays literal.
"""

import re
from typing import Callable, List, Optional, Tuple

_SPACE = b" \t\n\r\x0b\x0c"
_QUOTES = (0x22, 0x27)  # '"', "'"
_QUOTE_BYTES = {0x22: b'"', 0x27: b"'"}
_BLANKS = re.compile(b"[" + re.escape(_SPACE) + b"]*")
_NON_BLANKS = re.compile(b"[^" + re.escape(_SPACE) + b"]*")


def _unescape(raw, quote):
    # type: (bytes, Optional[int]) -> bytes
    if b"\\" not in raw:
        return raw
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == 0x5C and i + 1 < n and (raw[i + 1] == 0x5C or (quote is not None and raw[i + 1] == quote)):
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def getword_conf(line, pos=0):
    # type: (bytes, int) -> Tuple[bytes, int, int, Optional[int]]
    """Read one word from ``line`` at ``pos``.

    Returns ``(word, start, next_pos, quote)`` where ``start`` is where the
    token begins (its quote included), ``next_pos`` is past the whitespace
    that follows it, and ``quote`` is the quote byte or None.  At the end of
    the line the word is ``b""``.
    """
    n = len(line)
    pos = _BLANKS.match(line, pos).end()
    if pos >= n:
        return b"", pos, pos, None
    start = pos
    quote = line[pos]
    if quote in _QUOTES:
        end = line.find(_QUOTE_BYTES[quote], pos + 1)
        if end == -1:
            end = n
        if b"\\" in line[pos + 1:end]:
            # Escapes before the quote found: scan as httpd does.
            end = pos + 1
            while end < n and line[end] != quote:
                if line[end] == 0x5C and end + 1 < n and (line[end + 1] == quote or line[end + 1] == 0x5C):
                    end += 2
                else:
                    end += 1
        word = _unescape(line[pos + 1:end], quote)
        if end < n:
            end += 1  # the closing quote
    else:
        end = _NON_BLANKS.match(line, pos).end()
        word = _unescape(line[pos:end], None)
        quote = None
    return word, start, _BLANKS.match(line, end).end(), quote


def is_simple(text):
    # type: (bytes) -> bool
    """True when plain whitespace splitting gives the same words as httpd."""
    return b'"' not in text and b"'" not in text and b"\\" not in text


def split_words(text):
    # type: (bytes) -> List[bytes]
    """All words of ``text`` as ``ap_getword_conf`` would return them.

    Stops at the first empty word, as every httpd caller does.
    """
    if is_simple(text):
        return text.split()
    words = []
    pos = 0
    n = len(text)
    while pos < n:
        word, _, pos, _ = getword_conf(text, pos)
        if not word and pos >= n:
            break
        words.append(word)
    return words


# Without backslashes a token is a quoted run (to its quote or the end) or
# a run of non-blanks.
_PLAIN_TOKENS = re.compile(b'"([^"]*)"?|\'([^\']*)\'?|([^' + re.escape(_SPACE) + b']+)')


def all_words(text):
    # type: (bytes) -> List[bytes]
    """Every word of ``text`` as repeated ``ap_getword_conf`` calls return
    them, empty quoted words included (invoke_cmd's argument counting)."""
    if is_simple(text):
        return text.split()
    if b"\\" not in text:
        return [a or b or c for a, b, c in _PLAIN_TOKENS.findall(text)]
    words = []
    pos = 0
    n = len(text)
    while pos < n:
        word, _, pos, _ = getword_conf(text, pos)
        words.append(word)
    return words


def resolve_env(text, lookup):
    # type: (bytes, Callable[[bytes], Optional[bytes]]) -> Tuple[bytes, List[bytes]]
    """Expand ``${NAME}`` in ``text``.  Returns (expanded, undefined names).

    ``lookup`` returns the value or None.  Names containing ``:`` that are
    not found are not reported (RewriteMap's ``${map:key}``), as httpd does.
    """
    if b"${" not in text:
        return text, []
    out = []
    undefined = []
    pos = 0
    n = len(text)
    while pos < n:
        d = text.find(b"$", pos)
        if d == -1:
            out.append(text[pos:])
            break
        out.append(text[pos:d])
        if d + 1 < n and text[d + 1] == 0x7B:  # '{'
            e = text.find(b"}", d + 2)
            if e != -1:
                name = text[d + 2:e]
                value = lookup(name)
                if value is not None:
                    out.append(value)
                else:
                    if b":" not in name:
                        undefined.append(name)
                    out.append(text[d:e + 1])
                pos = e + 1
                continue
        out.append(b"$")
        pos = d + 1
    return b"".join(out), undefined
