"""CG901 suppression-without-reason."""

from cgidlint.suppress import WITHOUT_REASON, MetaRule


class SuppressionWithoutReasonRule(MetaRule):
    """
    ## What it does
    Finds `# cgidlint: disable=...` and `# cgidlint: disable-file=...`
    comments that give no reason after ` -- `.

    A suppression without a reason does **not** suppress anything: the
    findings it names are still reported, next to this one.  That is what
    makes the reason required rather than recommended.

    ## Why is this bad?
    A silenced check is a decision someone made about this host (the socket
    directory is bind-mounted by a systemd unit, the world-writable
    directory is a private tmpfs, ...).  Without the reason, the next person
    cannot tell whether it still holds, and a CI gate silently stops gating.

    ## httpd says
    Nothing: to httpd these are ordinary comments.

    ## Example
    ```console
    $ cgidlint --ignore CG003 /etc/httpd
    ```
    ```apache
    ServerRoot /etc/httpd
    # cgidlint: disable=CG003
    ServerName ${WWW_SERVER_NAME}
    ```
    (`--ignore CG003` keeps the example to this rule: without it CG003 is
    reported too, because the suppression silences nothing.)

    Use instead:
    ```console
    $ cgidlint /etc/httpd
    ```
    ```apache
    ServerRoot /etc/httpd
    # cgidlint: disable=CG003 -- WWW_SERVER_NAME comes from Environment= in httpd.service
    ServerName ${WWW_SERVER_NAME}
    ```

    ## Fix
    None automatic: write the reason.  Suppression findings cannot be
    suppressed in the file; `--ignore CG901` turns this rule off.
    """

    code = WITHOUT_REASON
    name = "suppression-without-reason"
    summary = "a # cgidlint: suppression without a reason (it silences nothing)"


RULE = SuppressionWithoutReasonRule
