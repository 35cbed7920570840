"""Resolve a path the way a process sees it: from the host, or chrooted at a jail.

Under ``ChrootDir`` one path string is used in two views (see the
design note ``chroot-model.md``): the cgid daemon binds its socket in the
**host view**, worker children connect to it in the **jail view**. This module
answers, on the real filesystem, "where does this string land in each view?"
and "is that the same directory?".

Everything here is stdlib only and never follows a symlink out of a jail:
every ``lstat``/``readlink`` is done on ``jail + <resolved in-jail path>``, and
the in-jail path is built one component at a time, so an absolute symlink
target (``/etc``) or a ``..`` at the jail root stays inside the jail, exactly
as it does for a chrooted process.
"""

import errno
import os
import stat
from typing import Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

__all__ = [
    "MAXSYMLINKS",
    "Resolution",
    "resolve_in_jail",
    "resolve_on_host",
    "same_directory",
    "first_unsearchable",
    "writable_by_others",
    "is_within",
    "open_within",
    "PathEscapesRoot",
]

#: Linux's limit on symlinks followed in one lookup (``MAXSYMLINKS``); the
#: 41st gives ``ELOOP``.
MAXSYMLINKS = 40


class Resolution(NamedTuple):
    """The outcome of resolving one path in one view.

    ``view_path``
        the path as the process in that view sees it after all symlinks were
        followed (canonical: no ``.``, ``..``, ``//`` or symlinks in the part
        that exists; a missing tail is appended with ``.``/``..`` collapsed
        textually).
    ``host_path``
        where that is on the host: ``jail + view_path`` (``view_path`` itself
        for the host view). Always inside the jail.
    ``exists``
        the whole path resolved to an existing object.
    ``missing_from``
        the first in-jail path (canonical parent + name) that does not exist,
        or None.
    ``error``
        None, ``'ELOOP'`` (more than 40 symlinks), ``'ENOTDIR'`` (a non-final
        component, or a final one followed by ``/``, is not a directory) or
        ``'EACCES'`` (the linter itself could not lstat a component; only when
        not running as root).
    ``components``
        ``(in-jail directory, host path)`` for every directory a lookup passed
        through, in order, without repeats, including the jail root. When the
        path resolves to an existing directory, that directory is appended
        last, because anything looked up inside it (the socket) needs search
        permission on it too. This is the list :func:`first_unsearchable`
        checks.
    ``jail``
        the jail the path was resolved in (``'/'`` for the host view).
    """

    view_path: str
    host_path: str
    exists: bool
    missing_from: Optional[str]
    error: Optional[str]
    components: List[Tuple[str, str]]
    jail: str


def _norm_jail(jail):
    # type: (str) -> str
    if not jail:
        raise ValueError("jail must be a non-empty path")
    jail = os.path.abspath(jail)  # also collapses '//', '.', '..' textually
    return jail


def _host(jail, names):
    # type: (str, Sequence[str]) -> str
    """Host path of the in-jail path made of ``names`` (no '/', '.', '..')."""
    view = "/" + "/".join(names)
    if jail == "/":
        return view
    if not names:
        return jail
    return jail + view


def _view(names):
    # type: (Sequence[str]) -> str
    return "/" + "/".join(names)


def _split(path):
    # type: (str) -> List[str]
    """Components of ``path`` for the lookup queue.

    Empty components (from ``//``) are dropped; a trailing ``/`` becomes a
    trailing ``'.'`` so that ``file/`` fails with ENOTDIR like on Linux.
    """
    parts = [p for p in path.split("/") if p != ""]
    if path.endswith("/") and parts:
        parts.append(".")
    return parts


def _collapse_tail(names, tail):
    # type: (List[str], Iterable[str]) -> List[str]
    """Append the unresolved ``tail`` to ``names``, collapsing ``.``/``..``."""
    out = list(names)
    for part in tail:
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        out.append(part)
    return out


