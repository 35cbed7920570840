"""What httpd's error-log lines mean under chroot, and which rules predict them.

Pure data and small functions (no heavy imports): ``cgidlint explain AH01257``
and ``cgidlint diagnose`` read it.  Message formats are those of httpd 2.4.x
(checked against the 2.4.x branch and tag 2.4.6) and of the lines captured
from real runs in tests/data/logs/; the meanings follow
../shared/design/chroot-model.md and directive-views.md, the rule codes
../shared/design/rules.md.
"""

import errno as _errno
import re
import textwrap
from collections import OrderedDict

# Rules of the catalogue (rules.md) that log lines point at but that are not
# implemented yet; implemented rules are named by the registry.
CATALOGUE_NAMES = {
    "CG201": "mutex-flock-split",
    "CG202": "socache-dbm-split",
    "CG203": "md-store-split",
    "CG301": "jail-path-missing",
    "CG302": "cgi-interpreter-missing",
    "CG303": "proxy-socket-missing",
    "CG304": "jail-runtime-library",
    "CG305": "jail-device-missing",
}

# When in a server's life a line is written: diagnose lists earlier stages
# first, because a startup failure usually explains the request failures
# that follow it.
STAGES = ("startup", "child start", "request", "shutdown")


class Cause(object):
    """One likely cause: what it is, the rules that detect it (empty when it
    is outside what cgidlint checks) and how to confirm it by hand.
    ``revealed_by``: log IDs httpd always writes at startup when this is the
    cause, so a log that covers the start without them rules it out."""

    __slots__ = ("text", "rules", "check", "revealed_by")

    def __init__(self, text, rules=(), check="", revealed_by=()):
        self.text = text
        self.rules = tuple(rules)
        self.check = check
        self.revealed_by = tuple(revealed_by)


class Reading(object):
    """What a line means for one variant (an errno, or a signal number for
    AH00052); ``variant`` None is the reading for any other value.
    ``explained_by``: log IDs that, when present earlier, are the root cause."""

    __slots__ = ("variant", "label", "meaning", "causes", "explained_by", "fix")

    def __init__(self, variant, meaning, causes, label="", explained_by=(), fix=None):
        self.variant = variant
        self.label = label
        self.meaning = meaning
        self.causes = list(causes)
        self.explained_by = tuple(explained_by)
        self.fix = fix     # when this variant is fixed otherwise than the entry's fix

    @property
    def rules(self):
        return unique(r for c in self.causes for r in c.rules)


class LogCode(object):
    """One known log line.

    ``key`` is the AH number (``AH01257``) or, for lines without one, a short
    name (``libgcc_s``) with ``text`` the pattern that finds it.  ``variant``
    says what selects the reading: ``"errno"`` (the ``(N)Text:`` prefix) or
    the name of a ``detail`` group.  ``failure`` is False for lines that are
    context (retries, relayed script output), not a failure by themselves.
    ``wraps`` marks a line that relays another message (AH01215 relays a
    script's stderr): when the relayed text is itself known, that wins.
    """

    __slots__ = ("key", "title", "source", "level", "stage", "formats", "readings", "fix", "failure", "detail",
                 "text", "aliases", "variant", "wraps", "see_also")

    def __init__(self, key, title, source, level, stage, formats, readings, fix, failure=True, detail=None,
                 text=None, aliases=(), variant="errno", wraps=False, see_also=()):
        assert stage in STAGES, stage
        self.key = key
        self.title = title
        self.source = source
        self.level = level
        self.stage = stage
        self.formats = list(formats)
        self.readings = OrderedDict((r.variant, r) for r in readings)
        self.fix = fix
        self.failure = failure
        self.detail = re.compile(detail) if detail else None
        self.text = re.compile(text) if text else None
        self.aliases = tuple(aliases)
        self.variant = variant
        self.wraps = wraps
        self.see_also = tuple(see_also)

    def reading(self, value):
        """The reading for an errno (or signal) value; the default one when
        the value is absent or has no reading of its own."""
        r = self.readings.get(value)
        if r is None:
            r = self.readings.get(None)
        if r is None:
            r = next(iter(self.readings.values()))
        return r

    def reading_without_errno(self):
        """For a line that carries no errno (an ErrorLogFormat without %E):
        the causes of every errno, in order."""
        readings = list(self.readings.values())
        if len(readings) == 1:
            return readings[0]
        causes, rule_sets = [], set()
        for cause in unique(c for r in readings for c in r.causes):
            # one cause per rule set: the first (most likely) wording of it
            if cause.rules and cause.rules in rule_sets:
                continue
            rule_sets.add(cause.rules)
            causes.append(cause)
        return Reading(None, "The line carries no errno (an ErrorLogFormat without %E?): the causes of every errno "
                             "are listed. " + readings[0].meaning, causes,
                       explained_by=unique(k for r in readings for k in r.explained_by))

    @property
    def rules(self):
        return unique(r for rd in self.readings.values() for r in rd.rules)

    def details(self, text):
        """Named values the message carries (socket path, script, signal)."""
        if self.detail is None:
            return {}
        m = self.detail.search(text)
        if m is None:
            return {}
        # alternatives for older builds name their group <name>_old
        return {k[:-4] if k.endswith("_old") else k: v for k, v in m.groupdict().items() if v is not None}


def unique(items):
    seen = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen


def errno_label(n):
    """``(2) ENOENT`` for an errno number (httpd logs the number and the text)."""
    if n is None:
        return ""
    name = _errno.errorcode.get(n)
    return "(%d) %s" % (n, name) if name else "(%d)" % n


# -- the catalogue -----------------------------------------------------------

