"""From a path on the command line to an evaluated configuration.

Finds the main config file, decides which filesystem view it is read in
(the host, or a jail the config lives in), which httpd build it is for, and
runs the build and walk phases.  Everything downstream (the two-view model,
rules, reporters) starts from the ``Project`` this returns.
"""

import gc
import os
import re
import stat
from typing import Dict, List, Optional, Sequence

from cgidlint.evaluate.build import DEFAULT_HTTPD_VERSION, Builder
from cgidlint.evaluate.envvars import read_envvars
from cgidlint.evaluate.fs import ConfigFS
from cgidlint.evaluate.model import Config, ConfigError
from cgidlint.evaluate.walk import walk
from cgidlint.paths.runtime import (BUILDS, explain_runtime_dir_from_V, guess_build, guess_build_from_V,
                                    parse_httpd_V)

MAIN_CANDIDATES = ("conf/httpd.conf", "httpd.conf", "apache2.conf")


class UsageError(Exception):
    """Bad input: reported with exit code 2 and no traceback."""


class Options(object):
    def __init__(self, root=None, defines=(), httpd=None, runtime_dir=None, server_root=None,
                 shared_dirs=(), build=None, env=None, pre_directives=(), stdin_data=None, stdin_filename=None,
                 cache=False):
        self.root = root                    # explicit external-chroot jail (--root)
        self.defines = list(defines)        # -D NAME
        self.httpd = httpd                  # --httpd BINARY
        self.runtime_dir = runtime_dir      # --runtime-dir DIR
        self.server_root = server_root      # --server-root DIR (httpd -d)
        self.shared_dirs = list(shared_dirs)
        self.build = build                  # --build KEY
        self.env = env                      # environment for ${VAR}; default os.environ
        self.pre_directives = list(pre_directives)
        # PATH "-": the main config's bytes, read as if they were the file
        # stdin_filename (default <stdin> in the working directory).
        self.stdin_data = stdin_data        # type: Optional[bytes]
        self.stdin_filename = stdin_filename
        # Reuse an evaluation cached by an earlier run (cgidlint.cache); the
        # command line has it on unless --no-cache.
        self.cache = cache


class gc_paused(object):
    """No cyclic garbage collection inside the block.

    Reading builds a tree of ~2 objects per config line and frees none of
    them: the collector would only rescan it, again and again (a third of
    the time on a 100k-line tree).  On the way out, what was allocated goes
    straight to the oldest generation (freeze/unfreeze move lists, they scan
    nothing), so re-enabling does not start with a scan of it either.
    ``keep``: leave it out of collection for good (a process about to exit
    then neither scans nor frees it).
    """

    def __init__(self, keep=False):
        self.keep = keep

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc_info):
        gc.freeze()
        if not self.keep:
            gc.unfreeze()
        if self.was_enabled:
            gc.enable()
        return False


class Project(object):
    """Everything known about one configuration after evaluation."""

    def __init__(self, config, fs, options, build, build_reason, runtime_base, runtime_base_source,
                 root_inferred, main_host_path):
        self.config = config                # type: Config
        self.fs = fs                        # type: ConfigFS
        self.options = options
        self.build = build                  # key into BUILDS
        self.build_reason = build_reason
        self.runtime_base = runtime_base    # compiled runtime dir (rel or abs) in use
        self.runtime_base_source = runtime_base_source
        self.root_inferred = root_inferred
        self.main_host_path = main_host_path
        self.walk_errors = []               # type: List[ConfigError]
        self.lint_context = None            # set by cgidlint.lint.run_rules

    @property
    def errors(self):
        return [e for e in self.config.errors + self.walk_errors if e.severity == "error"]


def find_main_config(path):
    # type: (str) -> str
    if os.path.isdir(path):
        for cand in MAIN_CANDIDATES:
            p = os.path.join(path, cand)
            if os.path.isfile(p):
                return p
        raise UsageError("%s: no conf/httpd.conf, httpd.conf or apache2.conf in this directory" % path)
    if not os.path.lexists(path):
        raise UsageError("%s: No such file or directory" % path)
    return path


_SERVER_ROOT = re.compile(rb'(?im)^[ \t]*ServerRoot[ \t]+("([^"\n]*)"|\'([^\'\n]*)\'|([^\s"\']+))[ \t\r]*$')