def resolve_in_jail(jail, path):
    # type: (str, str) -> Resolution
    """Resolve ``path`` as a process chrooted at ``jail`` would.

    The walk is component by component with ``os.lstat``. A symlink's target
    is resolved relative to the directory holding the link; an absolute target
    restarts at the jail root; ``..`` at the jail root stays at the root; more
    than :data:`MAXSYMLINKS` symlinks give ``error='ELOOP'``. The final
    component is followed if it is a symlink (as ``stat``/``connect`` do).

    A relative ``path`` is taken relative to the jail root: httpd's children
    ``chdir("/")`` after ``chroot``, and httpd makes the paths this tool cares
    about absolute before use.

    Nothing outside ``jail`` is ever looked at: each ``lstat``/``readlink`` is
    on ``jail`` + a canonical in-jail path (the jail path itself may contain
    symlinks on the host; those are the jail's identity, as for ``chroot()``).
    Bind mounts are followed by the kernel, as they are for httpd.
    """
    jail = _norm_jail(jail)
    todo = _split(path)
    todo.reverse()  # a stack: pop() gives the next component
    names = []  # type: List[str]
    components = []  # type: List[Tuple[str, str]]
    seen = set()  # type: Set[str]
    links = 0

    def searched(dir_names):
        # type: (List[str]) -> None
        view = _view(dir_names)
        if view not in seen:
            seen.add(view)
            components.append((view, _host(jail, dir_names)))

    def result(exists, missing_from, error, tail=()):
        # type: (bool, Optional[str], Optional[str], Iterable[str]) -> Resolution
        final = _collapse_tail(names, tail)
        return Resolution(_view(final), _host(jail, final), exists,
                          missing_from, error, components, jail)

    while todo:
        name = todo.pop()
        if name == ".":
            # '.' and a trailing '/' require the current object to be a dir
            continue
        if name == "..":
            # names only ever holds real directories (checked below), so the
            # parent is the textual parent; '..' at the root stays there.
            searched(names)
            if names:
                names.pop()
            continue
        searched(names)
        candidate = names + [name]
        host = _host(jail, candidate)
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return result(False, _view(candidate), None,
                          [name] + list(reversed(todo)))
        except NotADirectoryError:
            return result(False, None, "ENOTDIR", [name] + list(reversed(todo)))
        except PermissionError:
            return result(False, None, "EACCES", [name] + list(reversed(todo)))
        except OSError as exc:  # ENAMETOOLONG and friends: report, don't crash
            return result(False, None, _errname(exc),
                          [name] + list(reversed(todo)))
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAXSYMLINKS:
                return result(False, None, "ELOOP", [name] + list(reversed(todo)))
            try:
                target = os.readlink(host)
            except OSError as exc:
                return result(False, None, _errname(exc),
                              [name] + list(reversed(todo)))
            if target == "":
                # Linux: an empty symlink target gives ENOENT
                return result(False, _view(candidate), None,
                              list(reversed(todo)))
            if target.startswith("/"):
                names = []
            parts = _split(target)
            # an explicit trailing '/' in the original lookup is kept in todo
            todo.extend(reversed(parts))
            continue
        names = candidate
        if todo and not stat.S_ISDIR(st.st_mode):
            return result(False, None, "ENOTDIR", list(reversed(todo)))

    # The whole path resolved.
    try:
        st = os.lstat(_host(jail, names))
        is_dir = stat.S_ISDIR(st.st_mode)
    except OSError:
        is_dir = False
    if is_dir:
        searched(names)
    return result(True, None, None)


def _errname(exc):
    # type: (OSError) -> str
    return errno.errorcode.get(exc.errno or 0, "EIO")


def resolve_on_host(path):
    # type: (str) -> Resolution
    """:func:`resolve_in_jail` with the jail at ``/``: the host view."""
    return resolve_in_jail("/", path)


def same_directory(a_host_path, b_host_path):
    # type: (Optional[str], Optional[str]) -> Optional[bool]
    """Whether two host paths are the same directory (``st_dev``/``st_ino``).

    Uses ``os.stat`` (follows links; the inputs are normally already resolved
    ``host_path`` values). Returns None when either is None or cannot be
    stat'ed, so "unknown" is never confused with "different".
    """
    if a_host_path is None or b_host_path is None:
        return None
    try:
        a = os.stat(a_host_path)
        b = os.stat(b_host_path)
    except OSError:
        return None
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def first_unsearchable(components, uid, gid, groups=()):
    # type: (Iterable[Tuple[str, str]], int, int, Iterable[int]) -> Optional[str]
    """The first directory on the path that ``uid``/``gid``/``groups`` cannot search.

    ``components`` is :attr:`Resolution.components`. Returns that directory's
    in-view path (the first element of the pair), or None when every
    directory is searchable.

    Classic Unix permission classes on ``lstat`` mode bits: owner class if
    ``st_uid == uid`` (then only the owner ``x`` bit counts, even if "other"
    has ``x``), else group class if ``st_gid`` is ``gid`` or one of
    ``groups``, else other. uid 0 can always search (``CAP_DAC_READ_SEARCH``).

    Not modelled: POSIX ACLs, and mandatory access control (SELinux/AppArmor
    denials also show up as ``(13)Permission denied``). A directory that
    cannot be lstat'ed is skipped (the resolution already reported it).
    """
    if uid == 0:
        return None
    group_set = set(groups)
    group_set.add(gid)
    for view, host in components:
        try:
            st = os.lstat(host)
        except OSError:
            continue
        mode = st.st_mode
        if st.st_uid == uid:
            ok = bool(mode & stat.S_IXUSR)
        elif st.st_gid in group_set:
            ok = bool(mode & stat.S_IXGRP)
        else:
            ok = bool(mode & stat.S_IXOTH)
        if not ok:
            return view
    return None


def _user_name(uid):
    # type: (int) -> str
    try:
        import pwd

        return "uid %d (%s)" % (uid, pwd.getpwuid(uid).pw_name)
    except (ImportError, KeyError):
        return "uid %d" % uid


def _group_name(gid):
    # type: (int) -> str
    try:
        import grp

        return "gid %d (%s)" % (gid, grp.getgrgid(gid).gr_name)
    except (ImportError, KeyError):
        return "gid %d" % gid


