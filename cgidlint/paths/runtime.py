"""Where httpd's runtime directory is, and the socket path mod_cgid computes.

All functions here are pure string operations, like httpd's own
``ap_server_root_relative``/``ap_runtime_dir_relative`` (which call
``apr_filepath_merge(..., APR_FILEPATH_TRUENAME)``; that flag does not resolve
symlinks on Unix). Nothing touches the filesystem except :func:`guess_build`,
which may read a config file it was given the name of.

Sources: design ``directive-views.md`` section 7 (runtime dir per distro),
httpd ``server/config.c`` (``ap_runtime_dir_relative``), ``server/core.c``
(``set_runtime_dir``), ``modules/generators/mod_cgid.c`` (``cgid_init``).
"""

import os
import re
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

__all__ = [
    "Build",
    "BUILDS",
    "DEFAULT_SCRIPTSOCK",
    "SUN_PATH_MAX",
    "SOCKET_PATH_KEEP",
    "apr_filepath_merge",
    "guess_build",
    "parse_httpd_V",
    "runtime_dir_from_V",
    "explain_runtime_dir_from_V",
    "guess_build_from_V",
    "runtime_directory",
    "effective_socket_path",
    "socket_path_with_pid",
    "socket_path_too_long",
    "truncated_socket_path",
]


class Build(NamedTuple):
    """One known httpd build: its compiled-in defaults."""

    key: str
    label: str
    #: ``DEFAULT_REL_RUNTIMEDIR``: relative to ServerRoot, or absolute.
    rel_runtime_dir: str
    #: default ``ServerRoot`` (``HTTPD_ROOT``, or what the init script passes).
    server_root: str
    #: ``SERVER_CONFIG_FILE`` as shipped (relative to ServerRoot if relative).
    config_file: str
    #: where the values come from (one sentence).
    evidence: str


BUILDS = {
    "source": Build(
        "source", "plain source build (default 'Apache' layout)", "logs",
        "/usr/local/apache2", "conf/httpd.conf",
        "httpd config.layout 'Apache': runtimedir ${localstatedir}/logs with "
        "localstatedir ${prefix}, so DEFAULT_REL_RUNTIMEDIR is 'logs'; the manual "
        "gives DefaultRuntimeDir's default as DEFAULT_REL_RUNTIMEDIR (logs/)."),
    "el7": Build(
        "el7", "CentOS 7 / RHEL 7 (httpd 2.4.6)", "/run/httpd",
        "/etc/httpd", "conf/httpd.conf",
        "httpd -V on RHEL 7 shows DEFAULT_PIDLOG=\"/run/httpd/httpd.pid\" and "
        "DUMP_RUN_CFG shows 'Mutex default: dir=\"/run/httpd/\"': the compiled "
        "runtime dir is absolute, so the /etc/httpd/run symlink is not used."),
    "el8": Build(
        "el8", "RHEL 8 / Rocky / Alma 8 (httpd 2.4.37)", "run",
        "/etc/httpd", "conf/httpd.conf",
        "EL8 config.layout has runtimedir ${prefix}/run with prefix /etc/httpd "
        "(same as EL9), and the package ships /etc/httpd/run -> /run/httpd."),
    "el9": Build(
        "el9", "RHEL 9 / Rocky / Alma 9 (httpd 2.4.57+)", "run",
        "/etc/httpd", "conf/httpd.conf",
        "EL9 SOURCES/config.layout: prefix /etc/httpd, runtimedir ${prefix}/run; "
        "the spec creates the absolute symlink /etc/httpd/run -> /run/httpd."),
    "fedora": Build(
        "fedora", "Fedora >= 19 / Amazon Linux 2023", "run",
        "/etc/httpd", "conf/httpd.conf",
        "httpd -V on Fedora and Amazon Linux shows DEFAULT_PIDLOG=\"run/httpd.pid\" "
        "(same packaging as EL9)."),
    "debian": Build(
        "debian", "Debian / Ubuntu apache2", "/var/run/apache2",
        "/etc/apache2", "apache2.conf",
        "Debian layout (empty prefix) gives DEFAULT_REL_RUNTIMEDIR /var/run/apache2; "
        "apache2 -t -D DUMP_RUN_CFG without DefaultRuntimeDir prints "
        "'Mutex default: dir=\"/var/run/apache2/\"'. The shipped apache2.conf sets "
        "DefaultRuntimeDir ${APACHE_RUN_DIR} from envvars."),
    "alpine": Build(
        "alpine", "Alpine apache2", "/var/run/apache2",
        "/var/www", "/etc/apache2/httpd.conf",
        "alpine.layout: runtimedir ${localstatedir}/run+ (the '+' appends /apache2), "
        "not under --prefix=/usr so it stays absolute; ServerRoot /var/www from the "
        "conf patch and init script (compiled value inferred, no -V seen)."),
}  # type: Dict[str, Build]

