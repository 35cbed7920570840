"""CG002 include-missing."""

from cgidlint.rules.base import Rule


class IncludeMissingRule(Rule):
    """
    ## What it does
    Reports an `Include` whose file, directory or wildcard matches nothing
    (`IncludeOptional` tolerates that), an included file httpd cannot open,
    and include cycles (httpd gives up after 128 nested includes).
    Paths are resolved the way httpd does: relative to `ServerRoot` in
    effect at that point (never to the including file), with httpd's glob
    rules (a leading dot must be explicit; directories are included whole,
    dotfiles included, in `strcmp` order).

    ## Why is this bad?
    `httpd -t` fails; the server does not start.

    ## httpd says
    `Could not open configuration file F: No such file or directory`,
    `Include/IncludeOptional: No matches for the wildcard '*.conf' in 'D', failing`,
    `Exceeded maximum include depth of 128, There appears to be a recursion.`

    ## Example
    ```apache
    Include conf.d/*.conf
    ```
    (with an empty `conf.d/`)

    Use instead:
    ```apache
    IncludeOptional conf.d/*.conf
    ```

    ## Fix
    None automatic.
    """

    code = "CG002"
    name = "include-missing"
    severity = "error"
    summary = "Include of a file or glob that matches nothing, or an include cycle"

    def check(self, ctx):
        for e in ctx.project.config.errors:
            if e.code == self.code:
                yield self.finding(ctx, (e.file, e.line, e.column), e.message, predicts=e.httpd_output(),
                                   evidence="filesystem")


RULE = IncludeMissingRule