def _scan_server_root(data):
    # type: (bytes) -> Optional[str]
    """The first ``ServerRoot`` argument, read textually (used only to decide
    where the config tree lives before reading it for real)."""
    m = _SERVER_ROOT.search(data)
    if not m:
        return None
    arg = m.group(2) or m.group(3) or m.group(4)
    if not arg or b"$" in arg:
        return None
    return os.fsdecode(arg)


def _layout_files(main_real):
    """Config files next to the main one that tell builds apart, for
    :func:`cgidlint.paths.runtime.guess_build` before the tree is read."""
    d = os.path.dirname(main_real)
    top = os.path.dirname(d) if os.path.basename(d) == "conf" else d
    mods = os.path.join(top, "conf.modules.d")
    try:
        return [os.path.join(mods, n) for n in sorted(os.listdir(mods))]
    except OSError:
        return []


def _strip_suffix(real, suffix):
    """``real`` minus a trailing path ``suffix`` (both absolute), or None."""
    suffix = suffix.rstrip("/")
    if suffix in ("", "/"):
        return None
    if real == suffix:
        return "/"
    if real.endswith(suffix) and real[len(real) - len(suffix)] == "/":
        return real[:len(real) - len(suffix)] or "/"
    return None


def _tree_top(main_real):
    """The directory a config file's tree hangs from: the parent of ``conf/``
    for ``conf/httpd.conf`` layouts, else the file's directory."""
    d = os.path.dirname(main_real)
    return os.path.dirname(d) if os.path.basename(d) == "conf" else d


