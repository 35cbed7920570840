"""The two views of one evaluated configuration.

Decides the chroot mode (``ChrootDir``, external chroot, none), where the
jail is, and resolves server paths in the view that uses them:

* **host view**: the parent and the cgid daemon before ``drop_privileges``.
  Rooted at the read root (``/`` on a live host; the jail when the whole
  server runs inside one).
* **jail view**: children after ``chroot(ChrootDir)``.

In external-chroot mode there is one view only (the jail).
"""

import grp
import os
import pwd
from typing import List, Optional, Tuple

from cgidlint.paths.jail import Resolution, resolve_in_jail, same_directory

CHROOTDIR, EXTERNAL, NONE = "chrootdir", "external", "none"


class User(object):
    __slots__ = ("name", "uid", "gid", "groups", "source")

    def __init__(self, name, uid, gid, groups, source):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.source = source  # where the ids came from

    def __repr__(self):
        return "User(%s uid=%s gid=%s)" % (self.name, self.uid, self.gid)


def _read_db(path):
    """Entries of a passwd/group style file as lists of fields."""
    try:
        with open(path, "rb") as f:
            return [os.fsdecode(l).split(":") for l in f.read().splitlines() if l and not l.startswith(b"#")]
    except (IOError, OSError):
        return []


def resolve_user(user, group, etc_root="/"):
    # type: (Optional[str], Optional[str], str) -> Optional[User]
    """uid/gid/supplementary groups the workers run as.

    httpd resolves ``User``/``Group`` at config time in the parent, so for
    ``ChrootDir`` that is the host's databases (``etc_root`` ``/``); for an
    external chroot it is the jail's own ``/etc/passwd``.
    """
    user = user or "#-1"
    group = group or "#-1"
    uid = gid = None
    groups = []  # type: List[int]
    if etc_root == "/":
        try:
            pw = pwd.getpwuid(int(user[1:])) if user.startswith("#") else pwd.getpwnam(user)
            uid, primary, uname = pw.pw_uid, pw.pw_gid, pw.pw_name
        except (KeyError, ValueError):
            if not user.startswith("#"):
                return None
            uid, primary, uname = int(user[1:]) if user[1:].lstrip("-").isdigit() else -1, None, user
        try:
            gid = int(group[1:]) if group.startswith("#") else grp.getgrnam(group).gr_gid
        except (KeyError, ValueError):
            gid = primary if primary is not None else -1
        try:
            groups = [g.gr_gid for g in grp.getgrall() if uname in g.gr_mem]
        except Exception:  # pragma: no cover - NSS oddities
            groups = []
        return User(user, uid, gid, groups, "host /etc/passwd")
    passwd = _read_db(os.path.join(etc_root, "etc/passwd"))
    groupdb = _read_db(os.path.join(etc_root, "etc/group"))
    uname = user
    if user.startswith("#"):
        try:
            uid = int(user[1:])
        except ValueError:
            return None
    else:
        for f in passwd:
            if len(f) > 3 and f[0] == user:
                uid, gid = int(f[2]), int(f[3])
                break
        else:
            return None
    if group.startswith("#"):
        try:
            gid = int(group[1:])
        except ValueError:
            pass
    else:
        for f in groupdb:
            if len(f) > 2 and f[0] == group:
                gid = int(f[2])
    for f in groupdb:
        if len(f) > 3 and uname in f[3].split(","):
            groups.append(int(f[2]))
    return User(user, uid, gid if gid is not None else -1, groups, "jail /etc/passwd")


class Views(object):
    """Where server paths land, per view, for one configuration."""

    def __init__(self, mode, read_root, jail_view=None, jail_host=None, jail_declared_by=None,
                 external_verified=False):
        self.mode = mode
        self.read_root = read_root          # root of the host view ("/" on a live host)
        self.jail_view = jail_view          # ChrootDir as written (server view)
        self.jail_host = jail_host          # the jail on this machine
        self.jail_declared_by = jail_declared_by
        self.external_verified = external_verified

    @property
    def on_disk(self):
        """Can verdicts be checked on the filesystem?"""
        if self.mode == CHROOTDIR:
            return bool(self.jail_host) and os.path.isdir(self.jail_host)
        if self.mode == EXTERNAL:
            return self.external_verified
        return True

    def host(self, path):
        # type: (str) -> Resolution
        return resolve_in_jail(self.read_root, path)

    def jail(self, path):
        # type: (str) -> Resolution
        return resolve_in_jail(self.jail_host or self.read_root, path)

    def bind_view(self, path):
        """The view the cgid daemon binds in: host for ChrootDir, else the only one."""
        return self.host(path)

    def connect_view(self, path):
        """The view workers connect in: the jail for ChrootDir, else the only one."""
        return self.jail(path) if self.mode == CHROOTDIR else self.host(path)

    def same_dir(self, path):
        # type: (str) -> Tuple[Optional[bool], Resolution, Resolution]
        h = self.host(path)
        j = self.jail(path)
        if not (h.exists and j.exists):
            return (False if (h.exists or j.exists) else None), h, j
        return same_directory(h.host_path, j.host_path), h, j


def looks_like_root(path):
    """A directory a server could really be started in (external chroot)."""
    for sub in ("usr/sbin/httpd", "usr/sbin/apache2", "bin/sh", "usr/bin", "bin"):
        if os.path.lexists(os.path.join(path, sub)):
            return True
    return False


def build_views(project):
    """The views for an evaluated project (see cgidlint.engine.Project)."""
    cfg = project.config
    read_root = project.fs.read_root
    chroot = cfg.last("ChrootDir")
    if chroot is not None and chroot.arg(0):
        jail_view = chroot.arg(0)
        if not jail_view.startswith("/"):
            jail_view = os.path.normpath(os.path.join(cfg.server_root, jail_view))
        jail_host = resolve_in_jail(read_root, jail_view).host_path
        return Views(CHROOTDIR, read_root, jail_view, jail_host, chroot)
    if read_root != "/":
        explicit = project.options.root is not None
        return Views(EXTERNAL, read_root, "/", read_root, "--root" if explicit else "inferred",
                     external_verified=explicit or looks_like_root(read_root))
    return Views(NONE, "/")
