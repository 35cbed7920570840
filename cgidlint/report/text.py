"""The report for people: one finding per line, colour on a terminal."""

from cgidlint.report.common import summary

SEVERITY_COLORS = {"error": "31;1", "warning": "33;1", "info": "36"}


def use_color(choice, environ, isatty, to_file=False):
    """Whether the text report is coloured.

    ``--color always|never`` wins; a report written to a file (``-o``) is
    otherwise plain (FORCE_COLOR is set for logs, e.g. in CI, not for report
    files); otherwise FORCE_COLOR (set, not "0") turns colour on, NO_COLOR
    (set, non-empty) turns it off, and colour follows whether stdout is a
    terminal.
    """
    if choice == "always":
        return True
    if choice == "never" or to_file:
        return False
    force = environ.get("FORCE_COLOR")
    if force and force != "0":
        return True
    if environ.get("NO_COLOR"):
        return False
    return bool(isatty)


def to_text(findings, project, color=False):
    def paint(s, code):
        return "\033[%sm%s\033[0m" % (code, s) if color else s

    out = []
    for f in findings:
        loc = "%s:%s:%s" % (f.file, f.line, f.column)
        out.append("%s: %s %s [%s] %s" % (paint(loc, "1"), paint(f.severity, SEVERITY_COLORS.get(f.severity, "0")),
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
