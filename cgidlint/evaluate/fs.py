"""Reading configuration files in the view httpd reads them in.

Configuration paths are strings in the server's view.  When the server runs
inside a jail (external chroot, or a config tree linted from a copy), that
view is rooted at ``read_root``: ``/etc/httpd/conf.d`` means
``<read_root>/etc/httpd/conf.d`` and a symlink inside the tree resolves inside
it.  Nothing here follows a link out of ``read_root``.
"""

import os
import stat
from typing import List, Optional

from cgidlint.paths.jail import resolve_in_jail


class ReadError(Exception):
    """A file httpd could not open; the message is httpd's wording."""


class ConfigFS(object):
    def __init__(self, read_root="/"):
        self.read_root = os.path.abspath(read_root) if read_root else "/"
        self._hosted = self.read_root == "/"
        self.mounts = []  # (server-view prefix, directory on this machine)
        self.provided = {}  # host path -> bytes read from elsewhere (stdin), in place of the file

    def provide(self, path, data):
        """Serve ``data`` as the contents of the server-view ``path`` (a
        config piped on stdin is read as if it were that file)."""
        self.provided[self.host_path(path)] = data

    def mount(self, view_prefix, host_dir):
        """Read ``view_prefix`` from ``host_dir``: a config tree copied away
        from its ServerRoot (a repository checkout) is read as if it were
        there."""
        self.mounts.append((view_prefix.rstrip("/") or "/", os.path.abspath(host_dir)))
        self._hosted = False

    def host_path(self, path):
        # type: (str) -> str
        """Where a server-view path is on this machine."""
        for prefix, host in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return resolve_in_jail(host, path[len(prefix):] or "/").host_path
        if self.read_root == "/":
            return path
        return resolve_in_jail(self.read_root, path).host_path

    def view_path(self, host_path):
        # type: (str) -> str
        """The server-view path of a host path under ``read_root``."""
        if self._hosted:
            return host_path
        for prefix, host in self.mounts:
            if host_path == host or host_path.startswith(host + "/"):
                return prefix.rstrip("/") + host_path[len(host):] or "/"
        rel = os.path.relpath(host_path, self.read_root)
        return "/" if rel == "." else "/" + rel

    def _stat(self, path, follow=True):
        try:
            hp = self.host_path(path)
            return os.stat(hp) if follow else os.lstat(hp)
        except (OSError, ValueError):
            return None

    def exists(self, path):
        return self._stat(path) is not None

    def is_dir(self, path):
        st = self._stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def read(self, path):
        # type: (str) -> bytes
        """The bytes of a config file, with httpd's checks (``ap_pcfg_openfile``):
        regular files and /dev/null only, so a FIFO or a device never blocks us."""
        hp = self.host_path(path)
        if hp in self.provided:
            return self.provided[hp]
        try:
            st = os.stat(hp)
        except OSError as e:
            raise ReadError("Could not open configuration file %s: %s" % (path, os.strerror(e.errno)))
        if not stat.S_ISREG(st.st_mode) and hp != "/dev/null":
            raise ReadError("Access to file %s denied by server: not a regular file" % path)
        try:
            fd = os.open(hp, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as e:
            raise ReadError("Could not open configuration file %s: %s" % (path, os.strerror(e.errno)))
        try:
            st2 = os.fstat(fd)
            if not stat.S_ISREG(st2.st_mode) and hp != "/dev/null":
                raise ReadError("Access to file %s denied by server: not a regular file" % path)
            # One read of the whole file (one more byte than its size, so a
            # file that grew meanwhile is read on to its end).
            want = min(st2.st_size + 1, 1 << 30)  # within what one read() returns
            data = os.read(fd, want)
            if len(data) < want:
                return data
            chunks = [data]
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        except OSError as e:
            raise ReadError("Could not open configuration file %s: %s" % (path, os.strerror(e.errno)))
        finally:
            os.close(fd)

    def listdir(self, path):
        # type: (str) -> Optional[List[os.DirEntry]]
        """Directory entries (not sorted) or raise OSError."""
        hp = self.host_path(path)
        with os.scandir(hp) as it:
            return list(it)
