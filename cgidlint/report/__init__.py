"""Reporters: findings to text for people and JSON for programs."""

import json

from cgidlint.findings import SEVERITY_RANK

JSON_VERSION = 1


def summary(findings, project):
    return {"errors": sum(1 for f in findings if f.severity == "error"),
            "warnings": sum(1 for f in findings if f.severity == "warning"),
            "info": sum(1 for f in findings if f.severity == "info"),
            "files": len(project.config.files) if project is not None else 0}


def to_json(findings, project):
    doc = {"version": JSON_VERSION, "findings": [f.to_dict() for f in findings],
           "summary": summary(findings, project)}
    if project is not None:
        doc["context"] = context_dict(project)
    return json.dumps(doc, indent=2, ensure_ascii=False)


def context_dict(project):
    ctx = project.lint_context
    if ctx is None:
        from cgidlint.rules.context import LintContext
        ctx = LintContext(project)
    views, cgid = ctx.views, ctx.cgid
    return {"main_config": project.main_host_path, "server_root": project.config.server_root,
            "read_root": project.fs.read_root, "build": project.build, "build_reason": project.build_reason,
            "chroot_mode": views.mode, "jail": views.jail_host, "mpm": cgid.mpm,
            "cgid_loaded": cgid.loaded, "socket_path": cgid.path, "socket_path_source": cgid.describe()}


def to_text(findings, project, color=False):
    def paint(s, code):
        return "\033[%sm%s\033[0m" % (code, s) if color else s

    colors = {"error": "31;1", "warning": "33;1", "info": "36"}
    out = []
    for f in findings:
        loc = "%s:%s:%s" % (f.file, f.line, f.column)
        out.append("%s: %s %s [%s] %s" % (paint(loc, "1"), paint(f.severity, colors.get(f.severity, "0")),
                                        f.rule, f.name, f.message))
        if f.predicts:
            out.append("    predicts: %s" % f.predicts.replace("\n", "\n              "))
        if f.fix is not None:
            out.append("    fix: %s" % f.fix.description)
            for e in f.fix.edits:
                verb = "replace line %d with" % e.line if e.action == "replace" else "insert after line %d:" % e.line
                out.append("      %s: %s %s" % (e.file, verb, e.replace_with))
            for c in f.fix.commands:
                out.append("      $ %s" % c)
            if f.fix.relies_on:
                out.append("      relies on: %s" % f.fix.relies_on)
        if f.evidence == "config-only":
            out.append("    evidence: config-only (not checked on the filesystem)")
    s = summary(findings, project)
    out.append("%d error(s), %d warning(s) in %d file(s)" % (s["errors"], s["warnings"], s["files"]))
    return "\n".join(out)


def exceeds(findings, fail_on):
    if fail_on == "never":
        return False
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(f.severity, 0) >= threshold for f in findings)
