"""What every report format needs: counts, the files the linter read, and
paths relative to the directory reports are read from."""

import bisect
import os
import re

STDIN_NAME = "<stdin>"
# Config bytes that are not UTF-8 reach messages and paths as lone
# surrogates (surrogateescape); a JSON text must be UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(json_text):
    """JSON text with each lone surrogate written as a ``\\uXXXX`` escape:
    valid UTF-8, and Python's json reads the same string back (the bytes of
    a Shift_JIS path survive, as in a baseline)."""
    return _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), json_text)


def replace_surrogates(json_text):
    """JSON text with each lone surrogate replaced by U+FFFD: strict
    consumers (SARIF viewers, code scanning) reject lone surrogates even
    when escaped."""
    return _LONE_SURROGATE.sub("\ufffd", json_text)


def summary(findings, project, baselined=0):
    return {"errors": sum(1 for f in findings if f.severity == "error"),
            "warnings": sum(1 for f in findings if f.severity == "warning"),
            "info": sum(1 for f in findings if f.severity == "info"),
            "files": len(project.config.files) if project is not None else 0,
            "baselined": baselined}


def stdin_name(options):
    """How reports name a config read from stdin (``--stdin-filename``)."""
    return getattr(options, "stdin_filename", None) or STDIN_NAME


def read_from_stdin(project):
    return project is not None and getattr(project.options, "stdin_data", None) is not None


def name_stdin(findings, project):
    """Name the config read from stdin as the user did (``--stdin-filename``,
    default ``<stdin>``) instead of the absolute path it was read as."""
    if not read_from_stdin(project):
        return
    from cgidlint.engine import stdin_main_path
    as_read = {project.main_host_path, stdin_main_path(project.options)}
    name = stdin_name(project.options)
    for f in findings:
        if f.file in as_read:
            f.file = name
        if f.fix is not None:
            for e in f.fix.edits:
                if e.file in as_read:
                    e.file = name
        for r in f.related:
            if r.get("file") in as_read:
                r["file"] = name


def report_base(environ):
    """The directory report paths are relative to: the checkout in GitHub
    Actions (GITHUB_WORKSPACE), else the working directory."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isabs(workspace):
        return os.path.realpath(workspace)
    return os.getcwd()


def relative_path(path, base):
    # type: (str, str) -> object
    """``path`` relative to ``base`` when it lies under it, else None.
    A relative ``path`` (a name given with --stdin-filename) is taken
    relative to the working directory."""
    full = os.path.normpath(os.path.join(os.getcwd(), path))
    base = base.rstrip("/") or "/"
    if full == base:
        return "."
    if full.startswith(base if base == "/" else base + "/"):
        return os.path.relpath(full, base)
    return None


class Sources(object):
    """The files the linter read, under the names findings give them."""

    def __init__(self, project):
        self._files = {}
        self._first_lines = {}  # id(SourceFile) -> [first physical line of each logical line]
        if project is None:
            return
        from cgidlint.fix.plan import display_path
        for sf in project.config.files:
            self._files.setdefault(display_path(project, sf.path), sf)
            if sf.path == project.config.main_file and read_from_stdin(project):
                self._files[stdin_name(project.options)] = sf

    def get(self, file):
        return self._files.get(file)

    def physical_line(self, file, line):
        # type: (str, int) -> object
        """The bytes of physical line ``line`` (1-based) without its terminator, or None."""
        return self.physical_lines(file, line, line)

    def physical_lines(self, file, first, last):
        # type: (str, int, int) -> object
        """The bytes of physical lines ``first`` to ``last`` without the last
        terminator, or None."""
        sf = self._files.get(file)
        if sf is None or not first or first < 1 or last < first:
            return None
        starts = sf.physical_line_starts()
        if last > len(starts):
            return None
        end = starts[last] if last < len(starts) else len(sf.data)
        return sf.data[starts[first - 1]:end].rstrip(b"\r\n")

    def span(self, file, line, column):
        # type: (str, int, int) -> tuple
        """``(first line, column, last line)`` of what a finding at
        ``line``/``column`` points at.  httpd reports a directive continued
        with a backslash on its last physical line while columns count from
        its first: such a finding spans the directive's lines, and keeps its
        column only when that lies on the first line."""
        sf = self._files.get(file)
        if sf is None or not line or not sf.has_continuation:
            return line, column, line
        lline = self.logical_line(file, line)
        if lline is None or lline.first_line == line:
            return line, column, line
        first_text = self.physical_line(file, lline.first_line)
        if column and (first_text is None or column > len(first_text) + 1):
            column = None
        return lline.first_line, column, lline.line

    def logical_line(self, file, line):
        """The logical line that physical line ``line`` belongs to, or None."""
        sf = self._files.get(file)
        if sf is None or not line or not sf.lines:
            return None
        firsts = self._first_lines.get(id(sf))
        if firsts is None:
            firsts = self._first_lines[id(sf)] = [l.first_line for l in sf.lines]
        l = sf.lines[max(bisect.bisect_right(firsts, line) - 1, 0)]
        return l if l.first_line <= line <= l.line else None
