"""SARIF 2.1.0 for code-scanning services and editors.

File locations are relative to the report base (``%SRCROOT%``: the working
directory, or GITHUB_WORKSPACE) when the file lies under it, else absolute
``file://`` URIs.  Columns count Unicode code points (cgidlint counts bytes;
the two differ only after non-ASCII bytes on the line, and a line that is not
UTF-8 keeps byte counts).  Fixes are byte-exact replacements of the edited
logical line, the same bytes ``cgidlint fix`` writes.  Text made from
config bytes that are not UTF-8 shows U+FFFD for them (the JSON format keeps
them as ``\\udcXX`` escapes).
"""

import base64
import hashlib
import json
import os
import re
from collections import OrderedDict
from urllib.parse import quote

from cgidlint import __version__
from cgidlint.report.common import Sources, relative_path, replace_surrogates

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/cgidlint/cgidlint"
RULE_DOC_URI = INFORMATION_URI + "/blob/main/docs/rules/%s.md"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "cgidlint/v1"


def path_uri(path):
    # type: (str) -> str
    """A URI path for a file path (bytes a path may hold, percent-encoded)."""
    return quote(os.fsencode(path), safe="/")


def artifact_location(path, base):
    rel = relative_path(path, base)
    if rel is not None:
        return {"uri": path_uri(rel), "uriBaseId": SRCROOT}
    return {"uri": "file://" + path_uri(os.path.join(os.getcwd(), path))}


def _section(doc, heading):
    m = re.search(r"(?ms)^## %s\s*\n(.*?)(?=^## |\Z)" % re.escape(heading), doc)
    return " ".join(m.group(1).split()) if m else ""


def rule_descriptor(rule):
    doc = rule.doc()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _section(doc, "What it does") or rule.summary},
        "help": {"text": doc, "markdown": doc},
        "helpUri": RULE_DOC_URI % rule.code,
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
    }


def char_column(line_bytes, byte_column):
    """A 1-based byte column as a 1-based code point column."""
    if line_bytes is None or byte_column <= 1:
        return byte_column
    try:
        return len(line_bytes[:byte_column - 1].decode("utf-8")) + 1
    except UnicodeDecodeError:
        return byte_column


def replacement_content(data):
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"binary": base64.b64encode(data).decode("ascii")}


def physical_location(sources, base, file, line=None, column=None):
    """The file, and the lines and column when known; ``contextRegion``
    carries the whole lines so viewers without the file can show them."""
    loc = {"artifactLocation": artifact_location(file, base)}
    if line and line >= 1:
        first, column, last = sources.span(file, line, column)
        lines = OrderedDict([("startLine", first)])
        if last != first:
            lines["endLine"] = last
        loc["region"] = OrderedDict(lines)
        if column and column >= 1:
            loc["region"]["startColumn"] = char_column(sources.physical_line(file, first), column)
        text = sources.physical_lines(file, first, last)
        if text is not None:
            loc["contextRegion"] = OrderedDict(lines, snippet={"text": text.decode("utf-8", "replace")})
    return loc


def sarif_fix(finding, sources, base):
    """The fix's config edits as byte replacements, or None when the fix
    changes no config (filesystem commands only) or does not apply."""
    from cgidlint.fix.apply import FixConflict, apply_planned, resolve
    by_file = OrderedDict()
    for e in finding.fix.edits:
        by_file.setdefault(e.file, []).append(e)
    changes = []
    for file, edits in by_file.items():
        sf = sources.get(file)
        if sf is None:
            return None
        try:
            planned = resolve(sf, edits)
            replacements = []
            for p in planned:
                new = apply_planned(sf, [p])[0]
                l = p.lline
                inserted = new[l.start:l.end + len(new) - len(sf.data)]
                replacements.append({"deletedRegion": {"byteOffset": l.start, "byteLength": l.end - l.start},
                                     "insertedContent": replacement_content(inserted)})
        except FixConflict:
            return None
        changes.append({"artifactLocation": artifact_location(file, base), "replacements": replacements})
    if not changes:
        return None
    return {"description": {"text": finding.fix.description}, "artifactChanges": changes,
            "properties": {"applicability": finding.fix.applicability, "reliesOn": finding.fix.relies_on}}


def fingerprint(finding, sources, base, seen):
    """Stable across line moves and checkouts: the rule, the file and the
    directive text (the message, without the report base, for a finding on
    no directive), plus which occurrence of that triple it is."""
    lline = sources.logical_line(finding.file, finding.line)
    if lline is not None:
        text = b" ".join(lline.text.split())
    else:
        message = finding.message
        if base.rstrip("/"):
            message = message.replace(base.rstrip("/") + "/", "")
        text = message.encode("utf-8", "replace")
    where = relative_path(finding.file, base) if finding.file else None
    key = b"\0".join([finding.rule.encode("ascii", "replace"), os.fsencode(where or finding.file or ""), text])
    digest = hashlib.sha256(key).hexdigest()
    seen[digest] = seen.get(digest, 0) + 1
    return "%s:%d" % (digest, seen[digest])


def result(finding, rule_index, sources, base, seen):
    r = OrderedDict()
    r["ruleId"] = finding.rule
    if finding.rule in rule_index:
        r["ruleIndex"] = rule_index[finding.rule]
    r["level"] = LEVELS.get(finding.severity, "warning")
    r["message"] = {"text": finding.message}
    if finding.file:
        r["locations"] = [{"physicalLocation": physical_location(sources, base, finding.file, finding.line,
                                                                 finding.column)}]
    related = []
    for i, rel in enumerate(finding.related):
        if not rel.get("file"):
            continue
        loc = {"id": i + 1,
               "physicalLocation": physical_location(sources, base, rel["file"], rel.get("line"))}
        if rel.get("message"):
            loc["message"] = {"text": rel["message"]}
        related.append(loc)
    if related:
        r["relatedLocations"] = related
    r["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding, sources, base, seen)}
    if finding.fix is not None and finding.fix.edits:
        fix = sarif_fix(finding, sources, base)
        if fix is not None:
            r["fixes"] = [fix]
    props = {"evidence": finding.evidence}
    if finding.predicts:
        props["predicts"] = finding.predicts
    if finding.fix is not None:
        props["fix"] = finding.fix.to_dict()
    r["properties"] = props
    return r


def sarif_log(findings, project, base):
    from cgidlint.report import context_dict
    from cgidlint.rules import registry
    rules = list(registry().values())
    rule_index = {rule.code: i for i, rule in enumerate(rules)}
    sources = Sources(project)
    seen = {}
    run = OrderedDict()
    run["tool"] = {"driver": {"name": "cgidlint", "version": __version__, "semanticVersion": __version__,
                              "informationUri": INFORMATION_URI,
                              "rules": [rule_descriptor(rule) for rule in rules]}}
    run["originalUriBaseIds"] = {SRCROOT: {"uri": "file://" + path_uri(base.rstrip("/") + "/")}}
    run["invocations"] = [{"executionSuccessful": True}]
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = [result(f, rule_index, sources, base, seen) for f in findings]
    if project is not None:
        run["properties"] = {"cgidlint": context_dict(project)}
    return OrderedDict([("$schema", SARIF_SCHEMA), ("version", SARIF_VERSION), ("runs", [run])])


def to_sarif(findings, project, base):
    return replace_surrogates(json.dumps(sarif_log(findings, project, base), indent=2, ensure_ascii=False))
