"""The two-view path model: one path string, seen from the host and from the jail.

Under ``ChrootDir`` httpd computes a path once, as a string, and then each
process opens it in its own view: the parent and the cgid daemon (before it
drops privileges) in the host view, the children after ``chroot`` in the jail
view. mod_cgid breaks when ``host:dirname(P)`` and ``jail:dirname(P)`` are not
the same directory (design: ``chroot-model.md``).

- :mod:`cgidlint.paths.jail`: resolve a path in a view on the real
  filesystem without ever leaving the jail, compare directories by inode,
  check searchability and who can write a directory.
- :mod:`cgidlint.paths.runtime`: the compiled-in runtime directory of known
  builds, ``httpd -V`` parsing, and the socket path string httpd computes
  (pure string operations, as in httpd/APR).

Stdlib only, Python 3.8+.
"""

from .jail import (
    MAXSYMLINKS,
    PathEscapesRoot,
    Resolution,
    first_unsearchable,
    is_within,
    open_within,
    resolve_in_jail,
    resolve_on_host,
    same_directory,
    writable_by_others,
)
from .runtime import (
    BUILDS,
    DEFAULT_SCRIPTSOCK,
    SOCKET_PATH_KEEP,
    SUN_PATH_MAX,
    Build,
    apr_filepath_merge,
    effective_socket_path,
    explain_runtime_dir_from_V,
    guess_build,
    guess_build_from_V,
    parse_httpd_V,
    runtime_dir_from_V,
    runtime_directory,
    socket_path_too_long,
    socket_path_with_pid,
    truncated_socket_path,
)

__all__ = [
    "MAXSYMLINKS",
    "PathEscapesRoot",
    "Resolution",
    "first_unsearchable",
    "is_within",
    "open_within",
    "resolve_in_jail",
    "resolve_on_host",
    "same_directory",
    "writable_by_others",
    "BUILDS",
    "DEFAULT_SCRIPTSOCK",
    "SOCKET_PATH_KEEP",
    "SUN_PATH_MAX",
    "Build",
    "apr_filepath_merge",
    "effective_socket_path",
    "explain_runtime_dir_from_V",
    "guess_build",
    "guess_build_from_V",
    "parse_httpd_V",
    "runtime_dir_from_V",
    "runtime_directory",
    "socket_path_too_long",
    "socket_path_with_pid",
    "truncated_socket_path",
]
