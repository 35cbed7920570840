"""CG103 scriptsock-unreachable."""

from cgidlint.findings import Fix
from cgidlint.paths.jail import first_unsearchable
from cgidlint.paths.server import CHROOTDIR, EXTERNAL
from cgidlint.rules.base import Rule


class ScriptSockUnreachableRule(Rule):
    """
    ## What it does
    When the socket directory is the same in both views, checks that the
    worker user (`User`/`Group`, resolved on the host as httpd does before
    chroot) can search every directory on the jail-side path to it.

    ## Why is this bad?
    `connect()` fails with EACCES at once (no retries): every CGI request
    gets a 503.  This is the exact message of the classic report.

    ## httpd says
    `(13)Permission denied: ... AH01257: unable to connect to cgi daemon after multiple tries`

    ## Example
    The socket directory is shared (the host's `/var/run/cgid` links into
    the jail), but `User daemon` cannot search the jail's `/var/run`:
    ```sh
    mkdir -p /var/chroot/var/run/cgid /var/run
    ln -s /var/chroot/var/run/cgid /var/run/cgid
    chmod 0700 /var/chroot/var/run
    ```
    ```apache
    ServerRoot /etc/httpd
    LoadModule mpm_event_module modules/mod_mpm_event.so
    LoadModule unixd_module modules/mod_unixd.so
    LoadModule alias_module modules/mod_alias.so
    LoadModule cgid_module modules/mod_cgid.so
    User daemon
    Group daemon
    ChrootDir /var/chroot
    ScriptSock /var/run/cgid/cgisock
    ScriptAlias /cgi-bin/ /var/www/cgi-bin/
    ```

    Use instead (the same config; let the worker user search the directory):
    ```sh
    chmod o+x /var/chroot/var/run
    ```
    Group search (`chmod g+x`) is enough when the directory's group is
    `Group`.

    ## Fix
    The `chmod` command; never applied automatically.
    """

    code = "CG103"
    name = "scriptsock-unreachable"
    severity = "error"
    summary = "a directory on the jail-side socket path is not searchable by User"
    predicts = "(13)Permission denied: ... AH01257: unable to connect to cgi daemon after multiple tries (HTTP 503)"

    def check(self, ctx):
        cgid = ctx.cgid
        views = ctx.views
        if not cgid.serves_cgi or cgid.anchor is None or not views.on_disk:
            return
        if views.mode == CHROOTDIR:
            same, h, j = views.same_dir(cgid.dir)
            if not same:
                return  # CG101 / CG102
        elif views.mode == EXTERNAL:
            j = views.connect_view(cgid.dir)
            if not j.exists:
                return
        else:
            return
        user = ctx.user
        if user is None:
            return
        blocked = first_unsearchable(j.components, user.uid, user.gid, user.groups)
        if blocked is None:
            return
        host = dict(j.components).get(blocked, blocked)
        msg = ("workers run as %s (uid %s, gid %s, from %s) and cannot search %s on the way to the cgid socket "
               "%s (jail path %s)" % (user.name, user.uid, user.gid, user.source, blocked, cgid.path, host))
        fix = Fix("let the worker user search %s" % host, commands=["chmod o+x %s" % host],
                  relies_on="no MAC policy (SELinux/AppArmor) denying the connect as well",
                  applicability="display-only")
        yield self.finding(ctx, cgid.anchor, msg, evidence="filesystem", fix=fix)


RULE = ScriptSockUnreachableRule
