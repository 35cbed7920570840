"""Tests for cgidlint.paths: real tmp-dir jails, no mocks of the filesystem."""

import errno
import json
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgidlint.paths import (
    BUILDS,
    PathEscapesRoot,
    apr_filepath_merge,
    effective_socket_path,
    explain_runtime_dir_from_V,
    first_unsearchable,
    guess_build,
    guess_build_from_V,
    is_within,
    open_within,
    parse_httpd_V,
    resolve_in_jail,
    resolve_on_host,
    runtime_dir_from_V,
    same_directory,
    socket_path_too_long,
    socket_path_with_pid,
    truncated_socket_path,
    writable_by_others,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def mk(base, rel, mode=None):
    p = os.path.join(base, rel.lstrip("/"))
    os.makedirs(p, exist_ok=True)
    if mode is not None:
        os.chmod(p, mode)
    return p


def ln(base, rel, target):
    p = os.path.join(base, rel.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    os.symlink(target, p)
    return p


@pytest.fixture
def jail(tmp_path):
    j = tmp_path / "jail"
    j.mkdir()
    return str(j)


# ---------------------------------------------------------------------------
# resolve_in_jail


def test_plain_path(jail):
    mk(jail, "var/run/cgid")
    r = resolve_in_jail(jail, "/var/run/cgid")
    assert r.exists and r.error is None and r.missing_from is None
    assert r.view_path == "/var/run/cgid"
    assert r.host_path == os.path.join(jail, "var/run/cgid")
    assert [v for v, _ in r.components] == ["/", "/var", "/var/run", "/var/run/cgid"]
    assert r.components[0][1] == jail


def test_absolute_symlink_resolves_inside_jail(jail):
    mk(jail, "run/httpd")
    ln(jail, "etc/httpd/run", "/run/httpd")  # EL9's absolute symlink
    r = resolve_in_jail(jail, "/etc/httpd/run/cgisock.123")
    assert not r.exists
    assert r.missing_from == "/run/httpd/cgisock.123"
    assert r.view_path == "/run/httpd/cgisock.123"
    assert r.host_path == os.path.join(jail, "run/httpd/cgisock.123")
    d = resolve_in_jail(jail, "/etc/httpd/run")
    assert d.exists and d.view_path == "/run/httpd"
    views = [v for v, _ in d.components]
    assert views == ["/", "/etc", "/etc/httpd", "/run", "/run/httpd"]


def test_relative_symlink(jail):
    mk(jail, "srv/data")
    ln(jail, "var/www", "../srv/data")
    r = resolve_in_jail(jail, "/var/www")
    assert r.exists and r.view_path == "/srv/data"


def test_dotdot_escape_stays_inside(jail, tmp_path):
    (tmp_path / "secret").mkdir()
    mk(jail, "a/b")
    for p in ("/../../..", "/a/../../../secret", "/a/b/../../../../secret", "../secret"):
        r = resolve_in_jail(jail, p)
        assert r.host_path == jail or r.host_path.startswith(jail + "/")
    r = resolve_in_jail(jail, "/../../secret")
    assert not r.exists and r.missing_from == "/secret"
    assert r.host_path == os.path.join(jail, "secret")
    r = resolve_in_jail(jail, "/a/b/../../..")
    assert r.exists and r.view_path == "/" and r.host_path == jail


def test_dotdot_through_symlink_target(jail, tmp_path):
    (tmp_path / "outside").mkdir()
    ln(jail, "up", "../../../../outside")
    r = resolve_in_jail(jail, "/up")
    assert not r.exists and r.missing_from == "/outside"
    assert r.host_path == os.path.join(jail, "outside")


def test_symlink_to_host_etc_is_rerooted(jail, monkeypatch):
    ln(jail, "etc", "/etc")
    calls = []
    real_lstat, real_readlink = os.lstat, os.readlink

    def spy_lstat(p, *a, **k):
        calls.append(p)
        return real_lstat(p, *a, **k)

    def spy_readlink(p, *a, **k):
        calls.append(p)
        return real_readlink(p, *a, **k)

    monkeypatch.setattr(os, "lstat", spy_lstat)
    monkeypatch.setattr(os, "readlink", spy_readlink)
    r = resolve_in_jail(jail, "/etc/passwd")
    assert not r.exists and r.error == "ELOOP"  # /etc -> /etc inside the jail
    assert all(c == jail or c.startswith(jail + "/") for c in calls)

    os.unlink(os.path.join(jail, "etc"))
    ln(jail, "etc", "/host-etc")
    r = resolve_in_jail(jail, "/etc/passwd")
    assert not r.exists and r.missing_from == "/host-etc"
    assert r.host_path == os.path.join(jail, "host-etc/passwd")


def test_loop_gives_eloop(jail):
    ln(jail, "a", "b")
    ln(jail, "b", "a")
    r = resolve_in_jail(jail, "/a/x")
    assert r.error == "ELOOP" and not r.exists
    ln(jail, "self", "/self")
    assert resolve_in_jail(jail, "/self").error == "ELOOP"


def test_forty_links_ok_41_eloop(jail):
    mk(jail, "d")
    ln(jail, "l0", "/d")
    for i in range(1, 41):
        ln(jail, "l%d" % i, "/l%d" % (i - 1))
    assert resolve_in_jail(jail, "/l39").exists  # 40 links
    assert resolve_in_jail(jail, "/l40").error == "ELOOP"  # 41 links


def test_missing_component_reported(jail):
    mk(jail, "var")
    r = resolve_in_jail(jail, "/var/run/apache2/socks/cgisock")
    assert not r.exists and r.error is None
    assert r.missing_from == "/var/run"
    assert r.view_path == "/var/run/apache2/socks/cgisock"
    assert [v for v, _ in r.components] == ["/", "/var"]


def test_enotdir(jail):
    mk(jail, "etc")
    open(os.path.join(jail, "etc/file"), "w").close()
    assert resolve_in_jail(jail, "/etc/file/x").error == "ENOTDIR"
    assert resolve_in_jail(jail, "/etc/file/").error == "ENOTDIR"
    r = resolve_in_jail(jail, "/etc/file")
    assert r.exists and [v for v, _ in r.components] == ["/", "/etc"]


def test_empty_path_and_root(jail):
    r = resolve_in_jail(jail, "/")
    assert r.exists and r.view_path == "/" and r.host_path == jail
    assert r.components == [("/", jail)]


def test_resolve_on_host(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    r = resolve_on_host(str(tmp_path / "link"))
    assert r.exists and r.view_path == os.path.realpath(str(real))
    assert r.host_path == r.view_path and r.jail == "/"


# ---------------------------------------------------------------------------
# same_directory: experiments C, D/F of chroot-model.md, simulated with a
# fake host root H (the host view is "jail at H"), and with real host paths.


def test_experiment_F_host_symlink_into_jail(tmp_path):
    host = str(tmp_path / "host")
    jail = mk(host, "jail")
    mk(jail, "var/run/cgidF")
    mk(host, "var/run")
    ln(host, "var/run/cgidF", "/jail/var/run/cgidF")
    d = "/var/run/cgidF"
    h = resolve_in_jail(host, d)
    j = resolve_in_jail(jail, d)
    assert h.exists and j.exists
    assert same_directory(h.host_path, j.host_path) is True


def test_experiment_F_real_host_paths(tmp_path):
    # the host view resolved with resolve_on_host on real tmp paths
    jail = mk(str(tmp_path), "jail")
    target = mk(jail, "srv/cgid")
    hostdir = str(tmp_path / "hostrun")
    os.symlink(target, hostdir)
    h = resolve_on_host(hostdir)
    j = resolve_in_jail(jail, "/srv/cgid")
    assert same_directory(h.host_path, j.host_path) is True


def test_experiment_A_two_distinct_dirs(tmp_path):
    host = str(tmp_path / "host")
    jail = mk(host, "jail")
    mk(host, "var/run/cgid")
    mk(jail, "var/run/cgid")
    h = resolve_in_jail(host, "/var/run/cgid")
    j = resolve_in_jail(jail, "/var/run/cgid")
    assert same_directory(h.host_path, j.host_path) is False


def test_experiment_C_jail_symlink_to_root(tmp_path):
    host = str(tmp_path / "host")
    jail = mk(host, "jail")
    mk(jail, "run")
    ln(jail, "jail", "/")
    h = resolve_in_jail(host, "/jail/run")
    j = resolve_in_jail(jail, "/jail/run")
    assert j.view_path == "/run"
    assert same_directory(h.host_path, j.host_path) is True


def test_same_directory_missing_is_none(tmp_path):
    assert same_directory(str(tmp_path), str(tmp_path / "nope")) is None
    assert same_directory(None, str(tmp_path)) is None


# ---------------------------------------------------------------------------
# searchability (experiment G) and writability


def test_unsearchable_0700_root_dir_for_www_data(jail):
    mk(jail, "var/run/cgid")
    os.chmod(os.path.join(jail, "var/run"), 0o700)
    os.chmod(jail, 0o755)
    r = resolve_in_jail(jail, "/var/run/cgid")
    st_run = os.lstat(os.path.join(jail, "var/run"))
    if st_run.st_uid == 33:
        pytest.skip("tmp dir owned by uid 33")
    assert first_unsearchable(r.components, 33, 33, [33]) == "/var/run"
    assert first_unsearchable(r.components, 0, 0, []) is None
    os.chmod(os.path.join(jail, "var/run"), 0o711)
    assert first_unsearchable(r.components, 33, 33, [33]) is None


def test_unsearchable_owner_class_wins(jail):
    d = mk(jail, "d")
    uid = os.lstat(d).st_uid
    os.chmod(d, 0o071)  # owner has no x, others do
    r = resolve_in_jail(jail, "/d")
    if uid == 0:
        assert first_unsearchable(r.components, uid, 0, []) is None
        assert first_unsearchable(r.components, 4242, 4242, []) is None
    else:
        assert first_unsearchable(r.components, uid, 4242, []) == "/d"


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown")
def test_unsearchable_group_class(jail):
    d = mk(jail, "run/httpd")
    os.chown(d, 0, 48)
    os.chmod(d, 0o710)  # EL9: d /run/httpd 710 root apache
    r = resolve_in_jail(jail, "/run/httpd")
    assert first_unsearchable(r.components, 48, 48, []) is None
    assert first_unsearchable(r.components, 33, 33, [33]) == "/run/httpd"
    assert first_unsearchable(r.components, 33, 33, [48]) is None


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown")
def test_writable_by_others(tmp_path):
    d = str(tmp_path / "d")
    os.mkdir(d)
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)
    assert writable_by_others(d, {33}) is None
    os.chown(d, 33, 33)
    assert writable_by_others(d, {33}, {33}) is None  # Debian socks dir
    os.chown(d, 1000, 0)
    msg = writable_by_others(d, {33}, {33})
    assert msg and "uid 1000" in msg and "owner-writable" in msg
    os.chown(d, 0, 1000)
    os.chmod(d, 0o775)
    msg = writable_by_others(d, {33}, {33})
    assert msg and "group-writable" in msg and "gid 1000" in msg
    os.chown(d, 0, 33)
    assert writable_by_others(d, {33}, {33}) is None
    os.chown(d, 0, 0)
    os.chmod(d, 0o777)
    msg = writable_by_others(d, {33}, {33})
    assert msg and "world-writable" in msg and "without the sticky bit" in msg
    os.chmod(d, 0o1777)
    msg = writable_by_others(d, {33}, {33})
    assert msg and "sticky" in msg and "unsafe" in msg
    assert writable_by_others(str(tmp_path / "missing"), {33}) is None


def test_writable_by_others_default_groups(tmp_path):
    d = str(tmp_path / "d")
    os.mkdir(d)
    os.chmod(d, 0o700)
    assert writable_by_others(d, {os.getuid()}) is None


# ---------------------------------------------------------------------------
# is_within / open_within


def test_is_within_host_and_jail(tmp_path):
    root = mk(str(tmp_path), "conf")
    (tmp_path / "outside.conf").write_text("x")
    with open(os.path.join(root, "a.conf"), "w") as fh:
        fh.write("ok")
    os.symlink(str(tmp_path / "outside.conf"), os.path.join(root, "evil.conf"))
    assert is_within(root, "a.conf")
    assert is_within(root, os.path.join(root, "a.conf"))
    assert not is_within(root, "evil.conf")
    assert not is_within(root, "../outside.conf")
    with open_within(root, "a.conf") as fh:
        assert fh.read() == b"ok"
    with pytest.raises(PathEscapesRoot):
        open_within(root, "evil.conf")

    jail = mk(str(tmp_path), "jail")
    mk(jail, "etc/apache2")
    with open(os.path.join(jail, "etc/apache2/apache2.conf"), "w") as fh:
        fh.write("jail copy")
    ln(jail, "etc/apache2/ports.conf", "/etc/passwd")  # re-rooted: missing
    ln(jail, "etc/apache2/other.conf", "/srv/x.conf")
    assert is_within("/etc/apache2", "/etc/apache2/apache2.conf", jail=jail)
    assert not is_within("/etc/apache2", "/etc/apache2/other.conf", jail=jail)
    assert not is_within("/etc/apache2", "/etc/apache2/ports.conf", jail=jail)
    with open_within("/etc/apache2", "apache2.conf", jail=jail) as fh:
        assert fh.read() == b"jail copy"


# ---------------------------------------------------------------------------
# property: never outside the jail, and agrees with the kernel's chroot


NAMES = ["a", "b", "c", "etc", "run"]
segment = st.sampled_from(NAMES + ["..", ".", ""])
rel_target = st.lists(segment, min_size=1, max_size=4).map("/".join)
abs_target = st.lists(segment, min_size=0, max_size=4).map(lambda s: "/" + "/".join(s))
target = st.one_of(rel_target, abs_target, st.sampled_from(["/", "/etc", "../../..", "/.."]))
entry_path = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
graph = st.lists(st.tuples(entry_path, st.sampled_from(["dir", "file", "link"]), target),
                 min_size=1, max_size=12)
queries = st.lists(st.one_of(abs_target, rel_target), min_size=1, max_size=6)


def build_graph(jail, entries):
    for rel, kind, tgt in entries:
        p = os.path.join(jail, rel)
        parent = os.path.dirname(p)
        try:
            os.makedirs(parent, exist_ok=True)
            if os.path.lexists(p):
                continue
            if kind == "dir":
                os.mkdir(p)
            elif kind == "file":
                open(p, "w").close()
            else:
                os.symlink(tgt, p)
        except OSError:
            continue  # parent is a file or a symlink: skip this entry


def inside(jail, p):
    return p == jail or p.startswith(jail + "/")


def kernel_view(jail, paths):
    """Stat each path in a child chrooted at jail: {path: [dev, ino] | errno name}."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            os.chroot(jail)
            os.chdir("/")
            out = {}
            for p in paths:
                try:
                    s = os.stat(p if p.startswith("/") else "/" + p)
                    out[p] = [s.st_dev, s.st_ino]
                except OSError as exc:
                    out[p] = errno.errorcode.get(exc.errno, str(exc.errno))
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(entries=graph, paths=queries)
def test_property_never_leaves_jail(entries, paths):
    base = tempfile.mkdtemp()
    try:
        jail = os.path.join(base, "jail")
        os.mkdir(jail)
        # decoys outside the jail with the same names
        for n in NAMES:
            os.mkdir(os.path.join(base, n))
        build_graph(jail, entries)
        touched = []
        real_lstat, real_readlink = os.lstat, os.readlink

        def spy_lstat(p, *a, **k):
            touched.append(p)
            return real_lstat(p, *a, **k)

        def spy_readlink(p, *a, **k):
            touched.append(p)
            return real_readlink(p, *a, **k)

        os.lstat, os.readlink = spy_lstat, spy_readlink
        try:
            results = {p: resolve_in_jail(jail, p) for p in paths}
        finally:
            os.lstat, os.readlink = real_lstat, real_readlink
        assert all(inside(jail, t) for t in touched), touched
        for p, res in results.items():
            assert inside(jail, res.host_path), (p, res)
            assert res.host_path == (jail if res.view_path == "/" else jail + res.view_path)
            assert all(inside(jail, h) for _, h in res.components)
            assert res.exists == (res.error is None and res.missing_from is None)
        if IS_ROOT and hasattr(os, "chroot"):
            kv = kernel_view(jail, paths)
            for p, res in results.items():
                k = kv[p]
                if res.exists:
                    s = os.stat(res.host_path)
                    assert k == [s.st_dev, s.st_ino], (p, res, k)
                elif res.error is not None:
                    assert k == res.error, (p, res, k)
                else:
                    assert k == "ENOENT", (p, res, k)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------
# runtime: builds, effective socket path, apr merge


@pytest.mark.parametrize("build,expected", [
    ("debian", "/var/run/apache2/cgisock"),
    ("alpine", "/var/run/apache2/cgisock"),
    ("el7", "/run/httpd/cgisock"),
    ("el8", "/etc/httpd/run/cgisock"),
    ("el9", "/etc/httpd/run/cgisock"),
    ("fedora", "/etc/httpd/run/cgisock"),
    ("source", "/usr/local/apache2/logs/cgisock"),
])
def test_effective_socket_path_per_build(build, expected):
    b = BUILDS[build]
    assert effective_socket_path(None, None, b.server_root, b.rel_runtime_dir) == expected
    assert effective_socket_path("cgisock", None, b.server_root, b.rel_runtime_dir) == expected


def test_effective_socket_path_variants():
    src = BUILDS["source"]
    # absolute ScriptSock: used as is
    assert effective_socket_path("/var/run/cgid/cgisock", None, "/etc/httpd", "run") \
        == "/var/run/cgid/cgisock"
    # DefaultRuntimeDir absolute / relative (against ServerRoot)
    assert effective_socket_path("cgisock", "/jail/run", "/etc/httpd", "run") \
        == "/jail/run/cgisock"
    assert effective_socket_path(None, "var/run", "/srv/httpd", src.rel_runtime_dir) \
        == "/srv/httpd/var/run/cgisock"
    # Debian shipped config: DefaultRuntimeDir ${APACHE_RUN_DIR}, socks variant
    assert effective_socket_path("/var/run/apache2/socks/cgisock", "/var/run/apache2",
                                 "/etc/apache2", "/var/run/apache2") \
        == "/var/run/apache2/socks/cgisock"
    # relative with a subdirectory, trailing slashes and APR clean-up
    assert effective_socket_path("socks/cgisock", None, "/etc/httpd/", "run") \
        == "/etc/httpd/run/socks/cgisock"
    assert effective_socket_path("./x/../cgisock", "/a//b/", "/", "logs") == "/a/b/cgisock"
    assert effective_socket_path("//var//run/./cgid/../cgisock", None, "/", "logs") \
        == "/var/run/cgisock"
    assert effective_socket_path("../../../../cgisock", None, "/etc/httpd", "run") \
        == "/cgisock"
    # ServerRoot merged like set_server_root does
    assert effective_socket_path(None, None, "/usr/local/apache2/../apache2", "logs") \
        == "/usr/local/apache2/logs/cgisock"


def test_apr_filepath_merge():
    assert apr_filepath_merge("/etc/httpd", "run") == "/etc/httpd/run"
    assert apr_filepath_merge("/etc/httpd", "run/") == "/etc/httpd/run/"
    assert apr_filepath_merge("/etc/httpd", "/run/httpd") == "/run/httpd"
    assert apr_filepath_merge("/etc/httpd", "") == "/etc/httpd/"
    assert apr_filepath_merge("/etc/httpd", "..") == "/etc/"  # APR crops to the '/'
    assert apr_filepath_merge("/etc/httpd", "../") == "/etc/"
    assert apr_filepath_merge("/", "../../x") == "/x"
    assert apr_filepath_merge("a", "../../x") == "../x"
    assert apr_filepath_merge("/etc//httpd", "x") == "/etc//httpd/x"  # root verbatim


def test_builds_table():
    for key, b in BUILDS.items():
        assert b.key == key and b.label and b.evidence and b.server_root.startswith("/")
    assert BUILDS["source"].rel_runtime_dir == "logs"
    assert BUILDS["el7"].rel_runtime_dir == "/run/httpd"
    assert BUILDS["el9"].server_root == "/etc/httpd"
    assert BUILDS["alpine"].server_root == "/var/www"


# ---------------------------------------------------------------------------
# sun_path


def test_socket_path_with_pid():
    assert socket_path_with_pid("/run/httpd/cgisock") == "/run/httpd/cgisock.9999999"
    assert socket_path_with_pid("/run/httpd/cgisock", pid=42) == "/run/httpd/cgisock.42"
    assert socket_path_with_pid(b"/x", pid_digits=3) == b"/x.999"


def test_truncation_at_107_bytes():
    base = "/srv/" + "d" * 80 + "/cgisock-abcdefghijklmnopqrstuv"
    full = socket_path_with_pid(base, pid=5921)
    assert socket_path_too_long(full)
    cut = truncated_socket_path(full)
    assert len(cut.encode()) == 107 and full.startswith(cut)
    # as seen on Apache/2.4.71: "/tmp/trx/<80 d>/cgisock-abcdefghi"
    real = "/tmp/trx/" + "d" * 80 + "/cgisock-abcdefghijklmnopqrstuv.5921"
    assert truncated_socket_path(real) == "/tmp/trx/" + "d" * 80 + "/cgisock-abcdefghi"
    ok = "/" + "x" * 106
    assert not socket_path_too_long(ok) and truncated_socket_path(ok) == ok
    assert socket_path_too_long(ok + "y")
    assert truncated_socket_path(ok + "yz") == ok
    # bytes, not characters
    multi = "/" + "\u00e9" * 60  # 121 bytes
    cut = truncated_socket_path(multi)
    assert len(cut.encode("utf-8", "surrogateescape")) == 107
    assert truncated_socket_path(multi.encode()) == multi.encode()[:107]


# ---------------------------------------------------------------------------
# httpd -V

CENTOS7_V = """\
Server version: Apache/2.4.6 (CentOS)
Server built:   Nov 16 2020 16:18:20
Server's Module Magic Number: 20120211:24
Server loaded:  APR 1.4.8, APR-util 1.5.2
Compiled using: APR 1.4.8, APR-util 1.5.2
Architecture:   64-bit
Server MPM:     prefork
  threaded:     no
    forked:     yes (variable process count)
Server compiled with....
 -D APR_HAS_SENDFILE
 -D APR_HAS_MMAP
 -D APR_HAVE_IPV6 (IPv4-mapped addresses enabled)
 -D APR_USE_SYSVSEM_SERIALIZE
 -D APR_USE_PTHREAD_SERIALIZE
 -D SINGLE_LISTEN_UNSERIALIZED_ACCEPT
 -D APR_HAS_OTHER_CHILD
 -D AP_HAVE_RELIABLE_PIPED_LOGS
 -D DYNAMIC_MODULE_LIMIT=256
 -D HTTPD_ROOT="/etc/httpd"
 -D SUEXEC_BIN="/usr/sbin/suexec"
 -D DEFAULT_PIDLOG="/run/httpd/httpd.pid"
 -D DEFAULT_SCOREBOARD="logs/apache_runtime_status"
 -D DEFAULT_ERRORLOG="logs/error_log"
 -D AP_TYPES_CONFIG_FILE="conf/mime.types"
 -D SERVER_CONFIG_FILE="conf/httpd.conf"
"""

ROCKY9_V = """\
Server version: Apache/2.4.57 (Rocky Linux)
Server built:   Jul 20 2023 00:00:00
Server's Module Magic Number: 20120211:127
Server loaded:  APR 1.7.0, APR-UTIL 1.6.1, PCRE 10.40 2022-04-14
Compiled using: APR 1.7.0, APR-UTIL 1.6.1, PCRE 10.40 2022-04-14
Architecture:   64-bit
Server MPM:     event
  threaded:     yes (fixed thread count)
    forked:     yes (variable process count)
Server compiled with....
 -D APR_HAS_SENDFILE
 -D APR_HAS_MMAP
 -D APR_HAVE_IPV6 (IPv4-mapped addresses enabled)
 -D APR_USE_PROC_PTHREAD_SERIALIZE
 -D APR_USE_PTHREAD_SERIALIZE
 -D SINGLE_LISTEN_UNSERIALIZED_ACCEPT
 -D APR_HAS_OTHER_CHILD
 -D AP_HAVE_RELIABLE_PIPED_LOGS
 -D DYNAMIC_MODULE_LIMIT=256
 -D HTTPD_ROOT="/etc/httpd"
 -D SUEXEC_BIN="/usr/sbin/suexec"
 -D DEFAULT_PIDLOG="run/httpd.pid"
 -D DEFAULT_SCOREBOARD="logs/apache_runtime_status"
 -D DEFAULT_ERRORLOG="logs/error_log"
 -D AP_TYPES_CONFIG_FILE="conf/mime.types"
 -D SERVER_CONFIG_FILE="conf/httpd.conf"
"""

# Captured from /usr/sbin/apache2 -V on Debian 12 without envvars sourced:
# the config fails to load, so the MPM line is empty and errors come first.
DEBIAN12_V = """\
[Sun Nov 22 09:15:41.332598 2026] [core:warn] [pid 5697:tid 5697] AH00111: Config variable ${APACHE_RUN_DIR} is not defined
apache2: Syntax error on line 80 of /etc/apache2/apache2.conf: DefaultRuntimeDir must be a valid directory, absolute or relative to ServerRoot
Server version: Apache/2.4.71 (Debian)
Server built:   2026-11-12T08:58:41
Server's Module Magic Number: 20120211:142
Server loaded:  APR 1.7.2, APR-UTIL 1.6.3, PCRE 10.42 2022-12-11
Compiled using: APR 1.7.2, APR-UTIL 1.6.3, PCRE 10.42 2022-12-11
Architecture:   64-bit
Server MPM:     
Server compiled with....
 -D APR_HAS_SENDFILE
 -D APR_HAS_MMAP
 -D APR_HAVE_IPV6 (IPv4-mapped addresses enabled)
 -D DYNAMIC_MODULE_LIMIT=256
 -D HTTPD_ROOT="/etc/apache2"
 -D SUEXEC_BIN="/usr/lib/apache2/suexec"
 -D DEFAULT_PIDLOG="/run/apache2.pid"
 -D DEFAULT_SCOREBOARD="logs/apache_runtime_status"
 -D DEFAULT_ERRORLOG="logs/error_log"
 -D AP_TYPES_CONFIG_FILE="mime.types"
 -D SERVER_CONFIG_FILE="apache2.conf"
"""


def test_parse_V_centos7():
    info = parse_httpd_V(CENTOS7_V)
    assert info["server_version"] == "Apache/2.4.6 (CentOS)"
    assert info["version"] == "2.4.6" and info["platform"] == "CentOS"
    assert info["mpm"] == "prefork" and info["mpm_threaded"] == "no"
    assert info["mpm_forked"] == "yes (variable process count)"
    d = info["defines"]
    assert d["DEFAULT_PIDLOG"] == "/run/httpd/httpd.pid"
    assert d["HTTPD_ROOT"] == "/etc/httpd"
    assert d["SERVER_CONFIG_FILE"] == "conf/httpd.conf"
    assert d["DYNAMIC_MODULE_LIMIT"] == "256"
    assert d["APR_HAVE_IPV6"] is True and d["APR_HAS_MMAP"] is True
    assert runtime_dir_from_V(info) == "/run/httpd"
    assert guess_build_from_V(info)[0] == "el7"
    b = BUILDS["el7"]
    assert effective_socket_path(None, None, d["HTTPD_ROOT"], runtime_dir_from_V(info)) \
        == effective_socket_path(None, None, b.server_root, b.rel_runtime_dir)


def test_parse_V_rocky9():
    info = parse_httpd_V(ROCKY9_V)
    assert info["platform"] == "Rocky Linux" and info["mpm"] == "event"
    assert runtime_dir_from_V(info) == "run"
    assert guess_build_from_V(info)[0] == "el9"
    assert effective_socket_path(None, None, "/etc/httpd", runtime_dir_from_V(info)) \
        == "/etc/httpd/run/cgisock"


def test_parse_V_debian_fixture():
    info = parse_httpd_V(DEBIAN12_V)
    assert info["mpm"] is None
    assert len(info["messages"]) == 2 and "AH00111" in info["messages"][0]
    assert info["defines"]["DEFAULT_PIDLOG"] == "/run/apache2.pid"
    d, why = explain_runtime_dir_from_V(info)
    assert d is None and "fhs_compliance" in why
    assert guess_build_from_V(info)[0] == "debian"


@pytest.mark.httpd
@pytest.mark.skipif(not os.path.exists("/usr/sbin/apache2"), reason="no apache2")
def test_parse_V_real_apache2():
    out = subprocess.run(["/usr/sbin/apache2", "-V"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=30).stdout
    info = parse_httpd_V(out)
    assert info["server_version"] and info["server_version"].startswith("Apache/2.4")
    assert "HTTPD_ROOT" in info["defines"]
    if "Debian" in (info["platform"] or "") or "Ubuntu" in (info["platform"] or ""):
        assert runtime_dir_from_V(info) is None
        assert guess_build_from_V(info)[0] == "debian"


# ---------------------------------------------------------------------------
# guess_build


def test_guess_build_debian(tmp_path):
    etc = mk(str(tmp_path), "etc/apache2")
    main = os.path.join(etc, "apache2.conf")
    open(main, "w").close()
    key, why = guess_build("/etc/apache2", main, [os.path.join(etc, "ports.conf")])
    assert key == "debian" and "envvars not found" in why
    open(os.path.join(etc, "envvars"), "w").close()
    key, why = guess_build(None, main, [])
    assert key == "debian" and "with envvars" in why


def test_guess_build_el():
    main = "/nonexistent/etc/httpd/conf/httpd.conf"
    md = "/nonexistent/etc/httpd/conf.modules.d/"
    base = [md + n for n in ("00-base.conf", "00-mpm.conf", "01-cgi.conf")]
    prefork = "LoadModule mpm_prefork_module modules/mod_mpm_prefork.so\n"
    event = ("#LoadModule mpm_prefork_module modules/mod_mpm_prefork.so\n"
             "LoadModule mpm_event_module modules/mod_mpm_event.so\n")
    assert guess_build("/etc/httpd", main, base, {md + "00-mpm.conf": prefork})[0] == "el7"
    key, why = guess_build("/etc/httpd", main, base, {md + "00-mpm.conf": event})
    assert key == "el8" and "cannot be told apart" in why
    assert guess_build("/etc/httpd", main, base + [md + "00-optional.conf"],
                       {md + "00-mpm.conf": prefork})[0] == "el8"
    assert guess_build("/etc/httpd", main, base + [md + "00-brotli.conf"])[0] == "el9"
    assert guess_build("/etc/httpd", main, [])[0] == "el8"


def test_guess_build_alpine_and_source():
    assert guess_build("/var/www", "/etc/apache2/httpd.conf", [])[0] == "alpine"
    assert guess_build(None, "/etc/apache2/httpd.conf", [])[0] == "alpine"
    key, why = guess_build("/usr/local/apache2", "/usr/local/apache2/conf/httpd.conf",
                           ["/usr/local/apache2/conf/extra/httpd-default.conf"])
    assert key == "source" and "source build" in why