#: ``DEFAULT_SOCKET`` in mod_cgid.c: the ScriptSock default.
DEFAULT_SCRIPTSOCK = "cgisock"

#: ``sizeof(((struct sockaddr_un *)0)->sun_path)`` on Linux.
SUN_PATH_MAX = 108

#: How many bytes of a too-long socket path httpd keeps (AH01254). Verified on
#: Apache/2.4.71 (Debian): the socket is created with the first 107 bytes.
#: (The 2.4.6-2.4.62 source reads as if 108 bytes were kept,
#: ``tmp_sockname[sizeof(sun_path)] = '\0'``; not tested on such a binary.)
SOCKET_PATH_KEEP = SUN_PATH_MAX - 1


# ---------------------------------------------------------------------------
# apr_filepath_merge

def apr_filepath_merge(rootpath, addpath):
    # type: (Optional[str], str) -> str
    """``apr_filepath_merge(&out, rootpath, addpath, APR_FILEPATH_TRUENAME)`` on Unix.

    A textual merge, as in ``apr/file_io/unix/filepath.c``:

    - an absolute ``addpath`` ignores ``rootpath`` (leading ``/``s collapse to
      one);
    - otherwise ``rootpath`` is copied verbatim and ``/``-terminated
      (``None`` means the current directory, as in APR);
    - in ``addpath``, empty segments (``//``) and ``.`` are dropped, ``..``
      removes the previous segment (which may be part of ``rootpath``) and
      is a no-op at ``/``; a segment followed by ``/`` keeps its ``/``.

    No symlink is resolved (TRUENAME only matters on case-insensitive
    filesystems). Wildcards and nonexistent paths are accepted, as
    ``ap_runtime_dir_relative`` accepts those statuses.
    """
    if addpath.startswith("/"):
        path = "/"
        keptlen = 0
        add = addpath.lstrip("/")
    else:
        if rootpath is None:
            rootpath = os.getcwd()
        path = rootpath
        if path and not path.endswith("/"):
            path += "/"
        keptlen = len(path)
        add = addpath
    segs = add.split("/")
    for i, seg in enumerate(segs):
        has_next = i < len(segs) - 1  # a '/' follows this segment
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if path == "/":
                keptlen = 0
            elif path == "" or path == "../" or path.endswith("/../"):
                path += "../" if has_next else ".."
            else:
                path = path[:-1] if path.endswith("/") else path
                cut = path.rfind("/")
                path = path[:cut + 1] if cut >= 0 else ""
            if len(path) < keptlen:
                keptlen = len(path)
            continue
        path += seg + ("/" if has_next else "")
    return path


def _server_root_relative(server_root, path):
    # type: (str, str) -> str
    """``ap_server_root_relative``: ``path`` against ServerRoot, textually."""
    return apr_filepath_merge(server_root, path)


def _normalise_server_root(server_root):
    # type: (str) -> str
    """What ``set_server_root`` stores: the argument merged against nothing."""
    return apr_filepath_merge(None, server_root)


def runtime_directory(server_root, build_rel_runtime_dir, default_runtime_dir=None):
    # type: (str, str, Optional[str]) -> str
    """The directory ``ap_runtime_dir_relative`` puts relative names in.

    ``DefaultRuntimeDir`` if set (itself ServerRoot-relative when relative,
    as ``set_runtime_dir`` does), else ServerRoot + the build's
    ``DEFAULT_REL_RUNTIMEDIR`` (which is used as is when absolute).
    """
    root = _normalise_server_root(server_root)
    if default_runtime_dir:
        return apr_filepath_merge(None, _server_root_relative(root, default_runtime_dir))
    return _server_root_relative(root, build_rel_runtime_dir)


def effective_socket_path(scriptsock_arg, default_runtime_dir, server_root,
                          build_rel_runtime_dir):
    # type: (Optional[str], Optional[str], str, str) -> str
    """The socket path string httpd computes, without the ``.<pid>`` suffix.

    ``scriptsock_arg`` is the ``ScriptSock`` argument (None: the default
    ``cgisock``). An absolute argument is used as is (after APR's textual
    clean-up of ``//``, ``.`` and ``..``); a relative one is merged against
    :func:`runtime_directory`. Pure string operations: a symlink such as
    ``/etc/httpd/run -> /run/httpd`` is *not* followed here; each view
    follows it separately (resolve with :mod:`cgidlint.paths.jail`).

    httpd appends ``.<pid>`` before the merge (``ap_append_pid``); since the
    pid has no ``/`` that is the same as appending it afterwards, see
    :func:`socket_path_with_pid`.
    """
    arg = DEFAULT_SCRIPTSOCK if scriptsock_arg is None else scriptsock_arg
    rundir = runtime_directory(server_root, build_rel_runtime_dir,
                               default_runtime_dir)
    return apr_filepath_merge(rundir, arg)