_SPLIT = Cause(
    "Host/jail split: the cgid daemon bound the socket in the host view, the workers look for the same path "
    "string inside the jail, where that directory is another one (or missing)",
    ("CG101",),
    "compare the directory in both views: stat -c '%d:%i %n' DIR JAIL/DIR (must be the same device:inode); "
    "ls -l DIR JAIL/DIR while httpd runs (the socket is only on the host side)")
_NOT_BOUND = Cause(
    "The daemon never bound its socket: the socket directory does not exist (or is read-only) where the daemon "
    "binds, i.e. on the host under ChrootDir, in the jail for an external chroot; look for AH01243 and AH01238 "
    "at startup",
    ("CG102",),
    "ls -ld DIR on the host (ChrootDir) or in the jail (external chroot); grep -E 'AH01243|AH01238' in the log",
    revealed_by=("AH01243", "AH01238"))
_BIND_DIR_MISSING = Cause(
    "The socket directory does not exist where the daemon binds: on the host under ChrootDir (the daemon binds "
    "before it chroots), in the jail for an external chroot",
    ("CG102",),
    "ls -ld DIR on the host (ChrootDir) or in the jail (external chroot)")
_TRUNCATED = Cause(
    "The socket path is longer than sun_path: httpd cut it to 107 bytes (AH01254 at startup) and the cut path "
    "lands in a directory that is missing or not shared with the jail",
    ("CG104",),
    "grep AH01254 in the log; the truncated path must be in a directory that is the same in both views",
    revealed_by=("AH01254",))
_REMOVED = Cause(
    "The socket was deleted while httpd ran: a tmp cleaner (systemd-tmpfiles, tmpreaper) or another httpd "
    "instance using the same ScriptSock directory removed it",
    (),
    "while httpd runs, the socket <ScriptSock>.<pid of the parent> must exist on the host; check tmpfiles.d "
    "rules and other instances")
_NOT_SEARCHABLE = Cause(
    "The socket directory is shared, but a directory on the jail-side path is not searchable (x) by User/Group, "
    "so the worker cannot reach the socket (reported at once, no retries)",
    ("CG103",),
    "namei -l JAIL/path/to/socket; or run as the worker: chroot --userspec=USER:GROUP JAIL ls -l /path/to/socket")
_SOCKET_MODE = Cause(
    "The socket itself is not writable by User: the daemon chowns it to the User of the generation that "
    "started it, so a User changed with a graceful restart, or a hand-made file of that name, denies it",
    (),
    "ls -l the socket in the jail view: it must be owned by User with mode srwx------")
_MAC = Cause(
    "A mandatory access control policy (SELinux, AppArmor) denies it although the file permissions allow it",
    (),
    "ausearch -m avc -ts recent (SELinux); dmesg | grep -i apparmor; the socket directory needs the label "
    "httpd may use (httpd_var_run_t)")

_CGID_SOURCE_REQUEST = ("mod_cgid, connect_to_daemon(): a worker child, per CGI request, after its chroot "
                        "(jail view)")
_SHARE_FIX = ("put the socket in a directory that is the same in both views: `ScriptSock cgisock` when the runtime "
              "directory is shared, else bind-mount the host socket directory onto the same path in the jail "
              "(or make the host path a symlink into the jail); `cgidlint fix CONFIG` prints the one that holds "
              "on this host")

_ENOENT_CONNECT = Reading(
    _errno.ENOENT,
    "The worker found no socket at the path: in the jail view the socket does not exist. ENOENT is retried 15 "
    "times (about 32 s) before this line, so the client waited that long and got 503.",
    [_SPLIT, _NOT_BOUND, _TRUNCATED, _REMOVED],
    explained_by=("AH01243", "AH01238", "AH01254"))


def _mutex_code(key, module, tag, message, note=""):
    return LogCode(
        key, "%s could not reopen its mutex in a child" % module,
        "%s child_init hook: every child, after its chroot (jail view)" % module, "error", "child start",
        ["[%s:error] [pid P:tid T] (ERRNO)Text: %s: %s" % (tag, key, message)],
        [Reading(_errno.ENOENT,
                 "The child reopens the mutex's lock file by name after its chroot; with `Mutex flock:DIR` the "
                 "parent created the file in the host view, so the jail has no such file." + note,
                 [Cause("`Mutex flock` (or a DEFAULT mutex of mechanism flock) with a lock directory that is not "
                        "the same directory in the jail", ("CG201",),
                        "grep -ri '^\\s*Mutex' in the configuration; apache2 -t -D DUMP_RUN_CFG shows the mutex "
                        "mechanisms and directories")]),
         Reading(None,
                 "The child could not reopen the mutex after its chroot." + note,
                 [Cause("`Mutex flock:DIR` whose DIR is missing, unshared or not writable by User in the jail",
                        ("CG201",), "ls -ld JAIL/DIR; the lock file <type>.<parent pid> must be reachable there")])],
        "use a mechanism that needs no file after fork (`Mutex default` is pthread or sysvsem on Linux, or "
        "`Mutex file:DIR` = fcntl, which unlinks its file at once), or make DIR the same directory in both "
        "views (bind mount)",
        see_also=("AH01760", "AH02024", "AH00666"))


def _socache_code(key, message):
    return LogCode(
        key, "a dbm: socache file cannot be used in a child",
        "mod_socache_dbm, per operation in a child after its chroot (jail view)", "error", "request",
        ["[socache_dbm:error] [pid P:tid T] (ERRNO)Text: %s: %s" % (key, message)],
        [Reading(None,
                 "The parent created the dbm: cache file in the host view at startup; children open it by the "
                 "same path inside the jail, where it is missing or another file (the cache never works, or "
                 "the parent never expires the jail copy).",
                 [Cause("A `dbm:` socache (SSLSessionCache, SSLStaplingCache, CacheSocache, AuthnCacheSOCache) "
                        "whose directory is not the same directory in the jail", ("CG202",),
                        "ls -l FILE and JAIL/FILE; stat -c '%d:%i' of both directories")])],
        "use `shmcb` (anonymous shared memory, inherited by the children) or share the directory with the jail",
        detail=r"DBM file `(?P<file>[^']*)'", see_also=("AH00807", "AH00809", "AH00810"))


