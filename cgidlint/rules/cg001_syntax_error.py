"""CG001 syntax-error."""

from cgidlint.rules.base import Rule


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports what httpd's own configuration reader rejects, with the line
    httpd names: unclosed or mismatched sections, unknown directives, wrong
    argument counts (httpd has no trailing comments, so `ServerAdmin a@x # me`
    is two arguments), directives outside their allowed context, bad
    section arguments.  The engine reproduces httpd's reader and its walk
    (verified against `apache2 -t` on 98 conformance cases).

    ## Why is this bad?
    `httpd -t` fails and the server does not start (or reload).  httpd stops
    at the first error; cgidlint reports every walk-phase error it finds, the
    first being the one httpd prints.

    ## httpd says
    `AH00526: Syntax error on line N of FILE:` followed by the reason, or
    `apache2: Syntax error on line N of FILE: ...` for errors while reading.

    ## Example
    ```apache
    ServerAdmin admin@example.com # contact
    ```

    Use instead:
    ```apache
    # contact
    ServerAdmin admin@example.com
    ```

    ## Fix
    None automatic: the right edit depends on intent.
    """

    code = "CG001"
    name = "syntax-error"
    severity = "error"
    summary = "httpd's reader rejects the configuration"

    def check(self, ctx):
        project = ctx.project
        for e in project.config.errors + project.walk_errors:
            if e.code != self.code:
                continue
            if e.file is None:
                continue
            yield self.finding(ctx, (e.file, e.line, e.column), e.message, severity=e.severity,
                               predicts=e.httpd_output(), evidence="filesystem")
        # NUL bytes: httpd silently drops the rest of the line.
        for src in project.config.files:
            if not src.has_nul:
                continue    # most files: no need to build their line records
            for l in src.lines:
                if l.has_nul:
                    yield self.finding(ctx, (src.path, l.line, l.column),
                                       "NUL byte: httpd ignores the rest of this line", severity="warning",
                                       predicts="", evidence="filesystem")


RULE = SyntaxErrorRule
