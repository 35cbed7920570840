"""What rules see: the evaluated project, its two views, and the cgid socket.

Computed once per lint and shared, so each rule stays a small function of
facts (mod_cgid active? which socket path? which view binds, which connects?).
"""

import os
from typing import List, Optional

from cgidlint.evaluate.model import CONDITIONAL, Directive
from cgidlint.paths.runtime import DEFAULT_SCRIPTSOCK, effective_socket_path, runtime_directory
from cgidlint.paths.server import CHROOTDIR, build_views, resolve_user

_CGI_HANDLERS = ("cgi-script",)


class CgidSocket(object):
    """The effective ``ScriptSock`` and why mod_cgid is (not) in play."""

    def __init__(self, project):
        cfg = project.config
        self.loaded = "cgid_module" in cfg.modules
        self.load_directive = cfg.module_lines.get("cgid_module")  # type: Optional[Directive]
        mpm = cfg.mpm
        self.mpm = mpm
        # mod_cgid under prefork still starts its daemon, but rules.md
        # scopes CG1xx to threaded MPMs, where distributions load it.
        self.threaded = mpm in (None, "event", "worker")
        self.directive = cfg.last("ScriptSock")  # type: Optional[Directive]
        self.arg = self.directive.arg(0) if self.directive is not None else None
        rundir_directive = cfg.runtime_dir_directive
        if project.options.runtime_dir and not cfg.runtime_dir:
            self.runtime_dir_source = "--runtime-dir %s" % project.options.runtime_dir
        elif cfg.runtime_dir:
            self.runtime_dir_source = "DefaultRuntimeDir at %s:%d" % (rundir_directive.file, rundir_directive.line)
        else:
            self.runtime_dir_source = "ServerRoot %s + runtime dir %r (%s; build: %s)" % (
                cfg.server_root, project.runtime_base, project.runtime_base_source, project.build_reason)
        self.runtime_dir = runtime_directory(cfg.server_root, project.runtime_base, cfg.runtime_dir)
        self.path = effective_socket_path(self.arg, cfg.runtime_dir, cfg.server_root, project.runtime_base)
        self.dir = os.path.dirname(self.path.rstrip("/")) or "/"
        self._config = cfg
        self._serves_cgi = None

    def _cgi_handler(self):
        """The first directive that sends requests to a CGI handler, or None
        (the cheap kinds first: a 10,000-vhost tree has 10,000 Options)."""
        cfg = self._config
        for d in cfg.directives("ScriptAlias", "ScriptAliasMatch"):
            return d
        for d in cfg.directives("SetHandler", "AddHandler"):
            if d.words and d.words[0].lower() == b"cgi-script":
                return d
        for d in cfg.directives("Options"):
            if any(w.lower() in (b"execcgi", b"+execcgi") for w in d.words):
                return d
        return None

    @property
    def active(self):
        """mod_cgid's daemon runs (it binds its socket whether or not CGI is used)."""
        return self.loaded and self.threaded

    @property
    def serves_cgi(self):
        """Requests reach mod_cgid: the daemon runs and some CGI handler is on."""
        if not self.active:
            return False
        if self._serves_cgi is None:
            self._serves_cgi = self._cgi_handler() is not None
        return self._serves_cgi

    @property
    def anchor(self):
        """Where findings about the socket are reported."""
        return self.directive or self.load_directive

    def describe(self):
        if self.arg is None:
            how = "the default ScriptSock %r" % DEFAULT_SCRIPTSOCK
        else:
            how = "ScriptSock %s" % self.arg
        if self.arg is None or not self.arg.startswith("/"):
            how += " made absolute against %s" % self.runtime_dir_source
        return how

    def insertion_point(self):
        """Where a missing ``ScriptSock`` goes: inside an active
        ``<IfModule cgid_module>``/``<IfModule mod_cgid.c>``, else after the
        ``LoadModule cgid_module`` line."""
        for d in self._conditionals():
            return d, "in_block"
        return self.load_directive, "after_load"

    def _conditionals(self):
        root = self.load_directive
        if root is None:
            return
        top = root
        while top.parent is not None:
            top = top.parent
        for d in top.walk():
            # a negated test keeps its "!" in the first word, so it never matches
            if d.kind == CONDITIONAL and d.lname == "<ifmodule" and d.condition_true and d.words and \
                    d.words[0] in (b"cgid_module", b"mod_cgid.c"):
                yield d


class LintContext(object):
    def __init__(self, project, shared_dirs=(), cwd=None):
        self.project = project
        self.config = project.config
        self.views = build_views(project)
        self.cgid = CgidSocket(project)
        self.shared_dirs = [os.path.normpath(d) for d in shared_dirs]
        self._user = None
        self.cwd = cwd

    def display_path(self, file):
        """A file path as users know it: on this machine, not in the jail's view."""
        if file is None:
            return None
        fs = self.project.fs
        if (fs.read_root != "/" or fs.mounts) and file.startswith("/"):
            return fs.host_path(file)
        return file

    @property
    def user(self):
        if self._user is None:
            cfg = self.config
            u = cfg.last("User")
            g = cfg.last("Group")
            etc_root = "/" if self.views.mode == CHROOTDIR else self.project.fs.read_root
            self._user = resolve_user(u.arg(0) if u else None, g.arg(0) if g else None, etc_root) or False
        return self._user or None

    def is_declared_shared(self, path):
        path = os.path.normpath(path)
        return any(path == d or path.startswith(d.rstrip("/") + "/") for d in self.shared_dirs)