_CODES = [
    LogCode(
        "AH01257", "unable to connect to cgi daemon after multiple tries", _CGID_SOURCE_REQUEST, "error", "request",
        ["[cgid:error] [pid P:tid T] (ERRNO)Text: [client IP:PORT] AH01257: stderr from SCRIPT: unable to connect "
         "to cgi daemon after multiple tries    (2.4.x, e.g. 2.4.71)",
         "[cgid:error] [pid P:tid T] (ERRNO)Text: [client IP:PORT] AH01257: unable to connect to cgi daemon after "
         "multiple tries: SCRIPT    (older builds, e.g. 2.4.6)"],
        [_ENOENT_CONNECT,
         Reading(_errno.EACCES,
                 "The socket path exists in the jail view but the worker (running as User) may not use it. Any "
                 "errno other than ENOENT/ECONNREFUSED is reported at once: an immediate 503. This is the line "
                 "of the original report.",
                 [_NOT_SEARCHABLE, _SOCKET_MODE, _MAC],
                 fix="give User/Group search (x) permission on every directory of the socket path inside the "
                     "jail (`cgidlint fix CONFIG` prints the chmod)"),
         Reading(_errno.ECONNREFUSED,
                 "A socket file exists at the path but no daemon accepts on it: retried like ENOENT (about 32 s).",
                 [Cause("The daemon's listen queue stayed full under load (many CGI requests at once)", (),
                        "count concurrent CGI requests; AH01257 only at peak times"),
                  Cause("The daemon died or a stale socket of an earlier daemon is left at the path", (),
                        "grep -E 'AH01239|AH01258|AH01238' in the log; ps for the cgid daemon (a child of the "
                        "parent running as root)")]),
         Reading(None,
                 "connect() to the daemon's socket failed with an error that is not retried.",
                 [Cause("See the errno text in the line; the socket path is the effective ScriptSock plus "
                        ".<pid of the parent>", (), "ls -l the socket path in the jail view")])],
        _SHARE_FIX,
        detail=r"stderr from (?P<script>\S+?): unable to connect|multiple tries: (?P<script_old>\S+)",
        aliases=("01257", "1257"), see_also=("AH02833", "AH01243", "AH01238", "AH01254", "AH01256")),
    LogCode(
        "AH02833", "ScriptSock <path> does not exist", _CGID_SOURCE_REQUEST, "error", "request",
        ["[cgid:error] [pid P:tid T] (2)No such file or directory: [client IP:PORT] AH02833: stderr from SCRIPT: "
         "ScriptSock SOCKET.<pid> does not exist    (2.4.x only)"],
        [Reading(_errno.ENOENT,
                 "The same failure as AH01257 with (2): the socket does not exist in the jail view. httpd words "
                 "it this way once the server has been up for more than 60 s (before that a missing socket may "
                 "just mean the daemon is still starting); it comes after a few retries.",
                 [_SPLIT, _NOT_BOUND, _TRUNCATED, _REMOVED], explained_by=("AH01243", "AH01238", "AH01254"))],
        _SHARE_FIX, detail=r"ScriptSock (?P<socket>\S+) does not exist", aliases=("02833", "2833"),
        see_also=("AH01257", "AH01243")),
    LogCode(
        "AH01256", "connect #N to cgi daemon failed, sleeping before retry", _CGID_SOURCE_REQUEST, "debug",
        "request",
        ["[cgid:debug] [pid P:tid T] mod_cgid.c(LINE): (ERRNO)Text: [client IP:PORT] AH01256: connect #N to cgi "
         "daemon failed, sleeping before retry    (LogLevel cgid:debug)"],
        [Reading(_errno.ENOENT,
                 "One retry of a connect that found no socket. Right after a start it can be the daemon still "
                 "starting; fourteen of them end in AH01257 or AH02833.",
                 [_SPLIT, _NOT_BOUND, _TRUNCATED], explained_by=("AH01243", "AH01238", "AH01254")),
         Reading(None, "One retry of a connect the daemon refused (listen queue full or daemon gone).",
                 [Cause("The daemon is overloaded or gone", (), "grep -E 'AH01239|AH01258' in the log")])],
        _SHARE_FIX, failure=False, detail=r"connect #(?P<attempt>\d+)", aliases=("01256",),
        see_also=("AH01257", "AH02833")),
    LogCode(
        "AH01243", "Couldn't bind unix domain socket <path>",
        "mod_cgid, cgid_server(): the cgid daemon at startup, as root, before it chroots (host view under "
        "ChrootDir; jail view for an external chroot)", "error", "startup",
        ["[cgid:error] [pid P:tid T] (ERRNO)Text: AH01243: Couldn't bind unix domain socket SOCKET.<pid>"],
        [Reading(_errno.ENOENT,
                 "The socket's directory does not exist where the daemon binds. The daemon exits (AH01238 "
                 "follows) and every CGI request then fails with AH01257 (2) after ~32 s.",
                 [_BIND_DIR_MISSING]),
         Reading(_errno.EADDRINUSE,
                 "A file with the socket's name already exists: mod_cgid does not remove it before bind. The "
                 "name ends in the parent's pid, so this happens when a pid repeats, typically in a container "
                 "where httpd gets the same pid at every start and the runtime directory is a persistent volume.",
                 [Cause("A stale socket left by an earlier run with the same parent pid", (),
                        "ls -l SOCKET.<pid>; remove stale cgisock.* files before start, or keep the runtime "
                        "directory on a tmpfs")]),
         Reading(_errno.EACCES,
                 "Root may not create the socket there.",
                 [Cause("The directory is on a filesystem that denies root (root-squashed NFS) or is read-only",
                        ("CG102",), "touch DIR/x as root"),
                  _MAC]),
         Reading(None,
                 "The daemon could not create its socket; it exits and CGI requests fail.",
                 [Cause("The socket directory is missing, read-only or unusable where the daemon binds",
                        ("CG102",), "ls -ld DIR; mount | grep the filesystem (ro?)")])],
        "create the socket directory where the daemon binds (host view under ChrootDir), shared with the jail at "
        "the same path; `cgidlint fix CONFIG` prints the commands",
        detail=r"unix domain socket (?P<socket>\S+)", aliases=("01243",), see_also=("AH01238", "AH01257", "AH01240")),
    LogCode(
        "AH01238", "cgid daemon failed to initialize",
        "mod_cgid, cgid_maint(): the parent, when the cgid daemon exits at startup", "crit", "startup",
        ["[cgid:crit] [pid P:tid T] AH01238: cgid daemon failed to initialize"],
        [Reading(None,
                 "The cgid daemon exited with a startup error: there is no daemon and no socket, so every CGI "
                 "request fails (AH01257 (2) after ~32 s, or AH02833). The daemon's own line just before it "
                 "says why, usually AH01243.",
                 [_NOT_BOUND,
                  Cause("The daemon could not chroot or drop privileges (AH02158, AH02159, AH02160 just before)",
                        (), "grep -E 'AH0215[89]|AH02160' in the log"),
                  Cause("The daemon could not set up the socket it bound (AH01244, AH01245, AH01246 just "
                        "before)", (), "grep -E 'AH0124[2-6]' in the log")],
                 explained_by=("AH01243", "AH02158", "AH02159", "AH02160"))],
        "fix the daemon's startup error (see the line before this one), then restart httpd",
        aliases=("01238",), see_also=("AH01243", "AH01257")),
    LogCode(
        "AH01254", "The length of the ScriptSock path exceeds maximum, truncating to <path>",
        "mod_cgid, cgid_init(): the parent at startup", "error", "startup",
        ["[cgid:error] [pid P:tid T] AH01254: The length of the ScriptSock path exceeds maximum, truncating to "
         "FIRST-107-BYTES"],
        [Reading(None,
                 "The effective socket path plus .<pid> is longer than sun_path (108 bytes on Linux): httpd keeps "
                 "the first 107 bytes, so the .<pid> (and maybe more) is cut. Daemon, workers and cleanup all use "
                 "the cut name, so the cut alone does not break CGI; it breaks when the cut path's directory is "
                 "missing or not shared with the jail (then AH01257 (2) follows).",
                 [Cause("ScriptSock (or DefaultRuntimeDir) is too long", ("CG104",),
                        "echo -n '<ScriptSock>.<pid>' | wc -c must be <= 107")])],
        "shorten the socket path: a short ScriptSock in a directory shared with the jail",
        detail=r"truncating to (?P<socket>\S+)", aliases=("01254",), see_also=("AH01257",)),
    LogCode(
        "AH01239", "cgid daemon process died, restarting",
        "mod_cgid, cgid_maint(): the parent, when the running cgid daemon dies", "error", "request",
        ["[cgid:error] [pid P:tid T] AH01239: cgid daemon process died, restarting"],
        [Reading(None,
                 "The cgid daemon died while httpd ran and the parent started a new one; CGI requests in the "
                 "gap fail (AH01257 (111) or AH01258).",
                 [Cause("The daemon was killed (OOM killer, an administrator, a crash in the jail)", (),
                        "dmesg | grep -i -E 'killed process|segfault'")])],
        "find why the daemon died; nothing in the configuration is implicated",
        aliases=("01239",), see_also=("AH01258", "AH01257")),
    LogCode(
        "AH01240", "Couldn't unlink unix domain socket <path>",
        "mod_cgid, cgid_maint(): the parent at stop or restart, as root (host view)", "error", "shutdown",
        ["[cgid:error] [pid P:tid T] (ERRNO)Text: AH01240: Couldn't unlink unix domain socket SOCKET.<pid>"],
        [Reading(None,
                 "The parent could not remove the daemon's socket when the server stopped or restarted. The file "
                 "stays; it only matters when a later parent gets the same pid (then bind fails: AH01243 (98)).",
                 [Cause("The socket directory became read-only or unwritable for root, or a MAC policy denies "
                        "the unlink", (), "ls -ld DIR; touch DIR/x as root"), _MAC])],
        "remove the stale cgisock.* files by hand; keep the runtime directory writable by root",
        failure=False, detail=r"unix domain socket (?P<socket>\S+)", aliases=("01240",),
        see_also=("AH01243",)),
    LogCode(
        "AH01258", "cgid daemon is gone; is Apache terminating?", _CGID_SOURCE_REQUEST, "error", "request",
        ["[cgid:error] [pid P:tid T] (ERRNO)Text: [client IP:PORT] AH01258: stderr from SCRIPT: cgid daemon is "
         "gone; is Apache terminating?"],
        [Reading(None,
                 "A connect failed (not ENOENT) and the daemon's pid no longer exists: the daemon is gone.",
                 [Cause("The server is stopping, or the daemon died (AH01239) or never started (AH01238)", (),
                        "grep -E 'AH01238|AH01239|AH00491' around this line")],
                 explained_by=("AH01238", "AH01239"))],
        "restart httpd; if the daemon keeps dying, see AH01239",
        aliases=("01258",), see_also=("AH01239", "AH01238")),
    LogCode(
        "AH01241", "exec of the CGI script failed",
        "mod_cgid: the cgid daemon's forked child, exec of the script after the chroot (jail view)", "error",
        "request",
        ["[cgid:error] [pid P:tid T] (ERRNO)Text: AH01241: exec of 'SCRIPT' failed",
         "AH01215: stderr from SCRIPT: AH01241: error spawning CGI child: exec of 'SCRIPT' failed (Text)"],
        [Reading(_errno.ENOENT,
                 "exec() found no file: the script, its #! interpreter or its ELF loader is missing in the jail.",
                 [Cause("The #! interpreter (or the ELF loader or a shared library it needs) is missing in the "
                        "jail", ("CG302",),
                        "head -1 SCRIPT; chroot JAIL /path/to/interpreter --version; ldd the interpreter"),
                  Cause("The script exists on the host only (ScriptAlias target missing in the jail)", ("CG301",),
                        "ls -l JAIL/SCRIPT")]),
         Reading(None,
                 "exec() of the script failed in the jail.",
                 [Cause("The script or its interpreter is not executable by User in the jail, or the jail's "
                        "filesystem is mounted noexec", (), "ls -l JAIL/SCRIPT; mount | grep noexec"),
                  Cause("The #! interpreter or its libraries are missing in the jail", ("CG302",),
                        "chroot JAIL /path/to/interpreter --version")])],
        "copy the interpreter, its loader and libraries into the jail (ldd shows them), or use a static "
        "interpreter",
        detail=r"exec of '(?P<script>[^']*)' failed", aliases=("01241",), see_also=("end-of-script", "AH01215")),
    LogCode(
        "AH01215", "stderr from <script>: <what the script wrote>",
        "mod_cgi/mod_cgid: the worker relays each line the CGI script writes to stderr", "error", "request",
        ["[cgid:error] [pid P:tid T] [client IP:PORT] AH01215: stderr from SCRIPT: TEXT"],
        [Reading(None,
                 "A line the CGI script (or its interpreter, or the dynamic loader) wrote to stderr. Harmless "
                 "when the script logs on purpose; under chroot it is often the loader or interpreter saying "
                 "what it cannot find in the jail ('not found', 'No such file or directory', 'error while "
                 "loading shared libraries').",
                 [Cause("The interpreter, the ELF loader or a shared library is missing in the jail", ("CG302",),
                        "read TEXT; chroot JAIL /path/to/interpreter --version; ldd the interpreter")])],
        "copy what TEXT names into the jail",
        failure=False, wraps=True, detail=r"stderr from (?P<script>\S+?): (?P<text>.*)$", aliases=("01215",),
        see_also=("AH01241", "end-of-script")),
    LogCode(
        "end-of-script", "End of script output before headers: <script>",
        "server/util_script.c: the worker, when the script's output ends before its headers (no AH number)",
        "error", "request",
        ["[cgid:error] [pid P:tid T] [client IP:PORT] End of script output before headers: SCRIPT",
         "... Premature end of script headers: SCRIPT"],
        [Reading(None,
                 "The CGI produced no (complete) header before its output ended: HTTP 500. Under chroot the "
                 "usual reason is that the script never ran: its interpreter or libraries are missing in the "
                 "jail (the loader's complaint is relayed as AH01215 just before).",
                 [Cause("The #! interpreter, its ELF loader or a shared library is missing in the jail",
                        ("CG302",), "chroot JAIL /path/to/interpreter --version"),
                  Cause("A file the script opens exists only on the host", ("CG301",),
                        "run the script in the jail: chroot --userspec=USER JAIL SCRIPT"),
                  Cause("The script itself fails or prints no header (a bug, a timeout, a resource limit)", (),
                        "run the script by hand; see the AH01215 lines before this one")],
                 explained_by=("AH01241", "AH01215"))],
        "make the script run inside the jail: interpreter, libraries and the files it reads must be there",
        detail=r"before headers: (?P<script>\S+)|script headers: (?P<script_old>\S+)",
        text=r"End of script output before headers|Premature end of script headers",
        aliases=("end-of-script-output", "end of script output before headers"), see_also=("AH01215", "AH01241")),
    LogCode(
        "AH02454", "attempt to connect to Unix domain socket <path> failed",
        "mod_proxy (ap_proxy_connect_uds): a worker, per proxied request, after its chroot (jail view)", "error",
        "request",
        ["[proxy:error] [pid P:tid T] (ERRNO)Text: AH02454: SCHEME: attempt to connect to Unix domain socket "
         "SOCKET (HOST:PORT) failed"],
        [Reading(_errno.ENOENT,
                 "The backend's socket (php-fpm, a unix: ProxyPass) does not exist in the jail view: the backend "
                 "listens in the host view. The client gets 503.",
                 [Cause("The unix: socket's directory is not in the jail (not bind-mounted)", ("CG303",),
                        "ls -l SOCKET and JAIL/SOCKET")]),
         Reading(_errno.EACCES,
                 "The socket is in the jail view but User may not connect to it.",
                 [Cause("Socket mode/owner, or a directory on the jail path not searchable by User", (),
                        "namei -l JAIL/SOCKET; listen.owner/listen.mode of the backend"), _MAC]),
         Reading(_errno.ECONNREFUSED,
                 "The socket file exists but nothing listens: the backend is down or listens elsewhere.",
                 [Cause("The backend is not running, or it created its socket in the host view after the bind "
                        "mount was set up on another path", (), "systemctl status php-fpm; ls -l SOCKET")]),
         Reading(None, "Connecting to the backend's unix socket failed.",
                 [Cause("The unix: socket is unusable in the jail view", ("CG303",), "ls -l JAIL/SOCKET")])],
        "bind-mount the backend's socket directory into the jail at the same path (e.g. /run/php-fpm)",
        detail=r"Unix domain socket (?P<socket>\S+)", aliases=("02454",)),
    LogCode(
        "AH00052", "child pid N exit signal SIGNAL (n)",
        "mpm_unix.c: the parent, when a child process dies of a signal", "notice", "child start",
        ["[core:notice] [pid P:tid T] AH00052: child pid N exit signal Abort (6)"],
        [Reading(6,
                 "A child aborted. In a jail with a threaded MPM (event, worker) the classic reason is glibc "
                 "aborting in pthread_exit because it cannot dlopen libgcc_s.so.1 inside the jail (the line "
                 "'libgcc_s.so.1 must be installed for pthread_exit to work' comes just before). Children keep "
                 "dying and being replaced (AH10392).",
                 [Cause("libgcc_s.so.1 (and /etc/ld.so.cache) missing in the jail", ("CG304",),
                        "ls -l JAIL/lib/*/libgcc_s.so.1 JAIL/etc/ld.so.cache; grep libgcc_s in the log")],
                 label="SIGABRT", explained_by=("libgcc_s",)),
         Reading(11,
                 "A child crashed (segmentation fault).",
                 [Cause("A module or library bug, or a library the child loads later in the jail that differs "
                        "from the host's", (), "get a core dump (CoreDumpDirectory inside the jail) and a "
                        "backtrace")], label="SIGSEGV"),
         Reading(9,
                 "A child was killed with SIGKILL.",
                 [Cause("The OOM killer or an administrator", (), "dmesg | grep -i 'killed process'")],
                 label="SIGKILL"),
         Reading(None,
                 "A child died of a signal.",
                 [Cause("See the signal; under chroot a library or device missing in the jail is a common "
                        "reason", ("CG304",), "grep the lines just before this one")])],
        "copy /lib/<arch>/libgcc_s.so.1 and /etc/ld.so.cache into the jail (for SIGABRT with the libgcc_s line)",
        variant="signal", detail=r"child pid (?P<pid>\d+) exit signal (?P<signame>.*?) \((?P<signal>\d+)\)",
        aliases=("00052", "AH00051", "00051"), see_also=("libgcc_s", "AH10392")),
    LogCode(
        "libgcc_s", "libgcc_s.so.1 must be installed for pthread_exit to work",
        "glibc, in a child after its chroot: printed to stderr (no timestamp, no AH number)", "none (raw stderr)",
        "child start",
        ["libgcc_s.so.1 must be installed for pthread_exit to work"],
        [Reading(None,
                 "glibc loads libgcc_s.so.1 lazily, the first time a thread exits; a threaded MPM's child does "
                 "that after its chroot, inside the jail, where the library is missing. glibc then aborts the "
                 "child (AH00052 ... exit signal Abort (6)); the parent keeps starting new children that die "
                 "the same way (AH10392), and requests fail or hang.",
                 [Cause("libgcc_s.so.1 and /etc/ld.so.cache are not in the jail (ChrootDir with the event or "
                        "worker MPM)", ("CG304",),
                        "ldconfig -p | grep libgcc_s; ls -l JAIL/lib/*/libgcc_s.so.1 JAIL/etc/ld.so.cache")])],
        "cp -L $(ldconfig -p | awk '/libgcc_s.so.1 /{print $NF; exit}') into the same path in the jail, and "
        "cp /etc/ld.so.cache JAIL/etc/",
        text=r"libgcc_s\.so\.1 must be installed for pthread_exit to work",
        aliases=("libgcc", "libgcc_s.so.1", "pthread_exit"), see_also=("AH00052", "AH10392")),
    LogCode(
        "AH10392", "children are killed successively!",
        "event MPM: the parent, when three or more children in a row died of a signal", "warn", "child start",
        ["[mpm_event:warn] [pid P:tid T] AH10392: children are killed successively!"],
        [Reading(None,
                 "Children keep dying of signals right after they start (see the AH00052 lines); under "
                 "ChrootDir the usual reason is libgcc_s.so.1 missing in the jail.",
                 [Cause("libgcc_s.so.1 and /etc/ld.so.cache missing in the jail", ("CG304",),
                        "grep -E 'libgcc_s|AH00052' in the log")],
                 explained_by=("libgcc_s", "AH00052"))],
        "see AH00052 and libgcc_s",
        aliases=("10392",), see_also=("AH00052", "libgcc_s")),
    LogCode(
        "AH00496", "apr_proc_detach failed",
        "the MPM's pre_config: the starting server, when it daemonizes", "crit", "startup",
        ["[mpm_event:crit] [pid P:tid T] (2)No such file or directory: AH00496: apr_proc_detach failed",
         "[:emerg] [pid P:tid T] AH00017: Pre-configuration failed, exiting"],
        [Reading(_errno.ENOENT,
                 "The server could not daemonize: it reopens stdin/stdout/stderr on /dev/null, which does not "
                 "exist. Under an external chroot the jail has no /dev/null; httpd exits at once.",
                 [Cause("/dev/null missing in the jail (external chroot)", ("CG305",),
                        "ls -l JAIL/dev/null (must be a character device 1,3)")]),
         Reading(None,
                 "The server could not daemonize (reopen stdio on /dev/null, fork, setsid).",
                 [Cause("/dev/null missing or not a device in the jail (a nodev mount makes it unusable)",
                        ("CG305",), "ls -l JAIL/dev/null; mount | grep nodev")])],
        "mknod -m 666 JAIL/dev/null c 1 3 (or bind-mount /dev/null onto it on a nodev filesystem)",
        aliases=("00496",), see_also=()),
    LogCode(
        "AH02158", "Cannot chroot when not started as root",
        "mod_unixd, drop_privileges: children and the cgid daemon", "alert", "child start",
        ["[unixd:alert] [pid P:tid T] (ERRNO)Text: AH02158: Cannot chroot when not started as root"],
        [Reading(None, "ChrootDir needs httpd to be started as root.",
                 [Cause("httpd started by an unprivileged user (or a rootless container)", (),
                        "ps -o user= -p <parent pid>")])],
        "start httpd as root, or drop ChrootDir",
        aliases=("02158",), see_also=("AH02159", "AH02160")),
    LogCode(
        "AH02159", "Can't chdir to <ChrootDir>",
        "mod_unixd, drop_privileges: children and the cgid daemon", "alert", "child start",
        ["[unixd:alert] [pid P:tid T] (ERRNO)Text: AH02159: Can't chdir to JAIL"],
        [Reading(None, "The child could not enter the ChrootDir directory; it exits.",
                 [Cause("ChrootDir removed or not searchable since the configuration was read", (),
                        "ls -ld JAIL")])],
        "make ChrootDir exist and be searchable by root",
        detail=r"chdir to (?P<jail>\S+)", aliases=("02159",), see_also=("AH02160",)),
    LogCode(
        "AH02160", "Can't chroot to <ChrootDir>",
        "mod_unixd, drop_privileges: children and the cgid daemon", "alert", "child start",
        ["[unixd:alert] [pid P:tid T] (ERRNO)Text: AH02160: Can't chroot to JAIL"],
        [Reading(_errno.EPERM,
                 "chroot() was refused: the process lacks CAP_SYS_CHROOT. Typical in a container started "
                 "without that capability, or under a systemd unit that drops it.",
                 [Cause("Missing CAP_SYS_CHROOT (docker --cap-add SYS_CHROOT; systemd CapabilityBoundingSet)",
                        (), "grep Cap /proc/<pid>/status; capsh --decode=...")]),
         Reading(None, "chroot() to ChrootDir failed; the child exits.",
                 [Cause("ChrootDir unusable at run time", (), "ls -ld JAIL")])],
        "give httpd CAP_SYS_CHROOT, or run it without ChrootDir",
        detail=r"chroot to (?P<jail>\S+)", aliases=("02160",), see_also=("AH02159", "AH01238")),
    _mutex_code("AH01760", "mod_auth_digest", "auth_digest",
                "failed to create lock (client_lock) - all nonce-count checking and one-time nonces disabled",
                " Digest authentication keeps working without nonce-count checks."),
    _mutex_code("AH02024", "mod_ssl", "ssl", "Cannot reinit ssl-cache mutex with file `FILE'"),
    _mutex_code("AH00666", "mod_rewrite", "rewrite", "mod_rewrite: could not init rewrite_mapr_lock_acquire in child",
                " RewriteMap prg: lookups are no longer serialized."),
    _mutex_code("AH02479", "mod_proxy", "proxy", "could not init proxy_mutex in child", " The child exits."),
    _mutex_code("AH00920", "mod_proxy_balancer", "proxy_balancer", "Failed to reopen mutex BALANCER in child"),
    _mutex_code("AH01322", "util_ldap", "ldap", "Failed to initialise global mutex ldap-cache in child process"),
    _mutex_code("AH02394", "mod_cache_socache", "cache_socache", "failed to initialise mutex in child_init"),
    _mutex_code("AH01678", "mod_authn_socache", "authn_socache", "failed to initialise mutex in child_init"),
    _mutex_code("AH03016", "mod_lua", "lua", "mod_lua: Failed to reopen mutex lua-ivm-shm in child",
                " The child exits."),
    _socache_code("AH00807", "Cannot open socache DBM file `FILE' for writing (store)"),
    _socache_code("AH00808", "Cannot store socache object to DBM file `FILE'"),
    _socache_code("AH00809", "Cannot open socache DBM file `FILE' for reading (fetch)"),
    _socache_code("AH00810", "Cannot open socache DBM file `FILE' for writing (delete)"),
    LogCode(
        "AH00661", "mod_rewrite: can't access text RewriteMap file <path>",
        "mod_rewrite: a worker, per lookup, after its chroot (jail view)", "error", "request",
        ["[rewrite:error] [pid P:tid T] (2)No such file or directory: [client IP:PORT] AH00661: mod_rewrite: "
         "can't access text RewriteMap file FILE"],
        [Reading(None,
                 "httpd -t checked the map on the host and passed, but lookups run in the jail, where the file "
                 "is missing or unreadable by User: the map's default value is used.",
                 [Cause("The RewriteMap txt:/rnd: file exists only on the host", ("CG301",),
                        "ls -l JAIL/FILE")])],
        "copy (or bind-mount) the map file into the jail at the same path",
        detail=r"RewriteMap file (?P<file>\S+)", aliases=("00661",)),
    LogCode(
        "AH00111", "Config variable ${NAME} is not defined",
        "core, while reading the configuration", "warn", "startup",
        ["[core:warn] [pid P] AH00111: Config variable ${NAME} is not defined"],
        [Reading(None, "A ${NAME} has no Define and no environment value: httpd uses the literal text "
                       "'${NAME}' as the value (often as a path).",
                 [Cause("A Define or an environment variable (e.g. from envvars) is missing when httpd starts",
                        ("CG003",), "grep -rn '${NAME}' in the configuration; source envvars before httpd")])],
        "Define NAME, or start httpd with the environment that sets it",
        failure=False, detail=r"\$\{(?P<name>[^}]*)\}", aliases=("00111",)),
    LogCode(
        "AH00526", "Syntax error on line N of FILE",
        "core, while reading the configuration (httpd -t, start, restart)", "startup", "startup",
        ["AH00526: Syntax error on line N of FILE:", "MESSAGE"],
        [Reading(None, "httpd rejected the configuration and did not start (or kept the old one on restart).",
                 [Cause("A syntax error, a directive in the wrong context, a missing Include target",
                        ("CG001", "CG002"), "apache2 -t (or httpd -t) with the same -f/-d/-D options")])],
        "fix the line httpd names (cgidlint reports it at the same line)",
        detail=r"line (?P<line>\d+) of (?P<file>[^:]+)", aliases=("00526",)),
]

