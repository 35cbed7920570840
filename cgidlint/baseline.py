"""Baselines: accept today's findings, report only new ones.

``--write-baseline FILE`` records the findings of a run; ``--baseline FILE``
hides the recorded ones.  A finding is identified by its rule, its file
(relative to the baseline file's directory, so the baseline works from any
working directory and in any clone) and the whitespace-collapsed text of
the logical line it is reported on, never by line number: lines inserted or
removed elsewhere in the file do not change what is hidden.  Matching
counts: two recorded ``(rule, file, directive)`` entries hide two findings
with that key, a third is new.  The message is recorded for people only.

The file is JSON (stable; keys may be added, never removed)::

    {"version": 1, "tool": "cgidlint",
     "findings": [{"rule": "CG004", "file": "conf/httpd.conf",
                   "directive": "DirectoryIndex index.html # default", "message": "..."}]}
"""

import json
import os
import tempfile
from collections import Counter
from typing import Dict, List, Tuple

from cgidlint.report.common import Sources

BASELINE_VERSION = 1
TOOL = "cgidlint"
_KEYS = ("rule", "file", "directive")


class BaselineError(Exception):
    """The baseline file cannot be read or written (exit 2)."""


def base_dir(path):
    # type: (str) -> str
    """The directory a baseline's file names are relative to."""
    return os.path.realpath(os.path.dirname(os.path.abspath(path)))


def _directive_text(sources, finding):
    lline = sources.logical_line(finding.file, finding.line) if finding.file else None
    if lline is None:
        return ""
    # Bytes in any encoding map to one str and back (surrogateescape).
    return b" ".join(lline.text.split()).decode("utf-8", "surrogateescape")


def _relative(file, directory):
    if not file:
        return ""
    if file.startswith("<"):
        return file  # <stdin>: no place on disk
    # a relative name (--stdin-filename) is relative to the working directory
    return os.path.relpath(os.path.join(os.getcwd(), file), directory).replace(os.sep, "/")


def entries(findings, project, directory):
    # type: (List[object], object, str) -> List[Dict[str, str]]
    """One baseline entry per finding, in the findings' order, with file
    names relative to ``directory``."""
    sources = Sources(project)
    return [{"rule": f.rule, "file": _relative(f.file, directory), "directive": _directive_text(sources, f),
             "message": f.message} for f in findings]


def _key(entry):
    return tuple(entry[k] for k in _KEYS)


def _dumps(doc):
    # Readable UTF-8 when possible; bytes that are not UTF-8 (Shift_JIS in
    # a directive) become \udcXX escapes, which json reads back identically.
    s = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def write(path, findings, project):
    # type: (str, List[object], object) -> int
    """Record ``findings`` in ``path`` atomically; returns how many."""
    recorded = sorted(entries(findings, project, base_dir(path)),
                      key=lambda e: (e["file"], e["rule"], e["directive"], e["message"]))
    data = _dumps({"version": BASELINE_VERSION, "tool": TOOL, "findings": recorded})
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise BaselineError("%s: cannot write the baseline: %s" % (path, e.strerror or e))
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return len(recorded)


def load(path):
    # type: (str) -> Counter
    """The recorded ``(rule, file, directive)`` keys of ``path``, counted."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except (IOError, OSError) as e:
        raise BaselineError("%s: cannot read the baseline: %s" % (path, e.strerror or e))
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BaselineError("%s: not a cgidlint baseline (invalid JSON: %s)" % (path, e))
    if not isinstance(doc, dict) or doc.get("tool") != TOOL:
        raise BaselineError("%s: not a cgidlint baseline (no \"tool\": \"cgidlint\"); write one with "
                            "--write-baseline" % path)
    version = doc.get("version")
    if version != BASELINE_VERSION:
        raise BaselineError("%s: baseline version %r is not supported (this cgidlint reads version %d)"
                            % (path, version, BASELINE_VERSION))
    recorded = doc.get("findings")
    if not isinstance(recorded, list):
        raise BaselineError("%s: \"findings\" must be a list" % path)
    keys = Counter()  # type: Counter
    for i, entry in enumerate(recorded):
        if not isinstance(entry, dict):
            raise BaselineError("%s: findings[%d] is not an object" % (path, i))
        for k in _KEYS:
            if not isinstance(entry.get(k), str):
                raise BaselineError("%s: findings[%d]: \"%s\" missing or not a string" % (path, i, k))
        keys[_key(entry)] += 1
    return keys


def new_findings(findings, project, path, known):
    # type: (List[object], object, str, Counter) -> Tuple[List[object], int]
    """The findings the baseline ``known`` (read from ``path``) does not
    hold, in their order, and how many it hid."""
    remaining = Counter(known)
    fresh = []
    hidden = 0
    for f, entry in zip(findings, entries(findings, project, base_dir(path))):
        k = _key(entry)
        if remaining[k] > 0:
            remaining[k] -= 1
            hidden += 1
        else:
            fresh.append(f)
    return fresh, hidden

