"""CG903 invalid-suppression."""

from cgidlint.suppress import INVALID, MetaRule


class InvalidSuppressionRule(MetaRule):
    """
    ## What it does
    Finds `# cgidlint:` comments that cgidlint cannot read: an unknown
    keyword (`disabel=`), a missing `=` (`disable CG101`), a missing `:`
    after `cgidlint`, no rule code, or a code that is not an exact rule
    code (`CG199`, the prefix `CG1`, `all`, or one of CG901-CG903, which
    only `--ignore` can turn off).

    The syntax is `# cgidlint: disable=CODE[,CODE...] -- reason` for the
    directive directly below the comment block, and
    `# cgidlint: disable-file=CODE[,CODE...] -- reason` for the whole
    file.  Keyword and codes are case-insensitive; spaces are allowed
    around `:`, `=`, `,` and `--`.  The valid codes of a comment still
    apply when another code in it is invalid.

    ## Why is this bad?
    A suppression with a typo silences nothing, so the comment says one
    thing and the linter does another; an unknown code usually means a
    mistyped one, leaving the intended finding unsilenced.

    ## httpd says
    Nothing: to httpd these are ordinary comments.

    ## Example
    ```console
    $ cgidlint --ignore CG003 /etc/httpd
    ```
    ```apache
    ServerRoot /etc/httpd
    # cgidlint: disable-file=CG0 -- the variables come from Environment= in httpd.service
    ServerName ${WWW_SERVER_NAME}
    ServerAdmin ${WWW_SERVER_ADMIN}
    ```
    (`--ignore CG003` keeps the example to this rule; without it both
    `${...}` are reported as CG003 too: `CG0` is a prefix, which
    suppressions do not take.)

    Use instead:
    ```console
    $ cgidlint /etc/httpd
    ```
    ```apache
    ServerRoot /etc/httpd
    # cgidlint: disable-file=CG003 -- the variables come from Environment= in httpd.service
    ServerName ${WWW_SERVER_NAME}
    ServerAdmin ${WWW_SERVER_ADMIN}
    ```

    ## Fix
    None automatic: correct the comment.  `--ignore CG903` turns this
    rule off.
    """

    code = INVALID
    name = "invalid-suppression"
    summary = "a malformed # cgidlint: comment or an unknown rule code"


RULE = InvalidSuppressionRule