# ---------------------------------------------------------------------------
# sun_path length

AnyPath = Union[str, bytes]


def _to_bytes(path):
    # type: (AnyPath) -> bytes
    if isinstance(path, bytes):
        return path
    return path.encode("utf-8", "surrogateescape")


def socket_path_with_pid(path, pid_digits=7, pid=None):
    # type: (AnyPath, int, Optional[int]) -> AnyPath
    """``path`` + ``.<pid>``, as the socket file is named.

    With ``pid`` None, a worst-case placeholder of ``pid_digits`` nines is
    used (Linux ``pid_max`` is at most 4194304: 7 digits).
    """
    suffix = "." + (str(pid) if pid is not None else "9" * pid_digits)
    if isinstance(path, bytes):
        return path + suffix.encode("ascii")
    return path + suffix


def socket_path_too_long(path):
    # type: (AnyPath) -> bool
    """Whether httpd would log AH01254 for this full socket path (with pid)."""
    return len(_to_bytes(path)) > SUN_PATH_MAX - 1


def truncated_socket_path(path, keep=SOCKET_PATH_KEEP):
    # type: (AnyPath, int) -> AnyPath
    """The socket path httpd actually uses (AH01254 truncation).

    Pass the full name including ``.<pid>``. A path of at most 107 bytes is
    returned unchanged; a longer one is cut to its first ``keep`` bytes
    (default 107, verified on 2.4.71). Bytes count, not characters; a ``str``
    is encoded as UTF-8 (undecodable bytes via ``surrogateescape``) and the
    result decoded the same way, so a cut inside a multi-byte character
    comes back as surrogate escapes.
    """
    raw = _to_bytes(path)
    if len(raw) <= SUN_PATH_MAX - 1:
        return path
    cut = raw[:keep]
    if isinstance(path, bytes):
        return cut
    return cut.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# httpd -V

_V_LINE = re.compile(r"^\s*([A-Za-z' ]+?):\s*(.*?)\s*$")
_V_DEFINE = re.compile(r'^\s*-D\s+([A-Za-z_][A-Za-z0-9_]*)(?:="(.*)"|=(\S*))?(.*)$')


def parse_httpd_V(text):
    # type: (str) -> Dict[str, object]
    """Parse the output of ``httpd -V`` / ``apache2 -V``.

    Returns a dict with:

    - ``server_version`` (``"Apache/2.4.6 (CentOS)"``) or None;
    - ``product`` (``"Apache/2.4.6"``), ``version`` (``"2.4.6"``),
      ``platform`` (``"CentOS"``: the parenthesised part) or None;
    - ``server_built``, ``architecture``, ``mmn`` or None;
    - ``mpm`` (``"event"``; None when the line is absent or empty, as when
      the config failed to load), ``mpm_threaded``, ``mpm_forked``
      (the text after the colon, or None);
    - ``defines``: ``{name: value}`` for every ``-D`` line; the value is the
      unquoted string, or True for a bare flag (``-D APR_HAS_MMAP``); the
      trailing comment in ``-D APR_HAVE_IPV6 (IPv4-mapped ...)`` is dropped;
    - ``messages``: lines before ``Server version`` (warnings and errors such
      as ``AH00111`` or syntax errors, which ``-V`` prints when the config
      does not load).
    """
    info = {
        "server_version": None, "product": None, "version": None,
        "platform": None, "server_built": None, "architecture": None,
        "mmn": None, "mpm": None, "mpm_threaded": None, "mpm_forked": None,
        "defines": {}, "messages": [],
    }  # type: Dict[str, object]
    defines = {}  # type: Dict[str, object]
    messages = []  # type: List[str]
    info["defines"] = defines
    info["messages"] = messages
    in_mpm = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        m = _V_DEFINE.match(line)
        if m:
            name = m.group(1)
            if m.group(2) is not None:
                defines[name] = m.group(2)
            elif m.group(3):
                defines[name] = m.group(3)
            else:
                defines[name] = True
            in_mpm = False
            continue
        m = _V_LINE.match(line)
        key = m.group(1).strip().lower() if m else ""
        value = m.group(2) if m else ""
        if key == "server version":
            info["server_version"] = value
            vm = re.match(r"^(\S+?/(\S+))(?:\s+\((.*)\))?", value)
            if vm:
                info["product"] = vm.group(1)
                info["version"] = vm.group(2)
                info["platform"] = vm.group(3)
        elif key == "server built":
            info["server_built"] = value
        elif key == "architecture":
            info["architecture"] = value
        elif key == "server's module magic number":
            info["mmn"] = value
        elif key == "server mpm":
            info["mpm"] = value or None
            in_mpm = True
        elif in_mpm and key == "threaded":
            info["mpm_threaded"] = value
        elif in_mpm and key == "forked":
            info["mpm_forked"] = value
        elif info["server_version"] is None:
            messages.append(line)
    return info


