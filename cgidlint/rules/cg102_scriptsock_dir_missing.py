"""CG102 scriptsock-dir-missing."""

from cgidlint.findings import Fix
from cgidlint.paths.server import CHROOTDIR, EXTERNAL
from cgidlint.rules.base import Rule


class ScriptSockDirMissingRule(Rule):
    """
    ## What it does
    Checks that the directory the cgid daemon binds its socket in exists:
    in the host view under `ChrootDir` (the daemon binds before it chroots),
    in the jail under an external chroot (the whole server sees only the
    jail).

    ## Why is this bad?
    The daemon cannot create its socket and exits; the parent logs that the
    daemon failed, and every CGI request then fails.

    ## httpd says
    `AH01243: Couldn't bind unix domain socket P.<pid>`, then
    `AH01238: cgid daemon failed to initialize`.

    ## Example
    The jail has `/var/run/cgid`, the host has none:
    ```sh
    mkdir -p /var/chroot/var/run/cgid /var/run
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

    Use instead (the same config; create the host directory as a link into
    the jail, so both views reach one directory):
    ```sh
    ln -s /var/chroot/var/run/cgid /var/run/cgid
    ```
    Creating a plain `/var/run/cgid` on the host would only trade this for
    CG101 (two directories); a bind mount of a host directory onto the
    jail's works as well.  Under an external chroot (`--root`), create the
    directory inside the jail.

    ## Fix
    The `mkdir` command; never applied automatically.
    """

    code = "CG102"
    name = "scriptsock-dir-missing"
    severity = "error"
    summary = "the directory the cgid daemon binds its socket in does not exist"
    predicts = "AH01243: Couldn't bind unix domain socket <path>.<pid>; AH01238: cgid daemon failed to initialize"

    def check(self, ctx):
        cgid = ctx.cgid
        views = ctx.views
        if not cgid.active or cgid.anchor is None or views.mode not in (CHROOTDIR, EXTERNAL) or not views.on_disk:
            return
        res = views.bind_view(cgid.dir)
        if res.exists:
            return
        where = "on the host (the daemon binds before chroot)" if views.mode == CHROOTDIR else \
            "inside the jail %s (the whole server runs there)" % views.read_root
        msg = "the cgid socket directory %s does not exist %s: missing from %s; socket path from %s" % (
            cgid.dir, where, res.missing_from or res.host_path, cgid.describe())
        if views.mode == CHROOTDIR:
            # Creating the host directory alone would turn this into CG101
            # (two directories); create it shared with the jail instead.
            from cgidlint.rules.cg101_scriptsock_split_view import filesystem_fix
            fix = filesystem_fix(ctx, cgid.dir, res, views.jail(cgid.dir))
        else:
            fix = Fix("create %s (root-owned, mode 0755)" % res.host_path,
                      commands=["install -d -o root -g root -m 0755 %s" % res.host_path],
                      relies_on="the directory being recreated at boot if it lives on a tmpfs such as /run",
                      applicability="display-only")
        yield self.finding(ctx, cgid.anchor, msg, evidence="filesystem", fix=fix)


RULE = ScriptSockDirMissingRule
