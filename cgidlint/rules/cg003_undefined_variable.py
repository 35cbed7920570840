"""CG003 undefined-variable."""

from cgidlint.rules.base import Rule


class UndefinedVariableRule(Rule):
    """
    ## What it does
    Reports `${NAME}` that no `Define` (before it, in file order) and no
    environment variable sets.  The environment is cgidlint's own plus, for
    Debian layouts, the `envvars` file next to `apache2.conf` (what
    apache2ctl sources).  `${map:key}` (RewriteMap) is not reported, as
    httpd does not report it.

    ## Why is this bad?
    httpd keeps the literal text `${NAME}`: a path like
    `${APACHE_RUN_DIR}/cgisock` silently becomes a relative path under the
    runtime directory, which is a different directory than intended.

    ## httpd says
    `AH00111: Config variable ${NAME} is not defined` (a warning; `-t` passes).

    ## Example
    ```apache
    ScriptSock ${RUN_DIR}/cgisock
    ```

    Use instead:
    ```apache
    Define RUN_DIR /run/httpd
    ScriptSock ${RUN_DIR}/cgisock
    ```

    ## Fix
    None automatic.
    """

    code = "CG003"
    name = "undefined-variable"
    severity = "warning"
    summary = "${VAR} with no Define and no environment value"

    def check(self, ctx):
        seen = set()
        for w in ctx.project.config.warnings:
            if w.code != self.code:
                continue
            key = (w.file, w.line, w.message)
            if key in seen:
                continue
            seen.add(key)
            yield self.finding(ctx, (w.file, w.line, w.column), w.message + ": httpd uses the literal text",
                               predicts="AH00111: " + w.message, evidence="filesystem")


RULE = UndefinedVariableRule
