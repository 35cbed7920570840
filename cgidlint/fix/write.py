"""Write a fixed configuration file atomically, or refuse.

The new bytes go to a temporary file in the same directory, which is
fsynced, given the original's mode and owner, and renamed over the
original (``os.replace``): a reader (or httpd reloading) sees either the old
file or the new one, and an interruption before the rename leaves the
original untouched.  A file that changed since it was linted is refused, and
so is a symlink that leads out of the jail or the config tree.
"""

import os
import stat
import tempfile
from typing import Iterable, Optional

TMP_SUFFIX = ".cgidlint-tmp"

# Tests set this to interrupt a write between the temporary file and the rename.
_before_rename = None


class WriteRefused(Exception):
    """The file was not written (and is unchanged)."""


def _inside(path, root):
    root = root.rstrip("/") or "/"
    return root == "/" or path == root or path.startswith(root + "/")


def target_path(path, allowed_roots):
    # type: (str, Iterable[str]) -> str
    """The real file to replace for ``path``.  Writing goes to the file a
    symlink points to (the link stays a link), but only when that file is
    inside one of ``allowed_roots`` (real paths)."""
    apath = os.path.normpath(os.path.abspath(path))
    real = os.path.realpath(apath)
    if real != apath:
        roots = [os.path.realpath(r) for r in allowed_roots if r]
        if not any(_inside(real, r) for r in roots):
            raise WriteRefused("%s is a symlink (or under one) to %s, outside the jail and the config tree (%s); "
                               "refusing to write through it" % (path, real, ", ".join(roots) or "none"))
    try:
        st = os.lstat(real)
    except OSError as e:
        raise WriteRefused("%s: %s" % (path, e.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused("%s: not a regular file" % path)
    return real


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_prefix(base, pid):
    return ".%s.%d." % (base, pid)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True     # exists, owned by someone else
    return True


def remove_stale_temps(directory, base):
    """Remove the temporary files an interrupted write (SIGKILL, power loss)
    left next to ``base``: a directory ``Include`` (``Include conf.d``, not
    ``conf.d/*.conf``) would make httpd read them.  Only files whose
    writing process is gone; returns their names."""
    removed = []
    head = "." + base + "."
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(head) and name.endswith(TMP_SUFFIX)):
            continue
        pid_text = name[len(head):].split(".", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        path = os.path.join(directory, name)
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass
    return removed


def _write_temp(directory, base, data, st):
    """A fsynced temporary file holding ``data`` with ``st``'s mode and owner.
    Its name carries our pid, so a later run can tell an orphan from a write
    in progress."""
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(base, os.getpid()), suffix=TMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))
            if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
                except OSError as e:
                    raise WriteRefused("cannot keep the owner %d:%d of %s: %s"
                                       % (st.st_uid, st.st_gid, os.path.join(directory, base), e.strerror))
            os.fsync(f.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(p):
    try:
        os.unlink(p)
    except OSError:
        pass


def atomic_write(path, new, expected, allowed_roots=(), backup=None, display=None):
    # type: (str, bytes, bytes, Iterable[str], Optional[str], Optional[str]) -> str
    """Replace the file at ``path`` by ``new`` if it still holds ``expected``.
    Returns the real path written.  ``backup``: a suffix; the old bytes are
    kept in ``<real path><suffix>``."""
    display = display or path
    real = target_path(path, allowed_roots)
    if _read(real) != expected:
        raise WriteRefused("%s changed since it was read; run cgidlint fix again" % display)
    st = os.stat(real)
    directory, base = os.path.split(real)
    remove_stale_temps(directory, base)
    if backup:
        btmp = _write_temp(directory, base, expected, st)
        try:
            os.replace(btmp, real + backup)
        except BaseException:
            _unlink(btmp)
            raise
    tmp = _write_temp(directory, base, new, st)
    try:
        if _before_rename is not None:
            _before_rename(tmp, real)
        # last look: someone may have written the file while we did
        if _read(real) != expected:
            raise WriteRefused("%s changed while it was being fixed; left as it is" % display)
        os.replace(tmp, real)
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(directory)
    return real
