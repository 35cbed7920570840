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

from typing import List, Optional

# config.c VARBUF_MAX_LEN: the longest logical line httpd accepts in the
# main configuration (excluding the final LF).
MAX_LINE_LEN = 16 * 1024 * 1024 - 1


class LogicalLine(object):
    """One line as httpd's reader returns it.

    ``start``/``end`` are byte offsets into the file (``end`` includes the
    line terminator), ``first_line`` is the 1-based physical line where it
    starts and ``line`` the physical line httpd reports for it (the last one,
    because httpd counts lines as it reads them).  ``text`` is the trimmed
    content after joining continuations and cutting at NUL.
    """

    __slots__ = ("start", "end", "first_line", "line", "text", "indent_len", "has_nul",
                 "continued", "too_long")

    def __init__(self, start, end, first_line, line, text, indent_len, has_nul=False,
                 continued=False, too_long=False):
        self.start = start
        self.end = end
        self.first_line = first_line
        self.line = line
        self.text = text
        self.indent_len = indent_len  # leading whitespace bytes on the first physical line
        self.has_nul = has_nul
        self.continued = continued    # joined from more than one physical line
        self.too_long = too_long

    @property
    def column(self):
        """1-based byte column of the first non-blank byte (on ``first_line``)."""
        return self.indent_len + 1

    @property
    def is_comment(self):
        return self.text[:1] == b"#"

    @property
    def is_blank(self):
        return not self.text

    def __repr__(self):
        return "LogicalLine(line=%d, text=%r)" % (self.line, self.text[:60])


class SourceFile(object):
    """A configuration file read as bytes, split into logical lines."""

    __slots__ = ("path", "data", "lines", "_line_starts")

    def __init__(self, path, data, lines):
        self.path = path
        self.data = data
        self.lines = lines            # type: List[LogicalLine]
        self._line_starts = None

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
    lines = []
    append = lines.append
    physical = _split_physical(data)
    n = len(physical)
    if b"\x00" not in data and b"\\\n" not in data and b"\\\r\n" not in data:
        # No NUL and no continuation anywhere: one logical line per physical
        # line (the common case, kept tight for large trees).
        offset = 0
        no = 0
        for phys in physical:
            no += 1
            end = offset + len(phys)
            text = phys.strip()
            append(LogicalLine(offset, end, no, no, text, len(phys) - len(phys.lstrip()) if text else 0,
                               False, False, len(phys) > MAX_LINE_LEN))
            offset = end
        return SourceFile(path, data, lines)
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
    return SourceFile(path, data, lines)

