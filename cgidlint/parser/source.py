"""Bytes to logical lines, the way httpd's config reader does it.

Mirrors util.c ``ap_cfg_getline_core`` / ``ap_varbuf_cfg_getline`` /
``cfg_trim_line`` (see ../shared/design/parser-spec.md §1.1-1.2):

* a physical line ends after LF; CR alone is data;
* a physical line ending in ``\\`` LF or ``\\`` CR LF continues: the backslash
  and the line end are removed and the next physical line is appended;
* the logical line stops at the first NUL byte (the rest of that physical
  line is dropped by httpd);
* leading and trailing C-locale whitespace is trimmed (``bytes.strip()``
  strips exactly SP HT LF VT FF CR, unlike ``str.strip``).

Lossless by construction: every logical line keeps the byte range it came
from, and the ranges tile the file, so ``dump()`` returns the input bytes.
"""

import re
from itertools import accumulate, compress, count, repeat
from operator import add, itemgetter, methodcaller, not_, sub
from typing import List, Optional

# config.c VARBUF_MAX_LEN: the longest logical line httpd accepts in the
# main configuration (excluding the final LF).
MAX_LINE_LEN = 16 * 1024 * 1024 - 1


class LogicalLine(tuple):
    """One line as httpd's reader returns it (an immutable record).

    ``start``/``end`` are byte offsets into the file (``end`` includes the
    line terminator), ``first_line`` is the 1-based physical line where it
    starts and ``line`` the physical line httpd reports for it (the last one,
    because httpd counts lines as it reads them).  ``text`` is the trimmed
    content after joining continuations and cutting at NUL.

    A tuple so that a file's lines can be made in bulk at C speed when a
    caller asks for all of them (see ``SourceFile.lines``).
    """

    __slots__ = ()

    def __new__(cls, start, end, first_line, line, text, indent_len, has_nul=False, continued=False,
                too_long=False):
        return tuple.__new__(cls, (start, end, first_line, line, text, indent_len, has_nul, continued, too_long))

    def __getnewargs__(self):
        return tuple(self)

    start = property(itemgetter(0))
    end = property(itemgetter(1))
    first_line = property(itemgetter(2))
    line = property(itemgetter(3))
    text = property(itemgetter(4))
    indent_len = property(itemgetter(5))  # leading whitespace bytes on the first physical line
    has_nul = property(itemgetter(6))
    continued = property(itemgetter(7))   # joined from more than one physical line
    too_long = property(itemgetter(8))

    @property
    def column(self):
        """1-based byte column of the first non-blank byte (on ``first_line``)."""
        return self[5] + 1

    @property
    def is_comment(self):
        return self[4][:1] == b"#"

    @property
    def is_blank(self):
        return not self[4]

    def __repr__(self):
        return "LogicalLine(line=%d, text=%r)" % (self[3], self[4][:60])


_new_line = tuple.__new__
_LF = re.compile(b"\n")
_match_end = methodcaller("end")