CODES = OrderedDict((c.key, c) for c in _CODES)

# Each alias maps to its entry (AH00051 is AH00052 with "possible coredump in DIR").
_ALIASES = {}
for _c in _CODES:
    for _a in (_c.key,) + _c.aliases:
        _ALIASES[_a.lower()] = _c


def lookup(code):
    """The entry for ``AH01257``, ``ah01257``, ``01257``, ``1257`` or a name
    such as ``libgcc_s``; None when unknown."""
    s = code.strip().rstrip(":").lower()
    if s in _ALIASES:
        return _ALIASES[s]
    digits = s[2:] if s.startswith("ah") else s
    if digits.isdigit() and len(digits) <= 5:
        return _ALIASES.get("ah" + digits.zfill(5))
    return None


def by_ah_number(number):
    """The entry for the 5 digits of an ``AHnnnnn`` found in a log line."""
    return _ALIASES.get("ah" + number)


TEXT_CODES = [c for c in _CODES if c.text is not None]


def predicted_by(rule_code):
    """Log IDs whose readings name ``rule_code`` (for ``explain CG101``)."""
    return [c.key for c in _CODES if rule_code in c.rules]


def rule_name(code, registry):
    rule = registry.get(code)
    return rule.name if rule is not None else CATALOGUE_NAMES.get(code, "?")


