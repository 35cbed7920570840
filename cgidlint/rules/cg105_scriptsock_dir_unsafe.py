"""CG105 scriptsock-dir-unsafe."""

from cgidlint.findings import Fix
from cgidlint.paths.jail import writable_by_others
from cgidlint.rules.base import Rule


class ScriptSockDirUnsafeRule(Rule):
    """
    ## What it does
    Checks that no user other than root and `User` can write the directory
    the cgid socket lives in (on the side where the daemon binds it).

    ## Why is this bad?
    The mod_cgid manual requires it: whoever can write there can replace
    the socket and have CGI requests (with their headers and bodies) sent to
    a process of their own.

    ## httpd says
    Nothing.

    ## Example
    A shared socket directory (the host's `/var/run/cgid` links into the
    jail) that every user can write, like `ScriptSock /tmp/cgisock` would be:
    ```sh
    mkdir -p -m 0777 /var/chroot/var/run/cgid
    mkdir -p /var/run
    ln -s /var/chroot/var/run/cgid /var/run/cgid
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

    Use instead (the same config, the directory root-owned and 0755):
    ```sh
    chown root:root /var/chroot/var/run/cgid
    chmod 0755 /var/chroot/var/run/cgid
    ```

    ## Fix
    The `chown`/`chmod` commands; never applied automatically.
    """

    code = "CG105"
    name = "scriptsock-dir-unsafe"
    severity = "warning"
    summary = "the socket directory is writable by other users"
    predicts = ""

    def check(self, ctx):
        cgid = ctx.cgid
        views = ctx.views
        if not cgid.active or cgid.anchor is None or not views.on_disk:
            return
        res = views.bind_view(cgid.dir)
        if not res.exists:
            return
        user = ctx.user
        allowed = {0} | ({user.uid} if user else set())
        why = writable_by_others(res.host_path, allowed)
        if not why:
            return
        fix = Fix("make %s writable by root only" % res.host_path,
                  commands=["chown root:root %s" % res.host_path, "chmod 0755 %s" % res.host_path],
                  relies_on="nothing else needing to write there", applicability="display-only")
        yield self.finding(ctx, cgid.anchor, "the cgid socket directory %s is unsafe: %s" % (res.host_path, why),
                           evidence="filesystem", fix=fix)


RULE = ScriptSockDirUnsafeRule
