"""CG902 unused-suppression."""

from cgidlint.suppress import UNUSED, MetaRule


class UnusedSuppressionRule(MetaRule):
    """
    ## What it does
    Finds suppressions that silence nothing: a `# cgidlint: disable=CODE`
    whose directive has no `CODE` finding, a `disable=` comment with no
    directive directly below it (a blank line or the end of the file comes
    first), or a `# cgidlint: disable-file=CODE` in a file without `CODE`
    findings.  Like ruff's RUF100.

    Only codes that were checked count: a suppression of a rule that did
    not run (left out by `--select`/`--ignore`, or the CG1xx rules after a
    syntax error) is not reported, and neither is one above a directive in
    a false `<IfDefine>`/`<IfModule>` branch (it may be needed under other
    `-D` flags).

    ## Why is this bad?
    A stale suppression hides the next real problem on that line: when the
    configuration changes back, the finding it was written for (or a new
    one with the same code) is silently swallowed.  And a suppression
    separated from its directive by a blank line never worked at all.

    ## httpd says
    Nothing: to httpd these are ordinary comments.

    ## Example
    The variable was replaced by the name itself; the suppression stayed:
    ```apache
    ServerRoot /etc/httpd
    # cgidlint: disable=CG003 -- WWW_SERVER_NAME comes from Environment= in httpd.service
    ServerName www.example.com
    ```

    Use instead:
    ```apache
    ServerRoot /etc/httpd
    ServerName www.example.com
    ```
    A suppression separated from its directive by a blank line is
    reported the same way: move it directly above the directive.

    ## Fix
    None automatic: delete the comment, or move it directly above the
    directive.  `--ignore CG902` turns this rule off.
    """

    code = UNUSED
    name = "unused-suppression"
    summary = "a # cgidlint: suppression that silences no finding"


RULE = UnusedSuppressionRule