def rule_label(code, registry):
    """``CG101 scriptsock-split-view``, or the catalogue name and "not yet
    implemented" for a catalogue rule the registry lacks."""
    label = "%s %s" % (code, rule_name(code, registry))
    return label if code in registry else label + " (not yet implemented)"


def rules_label(codes, registry):
    return ", ".join(rule_label(r, registry) for r in codes) or "no rule (outside what cgidlint checks)"


def variant_label(code, value):
    """``(2) ENOENT`` for an errno, ``signal 6 (SIGABRT)`` for AH00052."""
    if value is None:
        return ""
    if code.variant == "signal":
        reading = code.readings.get(value)
        return "signal %d%s" % (value, " (%s)" % reading.label if reading is not None and reading.label else "")
    return errno_label(value)


def reading_lines(reading, registry, indent="  "):
    """A reading as text lines: meaning, then the ranked causes."""
    return wrap(reading.meaning, indent) + cause_lines(reading, registry, indent)


def cause_lines(reading, registry, indent="  ", ruled_out=None):
    """The ranked causes of a reading with their rules and how to check them
    (shared by ``explain`` and ``diagnose``); ``ruled_out`` maps the causes a
    log excludes to why, and moves them last."""
    ruled_out = ruled_out or {}
    out = ["%sLikely causes, most likely first:" % indent]
    causes = [c for c in reading.causes if c not in ruled_out] + [c for c in reading.causes if c in ruled_out]
    for i, cause in enumerate(causes, 1):
        rules = ", ".join(rule_label(r, registry) for r in cause.rules) or "outside what cgidlint checks"
        why = " (ruled out: %s)" % ruled_out[cause] if cause in ruled_out else ""
        out += wrap("%d. %s [%s]%s" % (i, cause.text, rules, why), indent + "  ", indent + "     ")
        if cause.check:
            out += wrap("check: %s" % cause.check, indent + "     ", indent + "       ")
    return out


