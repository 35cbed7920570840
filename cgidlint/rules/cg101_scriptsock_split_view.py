"""CG101 scriptsock-split-view."""

import os
import re
import shlex

from cgidlint.findings import Edit, Fix
from cgidlint.paths.jail import writable_by_others
from cgidlint.paths.server import CHROOTDIR
from cgidlint.rules.base import Rule

PREDICTS = ("(2)No such file or directory: ... AH01257: unable to connect to cgi daemon after multiple tries "
            "(after ~32 s of retries), or AH02833: ScriptSock <path> does not exist once the server has run 60 s")


def _mount_points_under(jail_host):
    """Mount points inside the jail: candidates for directories shared with the host."""
    out = []
    prefix = jail_host.rstrip("/") + "/"
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 4:
                    mp = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), parts[4])
                    mp = os.fsdecode(mp)
                    if mp.startswith(prefix):
                        out.append("/" + mp[len(prefix):])
    except (IOError, OSError):
        pass
    return out


def shared_candidates(ctx):
    """Directories (server-view paths) that are the same directory in both
    views and safe for a socket, best first."""
    cgid = ctx.cgid
    cands = [cgid.runtime_dir] + list(ctx.shared_dirs) + _mount_points_under(ctx.views.jail_host or "/")
    user = ctx.user
    allowed = {0} | ({user.uid} if user else set())
    seen = set()
    for c in cands:
        c = os.path.normpath(c)
        if c in seen:
            continue
        seen.add(c)
        same, h, j = ctx.views.same_dir(c)
        if same and not writable_by_others(h.host_path, allowed):
            yield c


def edit_scriptsock(ctx, value):
    """The config edit that sets ScriptSock to ``value``."""
    cgid = ctx.cgid
    text = "ScriptSock %s" % value
    if cgid.directive is not None:
        d = cgid.directive
        return Edit(ctx.display_path(d.file), d.line, text, "replace", original=d.text.decode("latin-1"))
    where, how = cgid.insertion_point()
    if where is None:
        return None
    return Edit(ctx.display_path(where.file), where.line, text, "insert_after")


def bind_mount_commands(host_dir, jail_dir):
    """Shell commands that bind-mount ``host_dir`` onto ``jail_dir`` now and
    at every boot; safe to run twice (the fstab line is added once)."""
    # fstab fields escape blanks as octal; the shell words are quoted.
    line = "%s %s none bind 0 0" % tuple(p.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
                                         for p in (host_dir, jail_dir))
    q = shlex.quote
    return ["mkdir -p %s" % q(jail_dir),
            "mount --bind %s %s" % (q(host_dir), q(jail_dir)),
            # printf, not echo: dash's echo would turn the \040 back into a blank
            "grep -qxF %s /etc/fstab || printf '%%s\\n' %s >> /etc/fstab" % (q(line), q(line))]


def filesystem_fix(ctx, sock_dir, h, j):
    """Commands that make ``sock_dir`` one directory in both views."""
    jail_dir = j.host_path
    if h.exists:
        cmds = bind_mount_commands(h.host_path, jail_dir)
        desc = ("bind-mount the host directory %s onto %s so both views reach the same directory "
                "(the /etc/fstab line keeps it across reboots)" % (h.host_path, jail_dir))
        relies = "the bind mount being in place before httpd starts"
    else:
        q = shlex.quote
        cmds = ["mkdir -p %s" % q(jail_dir), "mkdir -p %s" % q(os.path.dirname(h.host_path.rstrip("/"))),
                "ln -s %s %s" % (q(jail_dir), q(h.host_path))]
        desc = ("the host has no %s: create it as a symlink to the jail's %s, so the daemon binds inside "
                "the jail and workers find the socket there (experiment F)" % (sock_dir, jail_dir))
        relies = "the symlink surviving reboots (/run is a tmpfs: recreate it from a tmpfiles.d entry)"
    return Fix(desc, commands=cmds, relies_on=relies, applicability="display-only")


