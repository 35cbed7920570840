"""From findings to what ``cgidlint fix`` would change.

Edits (``finding.fix.edits``) are grouped by the file that holds the
directive (an included file as well as the main one), matched to the
SourceFile the linter read, and applied to exactly the bytes it read.
Fixes without edits are filesystem changes: they are only printed.
"""

import difflib
import os
from typing import Dict, List, Optional, Tuple

from cgidlint.fix.apply import FixConflict, apply_planned, resolve


def display_path(project, path):
    """A SourceFile path as findings name it (see LintContext.display_path)."""
    fs = project.fs
    if path and (fs.read_root != "/" or fs.mounts) and path.startswith("/"):
        return fs.host_path(path)
    return path


def allowed_roots(project):
    """Where a symlinked config file may lead for the fixer to write it."""
    fs = project.fs
    roots = []
    if fs.read_root != "/":
        roots.append(fs.read_root)
    roots.extend(host for _, host in fs.mounts)
    main = os.path.realpath(project.main_host_path)
    d = os.path.dirname(main)
    roots.append(os.path.dirname(d) if os.path.basename(d) == "conf" else d)
    sr = getattr(project.config, "server_root", None)
    if sr and sr.startswith("/"):
        try:
            roots.append(fs.host_path(sr))
        except Exception:
            pass
    return roots


class FilePlan(object):
    def __init__(self, display, source, planned, new, spans):
        self.display = display      # path on this machine, as in findings
        self.source = source        # the SourceFile the linter read
        self.planned = planned
        self.new = new              # bytes after the edits
        self.spans = spans          # new physical lines written, per edit

    @property
    def old(self):
        return self.source.data

    @property
    def changed(self):
        return self.new != self.source.data


class Plan(object):
    def __init__(self):
        self.files = []             # type: List[FilePlan]
        self.applied = []           # findings whose edits are in files
        self.needs_unsafe = []      # findings with edits not verified on the filesystem
        self.commands = []          # [(finding, [command])]: filesystem changes, printed only
        self.errors = []            # refusals (overlaps, stale lines, unknown files)

    @property
    def changes(self):
        return [fp for fp in self.files if fp.changed]


def fix_is_safe(finding):
    return finding.evidence == "filesystem" and finding.fix.applicability == "safe"


def make_plan(project, findings, unsafe=False):
    plan = Plan()
    sources = {}  # display path -> SourceFile (first read wins)
    for sf in project.config.files:
        sources.setdefault(display_path(project, sf.path), sf)
    by_file = {}  # type: Dict[str, List[object]]
    order = []
    for f in findings:
        fix = f.fix
        if fix is None:
            continue
        if fix.commands:
            plan.commands.append((f, list(fix.commands)))
        if not fix.edits or fix.applicability == "display-only":
            continue
        if not fix_is_safe(f) and not unsafe:
            plan.needs_unsafe.append(f)
            continue
        plan.applied.append(f)
        for e in fix.edits:
            if e.file not in by_file:
                by_file[e.file] = []
                order.append(e.file)
            by_file[e.file].append(e)
    for path in order:
        sf = sources.get(path)
        if sf is None:
            plan.errors.append("%s: the fix edits a file the linter did not read" % path)
            continue
        try:
            planned = resolve(sf, by_file[path])
            new, spans = apply_planned(sf, planned)
        except FixConflict as e:
            plan.errors.append(str(e))
            continue
        plan.files.append(FilePlan(path, sf, planned, new, spans))
    return plan


def _split(data):
    return data.splitlines(True) if data else []


def _range(start, length):
    if length == 1:
        return b"%d" % (start + 1)
    if not length:
        start -= 1  # an empty range starts before the first line
    return b"%d,%d" % (start + 1, length)


def unified_diff(display, old, new, context=3):
    # type: (str, bytes, bytes, int) -> bytes
    """A unified diff of two byte strings, lossless (CR, non-UTF-8 bytes and
    a missing final newline survive; ``patch`` applies it).

    Lines are split on LF only, as httpd does.  difflib's "autojunk"
    heuristic is off: it treats frequent lines (``</IfModule>``, blank
    lines) as junk and would show untouched lines as changed."""
    if old == new:
        return b""
    name = os.fsencode(display)

    def split(data):
        parts = data.split(b"\n")
        return [x + b"\n" for x in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    a, b = split(old), split(new)
    out = [b"--- " + name + b"\n", b"+++ " + name + b"\n"]

    def emit(prefix, line):
        out.append(prefix + line)
        if not line.endswith(b"\n"):
            out.append(b"\n\\ No newline at end of file\n")

    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in sm.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        out.append(b"@@ -%s +%s @@\n" % (_range(first[1], last[2] - first[1]), _range(first[3], last[4] - first[3])))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in a[i1:i2]:
                    emit(b" ", line)
                continue
            for line in a[i1:i2]:
                emit(b"-", line)
            for line in b[j1:j2]:
                emit(b"+", line)
    return b"".join(out)


def changed_old_lines(diff):
    # type: (bytes) -> Tuple[List[int], List[int]]
    """Old and new line numbers a unified diff removes and adds."""
    removed, added = [], []
    o = n = 0
    in_hunk = False
    for line in diff.split(b"\n"):
        if line.startswith(b"@@"):
            in_hunk = True
            parts = line.split()
            o = int(parts[1][1:].split(b",")[0])
            n = int(parts[2][1:].split(b",")[0])
            # an empty range "-k,0" starts after line k
            if parts[1].endswith(b",0"):
                o += 1
            if parts[2].endswith(b",0"):
                n += 1
        elif not in_hunk:
            continue
        elif line.startswith(b"-"):
            removed.append(o)
            o += 1
        elif line.startswith(b"+"):
            added.append(n)
            n += 1
        elif line.startswith(b" "):
            o += 1
            n += 1
    return removed, added