def explain_text(code, registry):
    """The text ``cgidlint explain`` prints for a log ID."""
    out = ["%s: %s" % (code.key, code.title)]
    out += wrap("Logged by %s; level %s; stage: %s." % (code.source, code.level, code.stage), "")
    out += ["", "Log line:"]
    out += ["  %s" % f for f in code.formats]
    readings = list(code.readings.values())
    if len(readings) == 1:
        out += ["", "What it means:"]
        out += reading_lines(readings[0], registry)
    else:
        for reading in readings:
            heading = variant_label(code, reading.variant) if reading.variant is not None else \
                "any other %s" % ("signal" if code.variant == "signal" else "errno")
            out += ["", "%s:" % _cap(heading)]
            out += reading_lines(reading, registry)
            if reading.fix:
                out += wrap("Fix: %s" % reading.fix, "  ", "    ")
    out.append("")
    if len({tuple(r.rules) for r in readings if r.rules}) <= 1:
        out.append("Predicted by: %s" % rules_label(code.rules, registry))
    else:
        out.append("Predicted by:")
        for reading in readings:
            if reading.rules:
                out.append("  %s: %s" % (variant_label(code, reading.variant) or "other",
                                         rules_label(reading.rules, registry)))
    out += wrap("Fix: %s" % code.fix, "", "  ")
    see_also = [k for k in code.see_also if k != code.key]
    if see_also:
        out.append("See also: %s" % ", ".join(see_also))
    return "\n".join(out)


def _cap(text):
    return text[:1].upper() + text[1:]


def wrap(text, indent, subsequent=None, width=100):
    return textwrap.wrap(text, width=width, initial_indent=indent,
                         subsequent_indent=indent if subsequent is None else subsequent,
                         break_long_words=False, break_on_hyphens=False)


def rule_log_ids_text(rule_code):
    """The line ``explain CG101`` adds: the log IDs the rule predicts."""
    keys = predicted_by(rule_code)
    return "Log IDs it predicts (cgidlint explain ID): %s" % ", ".join(keys) if keys else ""


def catalogue_text(rule_code):
    """For a catalogue rule that is not implemented yet: what it will
    check for and the log IDs it predicts; None for any other code."""
    code = rule_code.strip().upper()
    if code not in CATALOGUE_NAMES:
        return None
    out = ["%s %s: in the rule catalogue, not yet implemented." % (code, CATALOGUE_NAMES[code])]
    ids = rule_log_ids_text(code)
    if ids:
        out.append(ids)
    return "\n".join(out)


def known_ids():
    return list(CODES)
