"""Reporters: findings to text for people, and JSON, SARIF or GitHub
workflow commands for programs.

``render(fmt, ...)`` is the entry point; the formats live in
:mod:`cgidlint.report.text`, :mod:`cgidlint.report.sarif` and
:mod:`cgidlint.report.github` (imported when used).
"""

import json
import os

from cgidlint.findings import SEVERITY_RANK
from cgidlint.report.common import escape_surrogates, name_stdin, report_base, summary  # noqa: F401 (re-exported)
from cgidlint.report.text import to_text, use_color  # noqa: F401 (re-exported)

JSON_VERSION = 1
FORMATS = ("text", "json", "sarif", "github")


def to_json(findings, project, baselined=0):
    doc = {"version": JSON_VERSION, "findings": [f.to_dict() for f in findings],
           "summary": summary(findings, project, baselined)}
    if project is not None:
        doc["context"] = context_dict(project)
    return escape_surrogates(json.dumps(doc, indent=2, ensure_ascii=False))


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


def default_format(environ):
    """``github`` inside GitHub Actions, else ``text``."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def render(fmt, findings, project, color=False, environ=None, baselined=0):
    # type: (str, list, object, bool, object, int) -> str
    """The report in format ``fmt`` (one of FORMATS); ``baselined`` counts
    the findings a baseline hid."""
    if fmt == "text":
        return to_text(findings, project, color=color)
    if fmt == "json":
        return to_json(findings, project, baselined)
    base = report_base(os.environ if environ is None else environ)
    if fmt == "sarif":
        from cgidlint.report.sarif import to_sarif
        return to_sarif(findings, project, base)
    if fmt == "github":
        from cgidlint.report.github import to_github
        return to_github(findings, project, base)
    raise ValueError("unknown report format %r (one of %s)" % (fmt, ", ".join(FORMATS)))


def exceeds(findings, fail_on):
    if fail_on == "never":
        return False
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(f.severity, 0) >= threshold for f in findings)
