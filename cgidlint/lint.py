"""Run the rules over an evaluated project and collect findings."""

from typing import Iterable, List, Optional

from cgidlint.engine import Options, Project, load
from cgidlint.findings import Finding
from cgidlint.rules import code_selected, registry
from cgidlint.rules.context import LintContext
from cgidlint.suppress import apply_suppressions, split_rules

_CGID_RULES = ("CG101", "CG102", "CG103", "CG104", "CG105")


def selected_rules(select=None, ignore=None):
    return [rule() for code, rule in registry().items() if code_selected(code, select, ignore)]


def run_rules(project, select=None, ignore=None, shared_dirs=()):
    # type: (Project, Optional[Iterable[str]], Optional[Iterable[str]], Iterable[str]) -> List[Finding]
    ctx = LintContext(project, shared_dirs=shared_dirs)
    project.lint_context = ctx
    findings = []
    fatal = bool(project.config.errors)
    checks, meta = split_rules(selected_rules(select, ignore))
    ran = set()
    for rule in checks:
        # After a read error the configuration is partial: httpd would not
        # start, so runtime predictions about it would be guesses.
        if fatal and rule.code in _CGID_RULES:
            continue
        ran.add(rule.code)
        findings.extend(rule.check(ctx))
    # Second phase: # cgidlint: comments silence findings (lint and fix
    # alike) and are themselves reported by the selected CG9xx rules.
    findings = apply_suppressions(ctx, findings, ran, meta)
    findings.sort(key=Finding.sort_key)
    return findings


def lint_path(path, options=None, select=None, ignore=None):
    # type: (str, Optional[Options], Optional[Iterable[str]], Optional[Iterable[str]]) -> (Project, List[Finding])
    options = options or Options()
    project = load(path, options)
    return project, run_rules(project, select, ignore, options.shared_dirs)