def _is_debian_V(info):
    # type: (Mapping[str, object]) -> bool
    platform = str(info.get("platform") or "")
    if re.search(r"\b(Debian|Ubuntu|Raspbian)\b", platform):
        return True
    defines = info.get("defines") or {}
    return (defines.get("SERVER_CONFIG_FILE") == "apache2.conf"  # type: ignore
            and defines.get("HTTPD_ROOT") == "/etc/apache2")  # type: ignore


def explain_runtime_dir_from_V(info):
    # type: (Mapping[str, object]) -> Tuple[Optional[str], str]
    """``DEFAULT_REL_RUNTIMEDIR`` read from parsed ``-V`` output, with the reason.

    ``DEFAULT_PIDLOG`` is defined as ``DEFAULT_REL_RUNTIMEDIR "/httpd.pid"``
    upstream, so its dirname is the compiled runtime dir (``"run"``,
    ``"logs"`` relative to ServerRoot, or absolute ``"/run/httpd"``). Returns
    ``(None, reason)`` when that does not hold or the value is absent:
    Debian's ``fhs_compliance.patch`` hard-codes ``DEFAULT_PIDLOG``
    (``/run/apache2.pid``) so ``-V`` does not show the runtime dir there.
    """
    defines = info.get("defines") or {}
    pidlog = defines.get("DEFAULT_PIDLOG")  # type: ignore
    if _is_debian_V(info):
        return None, ("Debian/Ubuntu build (%s): fhs_compliance.patch hard-codes "
                      "DEFAULT_PIDLOG (%s), so -V does not show the runtime dir; "
                      "the Debian layout's is /var/run/apache2"
                      % (info.get("server_version") or "apache2.conf layout", pidlog))
    if not isinstance(pidlog, str) or not pidlog:
        return None, "httpd -V shows no DEFAULT_PIDLOG"
    head = pidlog.rsplit("/", 1)[0] if "/" in pidlog else ""
    if head == "" and pidlog.startswith("/"):
        head = "/"
    if not head:
        return None, ("DEFAULT_PIDLOG=%r has no directory part; cannot tell the "
                      "runtime dir" % pidlog)
    return head, ("dirname of DEFAULT_PIDLOG=%r (DEFAULT_PIDLOG is "
                  "DEFAULT_REL_RUNTIMEDIR \"/httpd.pid\")" % pidlog)


def runtime_dir_from_V(info):
    # type: (Mapping[str, object]) -> Optional[str]
    """Just the directory of :func:`explain_runtime_dir_from_V` (None if unknown)."""
    return explain_runtime_dir_from_V(info)[0]


def guess_build_from_V(info):
    # type: (Mapping[str, object]) -> Tuple[str, str]
    """A :data:`BUILDS` key from parsed ``-V`` output, with the reason."""
    platform = str(info.get("platform") or "")
    version = str(info.get("version") or "")
    defines = info.get("defines") or {}
    root = defines.get("HTTPD_ROOT")  # type: ignore
    if _is_debian_V(info):
        return "debian", "httpd -V: %s" % (info.get("server_version") or "Debian layout")
    rundir = runtime_dir_from_V(info)
    if root == "/etc/httpd":
        if rundir == "/run/httpd" or version.startswith("2.4.6"):
            return "el7", "httpd -V: HTTPD_ROOT=/etc/httpd, DEFAULT_PIDLOG in /run/httpd"
        if "Fedora" in platform or "Amazon" in platform:
            return "fedora", "httpd -V: %s" % info.get("server_version")
        if version.startswith("2.4.37"):
            return "el8", "httpd -V: %s (EL8 ships 2.4.37)" % info.get("server_version")
        return "el9", "httpd -V: HTTPD_ROOT=/etc/httpd, DEFAULT_PIDLOG=%r" % (
            defines.get("DEFAULT_PIDLOG"),)  # type: ignore
    if "Alpine" in platform:
        return "alpine", "httpd -V: %s" % info.get("server_version")
    return "source", "httpd -V: no distribution marker (HTTPD_ROOT=%r)" % (root,)


