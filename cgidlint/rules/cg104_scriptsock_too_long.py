"""CG104 scriptsock-too-long."""

import os

from cgidlint.paths.runtime import SOCKET_PATH_KEEP, socket_path_with_pid, truncated_socket_path
from cgidlint.paths.server import CHROOTDIR
from cgidlint.rules.base import Rule


class ScriptSockTooLongRule(Rule):
    """
    ## What it does
    Checks that the effective socket path plus `.<pid>` (up to 7 digits)
    fits `sun_path` (108 bytes with the NUL on Linux).

    ## Why is this bad?
    httpd keeps only the first 107 bytes, dropping the `.<pid>`.  The daemon,
    children and cleanup all use the cut name, so the cut alone does not
    break CGI; it does when the cut lands in a directory that is missing or
    not shared with the jail (error), and two servers with the same long
    path would collide on one socket (warning).

    ## httpd says
    `AH01254: The length of the ScriptSock path exceeds maximum, truncating to ...`

    ## Example
    A 101-byte socket path (109 with `.<pid>`), in a directory that is shared
    with the jail (the host's `/srv/hosting` links into it):
    ```sh
    mkdir -p /srv /var/chroot/srv/hosting/customers/example-customer-with-a-rather-long-name/run/httpd/sockets/cgid-daemon
    ln -s /var/chroot/srv/hosting /srv/hosting
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
    ScriptSock /srv/hosting/customers/example-customer-with-a-rather-long-name/run/httpd/sockets/cgid-daemon/cgisock
    ScriptAlias /cgi-bin/ /var/www/cgi-bin/
    ```
    The cut only shortens `.<pid>`, so this is a warning; it is an error
    when the cut path's directory is missing or not shared with the jail.

    Use instead (a short path, also shared with the jail):
    ```sh
    mkdir -p /var/chroot/run/httpd /run
    ln -s /var/chroot/run/httpd /run/httpd
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
    ScriptSock /run/httpd/cgisock
    ScriptAlias /cgi-bin/ /var/www/cgi-bin/
    ```

    ## Fix
    None automatic.
    """

    code = "CG104"
    name = "scriptsock-too-long"
    severity = "warning"
    summary = "socket path plus .<pid> does not fit sun_path"
    predicts = "AH01254: The length of the ScriptSock path exceeds maximum, truncating to <first 107 bytes>"

    def check(self, ctx):
        cgid = ctx.cgid
        if not cgid.active or cgid.anchor is None:
            return
        full = socket_path_with_pid(cgid.path)
        cut = truncated_socket_path(full)
        if cut == full:
            return
        cut_dir = os.path.dirname(cut) or "/"
        severity = "warning"
        detail = "daemon, children and cleanup all use the truncated name, so CGI still works"
        views = ctx.views
        if views.on_disk:
            if views.mode == CHROOTDIR:
                same, h, j = views.same_dir(cut_dir)
                if not same:
                    severity, detail = "error", "the truncated path's directory %s is not shared with the jail" % cut_dir
            elif not views.bind_view(cut_dir).exists:
                severity, detail = "error", "the truncated path's directory %s does not exist" % cut_dir
        msg = "socket path %s (%d bytes with a 7-digit pid) exceeds %d bytes: httpd uses %r; %s" % (
            full, len(os.fsencode(full)), SOCKET_PATH_KEEP, cut, detail)
        yield self.finding(ctx, cgid.anchor, msg, severity=severity,
                           evidence="filesystem" if views.on_disk else "config-only")


RULE = ScriptSockTooLongRule