class SourceFile(object):
    """A configuration file read as bytes, split into logical lines.

    ``texts`` holds each logical line's trimmed text, which is all the
    reader needs.  The ``LogicalLine`` records (offsets, line numbers,
    indentation) are made on demand: one by one through ``line_at`` or all
    at once through ``lines``.  In the common case (no NUL byte, no
    continuation, nothing near the length limit) logical line ``i`` is
    physical line ``i + 1``.
    """

    __slots__ = ("path", "data", "texts", "simple", "has_nul", "has_continuation", "too_long_at", "_lines",
                 "_made", "_ends", "_line_starts")

    def __init__(self, path, data, texts, lines=None):
        self.path = path
        self.data = data
        self.texts = texts            # type: List[bytes]
        self.simple = lines is None
        self._lines = lines           # type: Optional[List[LogicalLine]]
        self._made = {}               # index -> LogicalLine made by line_at before ``lines``
        self._ends = None
        self._line_starts = None
        self.has_nul = False if lines is None else any(l[6] for l in lines)
        self.has_continuation = False if lines is None else any(l[7] for l in lines)
        self.too_long_at = None       # index of the first logical line over MAX_LINE_LEN
        if lines is not None:
            for i, l in enumerate(lines):
                if l[8]:
                    self.too_long_at = i
                    break

    # -- logical lines -----------------------------------------------------
    def _physical_ends(self):
        """Offset just past each physical line (simple files only)."""
        if self._ends is None:
            # one match object at a time: no copy of the lines alongside
            # everything else alive at the end of a large lint
            ends = list(map(_match_end, _LF.finditer(self.data)))
            if len(ends) < len(self.texts):
                ends.append(len(self.data))  # the last line has no LF
            self._ends = ends
        return self._ends

    def _make(self, i):
        ends = self._physical_ends()
        start = ends[i - 1] if i else 0
        end = ends[i]
        text = self.texts[i]
        indent = 0
        if text:
            raw = self.data[start:end]
            indent = len(raw) - len(raw.lstrip())
        return _new_line(LogicalLine, (start, end, i + 1, i + 1, text, indent, False, False, False))

    @property
    def lines(self):
        # type: () -> List[LogicalLine]
        if self._lines is None:
            # Made in bulk with C-level iteration: rules that look at every
            # line of a 100k-line tree must not pay a Python loop for it.
            data = self.data
            texts = self.texts
            n = len(texts)
            parts = data.split(b"\n")[:n]
            if self._ends is None:
                self._ends = list(map(add, accumulate(map(len, parts)), count(1)))
                if self._ends and self._ends[-1] > len(data):
                    self._ends[-1] = len(data)  # the last line has no LF
            ends = self._ends
            indents = list(map(sub, map(len, parts), map(len, map(bytes.lstrip, parts))))
            # Freed before the records are made, so that their memory is
            # reused for them.
            del parts
            for i in compress(range(n), map(not_, texts)):
                indents[i] = 0  # a blank line has no indentation
            starts = [0] + ends[:n - 1]
            numbers = list(range(1, n + 1))  # one int object for first_line and line
            no = repeat(False)
            lines = list(map(_new_line, repeat(LogicalLine),
                             zip(starts, ends, numbers, numbers, texts, indents, no, no, no)))
            for i, l in self._made.items():
                lines[i] = l  # keep the identity of lines handed out before
            self._lines = lines
            self._made = {}
        return self._lines

    def line_at(self, i):
        # type: (int) -> LogicalLine
        """Logical line ``i`` (0-based), without making the others."""
        if self._lines is not None:
            return self._lines[i]
        l = self._made.get(i)
        if l is None:
            l = self._made[i] = self._make(i)
        return l

    def line_number(self, i):
        # type: (int) -> int
        """The physical line httpd reports for logical line ``i``."""
        if self.simple:
            return i + 1
        return self._lines[i][3]

    # -- bytes -------------------------------------------------------------
    def dump(self):
        """The exact bytes the file was parsed from."""
        return b"".join(self.data[l.start:l.end] for l in self.lines)

    def raw(self, lline):
        return self.data[lline.start:lline.end]

    def indent(self, lline):
        """The leading whitespace bytes of ``lline``'s first physical line."""
        return self.data[lline.start:lline.start + lline.indent_len]

    def physical_line_starts(self):
        """Offsets where each physical line starts (index 0 = line 1)."""
        if self._line_starts is None:
            starts = [0]
            find = self.data.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def line_ending(self, lline=None):
        """The line terminator used by ``lline`` (or the file's first one)."""
        if lline is not None:
            raw = self.data[lline.start:lline.end]
            if raw.endswith(b"\r\n"):
                return b"\r\n"
            if raw.endswith(b"\n"):
                return b"\n"
        return b"\r\n" if b"\r\n" in self.data[:4096] else b"\n"


def _split_physical(data):
    """Physical lines with their terminators kept (the last may lack one)."""
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [p + b"\n" for p in parts]
    if last:
        lines.append(last)
    return lines


def parse_bytes(data, path="<string>"):
    # type: (bytes, str) -> SourceFile
    """Split ``data`` into logical lines.  Never raises on any byte input."""
    if b"\x00" not in data and b"\\\n" not in data and b"\\\r\n" not in data:
        # No NUL, no continuation: one logical line per physical line, and
        # only the texts are needed to read it.
        parts = data.split(b"\n")
        if len(data) <= MAX_LINE_LEN or max(map(len, parts)) <= MAX_LINE_LEN:
            texts = list(map(bytes.strip, parts))
            del parts
            if data[-1:] == b"\n" or not data:
                texts.pop()  # nothing after the last LF
            return SourceFile(path, data, texts)
    lines = _parse_lines(data)
    return SourceFile(path, data, [l[4] for l in lines], lines)


def _parse_lines(data):
    # type: (bytes) -> List[LogicalLine]
    """The general case, one record per logical line."""
    lines = []
    append = lines.append
    physical = _split_physical(data)
    n = len(physical)
    offset = 0
    i = 0
    while i < n:
        phys = physical[i]
        first = i + 1
        start = offset
        # Fast path: the overwhelmingly common single physical line.
        if not (phys.endswith(b"\\\n") or phys.endswith(b"\\\r\n")) and b"\x00" not in phys:
            offset += len(phys)
            text = phys.strip()
            append(LogicalLine(start, offset, first, first, text, len(phys) - len(phys.lstrip()) if text else 0,
                               too_long=len(phys.rstrip(b"\n")) > MAX_LINE_LEN))
            i += 1
            continue
        # Slow path: continuation and/or NUL.
        buf = []
        has_nul = False
        line_no = first
        while True:
            phys = physical[i]
            offset += len(phys)
            i += 1
            nul = phys.find(b"\x00")
            if nul != -1:
                # strlen() stops at NUL: the rest of this physical line is
                # dropped and no continuation can be seen after it.
                buf.append(phys[:nul])
                has_nul = True
                break
            if phys.endswith(b"\\\r\n"):
                buf.append(phys[:-3])
            elif phys.endswith(b"\\\n"):
                buf.append(phys[:-2])
            else:
                buf.append(phys)
                break
            if i >= n:
                # A continuation right before EOF: httpd counts one more line
                # while trying to read the next one.
                line_no += 1
                break
            line_no += 1
        joined = b"".join(buf)
        text = joined.strip()
        first_phys = physical[first - 1]
        indent = len(first_phys) - len(first_phys.lstrip()) if text else 0
        append(LogicalLine(start, offset, first, line_no, text, indent, has_nul=has_nul,
                           continued=line_no > first, too_long=len(joined.rstrip(b"\n")) > MAX_LINE_LEN))
    return lines

