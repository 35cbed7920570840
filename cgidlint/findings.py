"""Findings and fixes: what rules produce and reporters/fixer consume.

The JSON shape (``to_dict``) is a public contract (version 1): keys may be
added, none removed or renamed.
"""

from typing import Dict, List, Optional

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}


class Edit(object):
    """Replace one logical line (``action="replace"``) or insert a new line
    after it (``action="insert_after"``); ``replace_with`` is the directive
    text without indentation or line ending (the fixer keeps those)."""

    __slots__ = ("file", "line", "replace_with", "action", "original")

    def __init__(self, file, line, replace_with, action="replace", original=None):
        self.file = file
        self.line = line
        self.replace_with = replace_with
        self.action = action
        self.original = original    # the directive text the edit expects to find

    def to_dict(self):
        d = {"file": self.file, "line": self.line, "replace_with": self.replace_with, "action": self.action}
        if self.original is not None:
            d["original"] = self.original
        return d


class Fix(object):
    __slots__ = ("description", "edits", "commands", "relies_on", "applicability")

    def __init__(self, description, edits=None, commands=None, relies_on=None, applicability="safe"):
        self.description = description
        self.edits = list(edits or [])         # type: List[Edit]
        self.commands = list(commands or [])   # type: List[str]
        self.relies_on = relies_on or ""       # what must hold for the fix to work
        self.applicability = applicability     # safe | unsafe | display-only

    def to_dict(self):
        return {"description": self.description, "edits": [e.to_dict() for e in self.edits],
                "commands": list(self.commands), "relies_on": self.relies_on,
                "applicability": self.applicability}


class Finding(object):
    __slots__ = ("rule", "name", "severity", "file", "line", "column", "message", "predicts", "evidence",
                 "fix", "related")

    def __init__(self, rule, name, severity, file, line, column, message, predicts="", evidence="config-only",
                 fix=None, related=None):
        self.rule = rule
        self.name = name
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.predicts = predicts
        self.evidence = evidence
        self.fix = fix                # type: Optional[Fix]
        self.related = related or []  # [{"file", "line", "message"}] e.g. the jail-side path

    def to_dict(self):
        # type: () -> Dict[str, object]
        d = {"rule": self.rule, "name": self.name, "severity": self.severity, "file": self.file,
             "line": self.line, "column": self.column, "message": self.message, "predicts": self.predicts,
             "evidence": self.evidence, "fix": self.fix.to_dict() if self.fix else None}
        if self.related:
            d["related"] = self.related
        return d

    def sort_key(self):
        return (self.file or "", self.line or 0, self.column or 0, self.rule)

    def __repr__(self):
        return "Finding(%s %s:%s %s)" % (self.rule, self.file, self.line, self.message[:60])