class ScriptSockSplitViewRule(Rule):
    """
    ## What it does
    Under `ChrootDir`, checks that the directory of mod_cgid's effective
    socket path is the same directory (device and inode) in the host view
    and the jail view.  The effective path is `ScriptSock` (default
    `cgisock`) made absolute against `DefaultRuntimeDir`, or `ServerRoot` +
    the build's compiled runtime directory.

    ## Why is this bad?
    The cgid daemon binds `P.<pid>` *before* it chroots (host view); worker
    children connect to the same string *after* their chroot (jail view).
    If the two views reach different directories, no worker ever finds the
    socket and every CGI request fails.  Writing `ScriptSock cgisock` does
    not help by itself: it only works when the runtime directory it lands in
    is shared between the views.

    ## httpd says
    `(2)No such file or directory: ... AH01257: unable to connect to cgi daemon
    after multiple tries` after ~32 s of retries, or
    `AH02833: ScriptSock ... does not exist` once the server has run 60 s.

    ## Example
    The jail is not on this machine, so cgidlint judges from the config and
    what you declare: `/run/httpd` is bind-mounted into the jail at the same
    path, `/var/run/cgid` is not (on the host and in the jail it is two
    different directories).
    ```console
    $ cgidlint --shared-dir /run/httpd /etc/httpd
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

    Use instead (the socket in the shared directory):
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
    `ScriptSock cgisock` is the same fix when the runtime directory is the
    shared one; on its own it fixes nothing.  With the jail on this machine,
    cgidlint checks the directories themselves (same device and inode)
    instead of trusting `--shared-dir`.

    ## Fix
    Chosen from what holds on this host, in order: `ScriptSock cgisock` when
    the runtime directory is shared; a `ScriptSock` in another directory that
    is shared (a bind mount into the jail, or `--shared-dir`); otherwise the
    bind mount (with its /etc/fstab line) or symlink that makes the socket
    directory shared, printed as commands.  Config edits are offered only
    when verified on the filesystem.
    """

    code = "CG101"
    name = "scriptsock-split-view"
    severity = "error"
    summary = "ScriptSock directory differs between the host and jail views under ChrootDir"
    predicts = PREDICTS

    def check(self, ctx):
        cgid = ctx.cgid
        views = ctx.views
        if views.mode != CHROOTDIR or not cgid.serves_cgi or cgid.anchor is None:
            return
        sock_dir = cgid.dir
        jail = views.jail_view
        if not views.on_disk:
            if ctx.is_declared_shared(sock_dir):
                return
            msg = ("config-only verdict (jail %s is not on this machine): the cgid socket %s.<pid> (%s) must be "
                   "in a directory that is the same in the host view and inside the jail; declare it with "
                   "--shared-dir %s if it is bind-mounted into the jail at the same path"
                   % (jail, cgid.path, cgid.describe(), sock_dir))
            fix = Fix("make %s the same directory on the host and in the jail (bind mount), or point ScriptSock "
                      "at a directory that already is" % sock_dir,
                      commands=bind_mount_commands(sock_dir, jail.rstrip("/") + sock_dir),
                      relies_on="unverified: the jail is not on this machine", applicability="display-only")
            yield self.finding(ctx, cgid.anchor, msg, evidence="config-only", fix=fix)
            return
        same, h, j = views.same_dir(sock_dir)
        if same or not h.exists:
            # Missing on the host: the daemon cannot even bind (CG102, whose
            # fix makes the directory exist *and* shared).
            return
        host_state = "%s" % h.host_path if h.exists else "%s (missing)" % h.host_path
        jail_state = "%s" % j.host_path if j.exists else "%s (missing)" % j.host_path
        msg = ("the cgid daemon binds %s.<pid> in the host view (%s) but workers chrooted to %s connect in the "
               "jail view (%s): not the same directory; socket path from %s"
               % (cgid.path, host_state, jail, jail_state, cgid.describe()))
        yield self.finding(ctx, cgid.anchor, msg, evidence="filesystem", fix=self.choose_fix(ctx, h, j),
                           related=[{"file": j.host_path, "message": "jail-side socket directory"}])

    def choose_fix(self, ctx, h, j):
        cgid = ctx.cgid
        candidates = list(shared_candidates(ctx))
        if cgid.directive is not None and cgid.runtime_dir in candidates:
            edit = edit_scriptsock(ctx, "cgisock")
            return Fix("use the runtime directory %s, which is the same directory in both views: "
                       "ScriptSock cgisock" % cgid.runtime_dir, edits=[edit],
                       relies_on="%s staying shared with the jail (%s)" % (cgid.runtime_dir, cgid.runtime_dir_source))
        for c in candidates:
            if c == cgid.dir:
                continue
            value = os.path.join(c, "cgisock")
            edit = edit_scriptsock(ctx, value)
            if edit is None:
                break
            return Fix("put the socket in %s, which is the same directory on the host and in the jail" % c,
                       edits=[edit], relies_on="%s staying shared with the jail (checked: same device and inode)" % c)
        return filesystem_fix(ctx, cgid.dir, h, j)


RULE = ScriptSockSplitViewRule