def _primary_gids(uids):
    # type: (Iterable[int]) -> Set[int]
    gids = {0}
    try:
        import pwd
    except ImportError:  # pragma: no cover - not on Unix
        return gids
    for uid in uids:
        try:
            gids.add(pwd.getpwuid(uid).pw_gid)
        except KeyError:
            pass
    return gids


def writable_by_others(dir_host_path, allowed_uids, allowed_gids=None):
    # type: (str, Iterable[int], Optional[Iterable[int]]) -> Optional[str]
    """Why a user other than root and ``allowed_uids`` can write ``dir_host_path``.

    Returns a sentence (several joined by ``"; "``) or None when the
    directory is safe, or cannot be stat'ed (the caller reports missing
    directories separately).

    - owner-writable and owned by neither root nor an allowed uid;
    - group-writable and the group is not "allowed". Group membership is
      approximated: the allowed groups are ``allowed_gids`` if given, else
      the host primary groups of ``allowed_uids`` plus gid 0. (A group can
      have other members; this does not read ``/etc/group`` members.)
    - world-writable without the sticky bit: any user can remove or replace
      the socket;
    - world-writable with the sticky bit (like ``/tmp``): others cannot remove
      the socket, but can create names there (pre-create the predictable
      ``cgisock.<pid>`` before the daemon binds), so it is still unsafe for a
      socket directory.

    The directory is ``os.stat``'ed (links followed): pass a resolved path.
    """
    allowed = set(allowed_uids)
    allowed.add(0)
    if allowed_gids is None:
        gids = _primary_gids(allowed)
    else:
        gids = set(allowed_gids)
    try:
        st = os.stat(dir_host_path)
    except OSError:
        return None
    mode = st.st_mode
    reasons = []
    if st.st_uid not in allowed and mode & stat.S_IWUSR:
        reasons.append("owned by %s, which is not root or User, and owner-writable"
                       % _user_name(st.st_uid))
    if mode & stat.S_IWGRP and st.st_gid not in gids:
        reasons.append("group-writable by %s, which is not the primary group "
                       "of User or root" % _group_name(st.st_gid))
    if mode & stat.S_IWOTH:
        if mode & stat.S_ISVTX:
            reasons.append("world-writable with the sticky bit (mode %04o): other "
                           "users cannot delete the socket but can create files "
                           "in the directory, e.g. take the predictable "
                           "cgisock.<pid> name first; unsafe for a socket "
                           "directory" % stat.S_IMODE(mode))
        else:
            reasons.append("world-writable (mode %04o) without the sticky bit: "
                           "any user can remove or replace the socket"
                           % stat.S_IMODE(mode))
    if not reasons:
        return None
    return "; ".join(reasons)


class PathEscapesRoot(ValueError):
    """Raised by :func:`open_within` when a path resolves outside its root."""


def _under(root, path):
    # type: (str, str) -> bool
    if root == "/":
        return path.startswith("/")
    return path == root or path.startswith(root.rstrip("/") + "/")


def is_within(root, path, jail=None):
    # type: (str, str, Optional[str]) -> bool
    """Whether ``path`` still lies under ``root`` after following every symlink.

    Host view (``jail`` None): both are made real with ``os.path.realpath``
    (a relative ``path`` is taken relative to ``root``). Jail view: ``root``
    and ``path`` are in-jail paths, both resolved with
    :func:`resolve_in_jail` semantics, and the canonical in-jail paths are
    compared. A path that does not exist counts by where its missing tail
    would be. Used before reading a config file that must not be taken from
    outside a given tree (for example a symlink in a jail copy pointing to
    the host's ``/etc``).
    """
    if jail is None:
        real_root = os.path.realpath(root)
        real = os.path.realpath(os.path.join(root, path))
        return _under(real_root, real)
    r = resolve_in_jail(jail, root)
    p = resolve_in_jail(jail, path if path.startswith("/")
                        else r.view_path.rstrip("/") + "/" + path)
    if p.error is not None:
        return False
    return _under(r.view_path, p.view_path)


def open_within(root, path, jail=None, mode="rb"):
    """Open ``path`` for reading only if it resolves under ``root``.

    With ``jail``, ``path`` is an in-jail path and the file opened is the
    resolved ``host_path`` (so an absolute symlink is never read from the
    host). Raises :class:`PathEscapesRoot` otherwise. There is a window
    between the check and the open; this is for reading configuration, not a
    security boundary.
    """
    if "w" in mode or "a" in mode or "+" in mode or "x" in mode:
        raise ValueError("open_within is for reading only")
    if not is_within(root, path, jail):
        raise PathEscapesRoot("%s resolves outside %s" % (path, root))
    if jail is None:
        return open(os.path.realpath(os.path.join(root, path)), mode)
    if not path.startswith("/"):
        path = resolve_in_jail(jail, root).view_path.rstrip("/") + "/" + path
    return open(resolve_in_jail(jail, path).host_path, mode)