# ---------------------------------------------------------------------------
# layout heuristics

_LOAD_PREFORK = re.compile(r"^\s*LoadModule\s+mpm_prefork_module\b", re.M | re.I)


def _read_text(path, texts):
    # type: (str, Optional[Mapping[str, str]]) -> Optional[str]
    if texts is not None and path in texts:
        return texts[path]
    try:
        with open(path, "rb") as fh:
            return fh.read(65536).decode("utf-8", "replace")
    except OSError:
        return None


def guess_build(server_root, main_config_path, file_names, texts=None):
    # type: (Optional[str], str, Iterable[str], Optional[Mapping[str, str]]) -> Tuple[str, str]
    """Guess which :data:`BUILDS` entry a configuration tree comes from.

    ``file_names`` are the included config files' paths (as found); ``texts``
    optionally maps some of those paths to their text (otherwise a file the
    heuristic needs is read from disk, if it is there). Returns
    ``(build_key, reason)``. Heuristics, first match wins:

    1. **debian**: the main config (or an included file) is named
       ``apache2.conf``; stronger when ``envvars`` sits next to it (it is
       sourced by ``apache2ctl``, never included, so it is looked for on disk
       or in ``file_names``).
    2. **EL family**: a file under a ``conf.modules.d/`` directory, or
       ServerRoot ``/etc/httpd``:

       - ``00-brotli.conf`` in ``conf.modules.d`` -> **el9** (EL9/Fedora only);
       - ``00-optional.conf`` or ``10-h2.conf`` -> **el8** (EL8 and later;
         EL7's base httpd has neither; el8 and el9 share the runtime dir);
       - else ``00-mpm.conf`` loading ``mpm_prefork_module`` (EL7's default;
         EL8+ default to event) -> **el7**;
       - else undecidable -> **el8**, saying so. (A CentOS 7 box switched to
         event for mod_cgid lands here; feed ``httpd -V`` to
         :func:`guess_build_from_V` to be sure.)
    3. **alpine**: ServerRoot ``/var/www``, or the main config is
       ``/etc/apache2/httpd.conf``.
    4. **source** otherwise.
    """
    files = [main_config_path] + [f for f in file_names if f != main_config_path]
    base = {f: os.path.basename(f.rstrip("/")) for f in files}
    root = _normalise_server_root(server_root).rstrip("/") if server_root else None

    # 1. Debian / Ubuntu
    debian_main = [f for f in files if base[f] == "apache2.conf"]
    if debian_main:
        conf = debian_main[0]
        envvars = os.path.join(os.path.dirname(conf), "envvars")
        if envvars in files or os.path.exists(envvars):
            return "debian", "%s with envvars next to it (Debian/Ubuntu layout)" % conf
        return "debian", ("%s is named apache2.conf (Debian/Ubuntu layout; envvars "
                          "not found next to it)" % conf)

    # 2. RHEL / CentOS / Fedora
    modules_d = [f for f in files
                 if os.path.basename(os.path.dirname(f.rstrip("/"))) == "conf.modules.d"]
    if modules_d or root == "/etc/httpd":
        why = ("conf.modules.d/ is included" if modules_d
               else "ServerRoot is /etc/httpd")
        names = {base[f] for f in modules_d}
        if "00-brotli.conf" in names:
            return "el9", "%s and it has 00-brotli.conf (EL9/Fedora)" % why
        for marker in ("00-optional.conf", "10-h2.conf"):
            if marker in names:
                return "el8", ("%s and it has %s (EL8 or later; EL8 and EL9 share "
                               "the runtime dir 'run')" % (why, marker))
        mpm = [f for f in modules_d if base[f] == "00-mpm.conf"]
        if mpm:
            text = _read_text(mpm[0], texts)
            if text is not None and _LOAD_PREFORK.search(text):
                return "el7", ("%s, no EL8+ module files, and %s loads "
                               "mpm_prefork_module (EL7's default MPM)" % (why, mpm[0]))
        return "el8", ("%s but EL7 and EL8+ cannot be told apart from the layout; "
                       "assuming EL8+ (runtime dir ServerRoot/run); pass httpd -V "
                       "output to decide" % why)

    # 3. Alpine
    if root == "/var/www" or main_config_path == "/etc/apache2/httpd.conf":
        return "alpine", ("ServerRoot /var/www" if root == "/var/www"
                          else "main config /etc/apache2/httpd.conf") + " (Alpine layout)"

    return "source", "no distribution layout recognised; assuming a plain source build"
