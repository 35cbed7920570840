"""Apply edits to the bytes of one configuration file.

Pure functions: bytes and edits in, bytes out.  An edit names a logical line
by the line httpd reports for it (its last physical line).  Everything outside
the edited logical line is copied byte for byte; inside it the leading
indentation, trailing blanks and the line terminator (CRLF, LF or none) are
kept and only the directive text is replaced.
"""

from typing import List, Optional, Sequence, Tuple

from cgidlint.parser.source import LogicalLine, SourceFile, parse_bytes

_INDENT_BYTES = b" \t\v\f"
_TRAIL_BYTES = b" \t\v\f\r"


class FixConflict(Exception):
    """An edit cannot be applied as stated (refused, never merged or guessed)."""


def encode_text(text):
    # type: (str) -> bytes
    """Edit text to bytes: paths come from os.fsdecode, so undo that."""
    if isinstance(text, bytes):
        return text
    return text.encode("utf-8", "surrogateescape")


def terminator(raw):
    # type: (bytes) -> bytes
    if raw.endswith(b"\r\n"):
        return b"\r\n"
    if raw.endswith(b"\n"):
        return b"\n"
    return b""


def file_line_ending(source):
    # type: (SourceFile) -> bytes
    """The file's dominant line ending (LF when it has none)."""
    crlf = source.data.count(b"\r\n")
    lf = source.data.count(b"\n") - crlf
    return b"\r\n" if crlf > lf else b"\n"


def leading_indent(raw):
    # type: (bytes) -> bytes
    first = raw.split(b"\n", 1)[0]
    return first[:len(first) - len(first.lstrip(_INDENT_BYTES))]


def trailing_blanks(raw):
    # type: (bytes) -> bytes
    """Blanks between the directive text and the terminator of the last physical line."""
    body = raw[:len(raw) - len(terminator(raw))]
    last = body.rsplit(b"\n", 1)[-1]
    stripped = last.rstrip(_TRAIL_BYTES)
    if not stripped.strip():
        return b""
    return last[len(stripped):]


def find_line(source, line):
    # type: (SourceFile, int) -> Optional[LogicalLine]
    """The logical line httpd reports as ``line`` (its last physical line)."""
    for l in source.lines:
        if l.line == line:
            return l
    return None


def _block_indent(source, idx):
    # type: (SourceFile, int) -> bytes
    """Indentation for a line inserted after logical line ``idx``: that of the
    next non-blank line inside the block it opens, else the anchor's."""
    anchor = source.lines[idx]
    anchor_raw = source.raw(anchor)
    base = leading_indent(anchor_raw)
    opens = anchor.text.startswith(b"<") and not anchor.text.startswith(b"</")
    if not opens:
        return base
    for l in source.lines[idx + 1:]:
        if l.is_blank:
            continue
        if l.text.startswith(b"</"):
            break
        return leading_indent(source.raw(l))
    # an empty block: one level deeper, in the style the file uses
    unit = b"\t" if b"\n\t" in source.data else b"    "
    return base + unit


class PlannedEdit(object):
    """An edit resolved to a logical line of one file."""

    __slots__ = ("edit", "index", "lline")

    def __init__(self, edit, index, lline):
        self.edit, self.index, self.lline = edit, index, lline


def resolve(source, edits):
    # type: (SourceFile, Sequence[object]) -> List[PlannedEdit]
    """Match each edit to its logical line and check it; refuse overlaps."""
    pos = {id(l): i for i, l in enumerate(source.lines)}
    planned = []
    seen = {}
    for e in edits:
        if e.action not in ("replace", "insert_after"):
            raise FixConflict("%s:%s: unknown edit action %r" % (e.file, e.line, e.action))
        l = find_line(source, e.line)
        if l is None:
            raise FixConflict("%s:%s: no such line (the file has changed since it was linted?)" % (e.file, e.line))
        if l.is_blank or l.is_comment:
            raise FixConflict("%s:%s: the edit targets a %s line" % (e.file, e.line,
                                                                    "blank" if l.is_blank else "comment"))
        if e.original is not None and l.text.decode("latin-1") != e.original:
            raise FixConflict("%s:%s: expected %r, found %r (the file has changed since it was linted?)"
                              % (e.file, e.line, e.original, l.text.decode("latin-1")))
        key = (e.action, e.replace_with, e.original)
        if l.line in seen:
            if seen[l.line] == key:
                continue  # the same edit reported by two findings
            raise FixConflict("%s:%s: overlapping edits on one line (%s); refusing to merge them"
                              % (e.file, e.line, ", ".join(sorted({seen[l.line][0], e.action}))))
        seen[l.line] = key
        planned.append(PlannedEdit(e, pos[id(l)], l))
    planned.sort(key=lambda p: p.index)
    return planned


def apply_edits(source, edits):
    # type: (SourceFile, Sequence[object]) -> bytes
    """The new bytes of ``source`` with ``edits`` applied."""
    return apply_planned(source, resolve(source, edits))[0]


def apply_planned(source, planned):
    # type: (SourceFile, Sequence[PlannedEdit]) -> Tuple[bytes, List[Tuple[int, int]]]
    """New bytes, and for each edit the (first, last) new physical line it wrote."""
    data = source.data
    out = []
    pos = 0
    spans = []
    new_line = 1  # physical line number in the output where the next chunk starts
    eol = file_line_ending(source)
    for p in planned:
        l = p.lline
        out.append(data[pos:l.start])
        new_line += data[pos:l.start].count(b"\n")
        raw = data[l.start:l.end]
        text = encode_text(p.edit.replace_with)
        if b"\n" in text or b"\r" in text or b"\x00" in text:
            raise FixConflict("%s:%s: the replacement is not one line" % (p.edit.file, p.edit.line))
        if p.edit.action == "replace":
            chunk = leading_indent(raw) + text + trailing_blanks(raw) + terminator(raw)
            out.append(chunk)
            spans.append((new_line, new_line))
            new_line += chunk.count(b"\n")
        else:
            term = terminator(raw)
            indent = _block_indent(source, p.index)
            if term:
                out.append(raw)
                new_line += raw.count(b"\n")
                chunk = indent + text + term
            else:
                # the anchor is the last line and has no terminator: end it
                # with the file's line ending, keep the file unterminated
                out.append(raw + eol)
                new_line += raw.count(b"\n") + 1
                chunk = indent + text
            out.append(chunk)
            spans.append((new_line, new_line))
            new_line += chunk.count(b"\n")
        pos = l.end
    out.append(data[pos:])
    return b"".join(out), spans


def reparse(data, path="<string>"):
    return parse_bytes(data, path)
