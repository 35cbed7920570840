"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice``
line per finding, shown as annotations on the pull request."""

from cgidlint.report.common import Sources, relative_path, summary

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(s):
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s):
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(finding, base, sources):
    props = []
    if finding.file:
        props.append(("file", relative_path(finding.file, base) or finding.file))
        if finding.line:
            first, column, last = sources.span(finding.file, finding.line, finding.column)
            props.append(("line", str(first)))
            if last != first:
                props.append(("endLine", str(last)))
            if column:
                props.append(("col", str(column)))
    props.append(("title", "%s %s" % (finding.rule, finding.name)))
    message = finding.message
    if finding.fix is not None:
        message += "\nfix: %s" % finding.fix.description
    return "::%s %s::%s" % (COMMANDS.get(finding.severity, "notice"),
                            ",".join("%s=%s" % (k, escape_property(v)) for k, v in props), escape_data(message))


def to_github(findings, project, base):
    s = summary(findings, project)
    sources = Sources(project)
    lines = [annotation(f, base, sources) for f in findings]
    lines.append("cgidlint: %d error(s), %d warning(s) in %d file(s)" % (s["errors"], s["warnings"], s["files"]))
    return "\n".join(lines)