def _httpd_info(binary):
    import subprocess  # only with --httpd: not on every lint's start-up path
    try:
        out = subprocess.run([binary, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=20).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as e:
        raise UsageError("--httpd %s: cannot run it: %s" % (binary, e))
    return parse_httpd_V(out)


def stdin_main_path(options):
    """Where a config read from stdin is taken to live: its Includes and
    ServerRoot are worked out from there."""
    return os.path.abspath(options.stdin_filename or "<stdin>")


def _read_head(main, main_real):
    try:
        st = os.stat(main_real)
    except OSError as e:
        raise UsageError("%s: %s" % (main, e.strerror))
    if not stat.S_ISREG(st.st_mode):
        # httpd refuses these too; opening a FIFO would block forever.
        raise UsageError("%s: not a regular file" % main)
    try:
        with open(main_real, "rb") as f:
            return f.read(1 << 20)
    except (IOError, OSError) as e:
        raise UsageError("%s: %s" % (main, e.strerror or e))


def load(path, options=None):
    # type: (str, Optional[Options]) -> Project
    options = options or Options()
    from_stdin = path == "-" and options.stdin_data is not None
    if from_stdin:
        main = stdin_main_path(options)
        main_real = os.path.realpath(main)
        head = options.stdin_data
    else:
        main = find_main_config(path)
        main_real = os.path.realpath(main)
        head = _read_head(main, main_real)

    scanned_root = _scan_server_root(head)
    build, build_reason = guess_build(scanned_root, main_real, _layout_files(main_real))
    if options.build:
        if options.build not in BUILDS:
            raise UsageError("--build must be one of %s" % ", ".join(sorted(BUILDS)))
        build, build_reason = options.build, "--build %s" % options.build
    runtime_base = BUILDS[build].rel_runtime_dir
    runtime_source = "compiled default of %s" % BUILDS[build].label
    info = None
    if options.httpd:
        info = _httpd_info(options.httpd)
        if not options.build:
            build, build_reason = guess_build_from_V(info)
            runtime_base = BUILDS[build].rel_runtime_dir
            runtime_source = "compiled default of %s" % BUILDS[build].label
        rd, why = explain_runtime_dir_from_V(info)
        if rd:
            runtime_base, runtime_source = rd, "%s -V: %s" % (options.httpd, why)
    if options.runtime_dir:
        runtime_base, runtime_source = options.runtime_dir, "--runtime-dir"

    # Which view the config is read in, and its ServerRoot.
    server_root = options.server_root or scanned_root
    if server_root is None and info:
        root_define = info.get("defines", {}).get("HTTPD_ROOT")
        server_root = root_define if isinstance(root_define, str) else None
    root_inferred = False
    read_root = options.root
    rel_main = None
    live = True
    if server_root is None:
        default_root = BUILDS[build].server_root
        cfg_rel = BUILDS[build].config_file
        if not cfg_rel.startswith("/") and _strip_suffix(main_real, os.path.join(default_root, cfg_rel)):
            server_root = default_root
        elif not cfg_rel.startswith("/") and main_real.endswith("/" + cfg_rel):
            server_root = main_real[:-len(cfg_rel) - 1] or "/"
            live = False
        else:
            server_root = _tree_top(main_real)
            live = False
    if read_root is None and server_root.startswith("/"):
        # The config lives inside a jail when its real path is
        # <jail><ServerRoot>/<relative location>.
        d = os.path.dirname(main_real)
        while True:
            prefix = _strip_suffix(d, server_root)
            if prefix and prefix != "/":
                read_root, root_inferred = prefix, True
                break
            if d == "/" or d == os.path.dirname(d):
                break
            d = os.path.dirname(d)
    if read_root is not None:
        read_root = os.path.realpath(read_root)
        if not os.path.isdir(read_root):
            raise UsageError("--root %s: not a directory" % read_root)
        if not (main_real + "/").startswith(read_root.rstrip("/") + "/"):
            raise UsageError("%s is not inside the jail %s" % (main, read_root))
        rel_main = "/" + os.path.relpath(main_real, read_root)
    fs = ConfigFS(read_root or "/")
    main_view = rel_main or main_real
    if server_root.startswith("/") and not fs.is_dir(server_root) and options.root is None:
        # A copy of a config tree (a repository checkout): its ServerRoot is
        # not on this machine, so read ServerRoot from where the tree is.
        fs.mount(server_root, _tree_top(main_real))
        main_view = fs.view_path(main_real)
        live = False

    env = {}  # type: Dict[bytes, bytes]
    source_env = options.env if options.env is not None else os.environ
    envvars = os.path.join(os.path.dirname(main_real), "envvars")
    if os.path.isfile(envvars):
        # Lookup order: Define table, then the environment, then envvars.
        env.update(read_envvars(envvars, os.path.dirname(main_view)))
    for k, v in source_env.items():
        env[os.fsencode(k)] = os.fsencode(v)

    if from_stdin:
        fs.provide(main_view, options.stdin_data)
    pre_directives = [os.fsencode(p) for p in options.pre_directives]
    with gc_paused():
        config, walk_errors = _evaluate(fs, env, options.defines, build, server_root, pre_directives, live,
                                        main_view, options.cache, httpd_version(info))
    project = Project(config, fs, options, build, build_reason, runtime_base, runtime_source, root_inferred,
                      main_real)
    project.live = live
    project.walk_errors = walk_errors
    return project


def httpd_version(info):
    """The (major, minor, patch) that ``<IfVersion>`` tests: the binary's
    from ``--httpd``'s -V output, else the 2.4 release the directive table
    was measured on."""
    version = (info or {}).get("version") or ""
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(x) for x in m.groups()) if m else DEFAULT_HTTPD_VERSION


def _evaluate(fs, env, defines, build, server_root, pre_directives, live, main_view, use_cache,
              version=None):
    """Build and walk (cgidlint.evaluate), or their cached outcome."""
    store = None
    if use_cache:
        from cgidlint import cache
        store = cache.Store.open()
    if store is None:
        builder = Builder(fs, defines=defines, env=env, build=build, server_root=server_root,
                          pre_directives=pre_directives, httpd_version=version or DEFAULT_HTTPD_VERSION)
        builder.live = live
        config = builder.read_main(main_view)
        return config, (walk(config, build) if not config.errors else [])
    key = store.key((fs.read_root, fs.mounts, list(defines), build, server_root, pre_directives, live, main_view,
                     version))
    hit = store.lookup(key, fs, env)
    if hit is not None:
        return hit
    recording = cache.RecordingFS(fs)
    builder = Builder(recording, defines=defines, env=env, build=build, server_root=server_root,
                      pre_directives=pre_directives, httpd_version=version or DEFAULT_HTTPD_VERSION)
    builder.live = live
    config = builder.read_main(main_view)
    walk_errors = walk(config, build) if not config.errors else []
    store.save(key, recording, builder.env_lookups, config, walk_errors)
    return config, walk_errors
