"""check_context flags of the directive table against the real apache2.

``DIRECTIVES[name][3]`` holds the ``ap_check_cmd_context()`` flags a
directive's handler enforces; cgidlint turns them into "X cannot occur
within <VirtualHost> section" and friends, so a wrong bit is a false error
(or a missed one).  Each case below places one directive, with a valid
argument, in <VirtualHost>, <Directory> or <Location> and runs
``apache2 -t``: httpd's verdict ("cannot occur within ..." or Syntax OK)
must match what the table predicts and what cgidlint's walker reports.

The full sweep (every non-zero entry in every context, plus the zero
entries in <VirtualHost>) was done when MEASURED_CONTEXT_OVERRIDES in
tools/gen_directive_table.py was written; this is the representative
sample, run in parallel.
"""

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from cgidlint.httpd_data import flags as F
from cgidlint.httpd_data.directives import DIRECTIVES, MODULES

pytestmark = pytest.mark.httpd

APACHE2 = shutil.which("apache2") or (
    "/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else None)
MODDIR = "/usr/lib/apache2/modules"
PORT = "127.0.0.1:18099"

# Modules a module needs loaded before it (only those used below).
DEPS = {
    "ssl_module": ["socache_shmcb_module"],
    "authn_socache_module": ["authn_core_module", "socache_shmcb_module"],
}

# (directive line, context, extra module symbols).  @D@ is the case's
# ServerRoot.  The directive's own module (and DEPS) is loaded first.
CASES = [
    # <VirtualHost>: GLOBAL_ONLY handlers
    ("Listen 127.0.0.1:18098", "vhost", []),
    ("ScriptSock @D@/cgisock", "vhost", []),
    ("ChrootDir @D@", "vhost", []),
    ("User www-data", "vhost", []),
    ("Group www-data", "vhost", []),
    ("Mutex file:@D@ default", "vhost", []),
    ("PidFile @D@/other.pid", "vhost", []),
    ("ServerTokens Prod", "vhost", []),
    ("ExtendedStatus On", "vhost", []),
    ("MaxRequestWorkers 100", "vhost", []),
    ("ThreadsPerChild 25", "vhost", []),
    ("GlobalLog @D@/g.log common", "vhost", []),
    ("SSLSessionCache shmcb:@D@/scache(512000)", "vhost", []),
    ("AuthnCacheSOCache shmcb", "vhost", []),
    ("AuthnzFcgiDefineProvider authn p fcgi://127.0.0.1:9000/", "vhost", []),
    ("ListenTCPDeferAccept 1", "vhost", []),    # binary-only directive
    ("SSLVHostSNIPolicy secure", "vhost", []),  # binary-only directive
    # <VirtualHost>: accepted
    ("SSLCompression off", "vhost", []),  # check under #ifndef SSL_OP_NO_COMPRESSION
    ("DefaultRuntimeDir @D@", "vhost", []),  # EXEC_ON_READ: never checked
    ("ServerRoot @D@", "vhost", []),         # EXEC_ON_READ: never checked
    ("ServerName y.example", "vhost", []),
    ("DocumentRoot /tmp", "vhost", []),
    ("KeepAlive On", "vhost", []),
    ("Timeout 30", "vhost", []),
    ("ProxyPass /a http://y/", "vhost", []),
    ("SSLProtocol all", "vhost", []),
    # <Directory> / <Location>
    ("ProxyPass http://y/", "dir", []),
    ("ProxyPass http://y/", "loc", []),
    ("Alias /tmp", "dir", []),
    ("Alias /tmp", "loc", []),
    ("CacheEnable disk", "dir", ["cache_disk_module"]),
    ("CacheEnable disk", "loc", ["cache_disk_module"]),
    ("ProxyPassReverse http://y/", "dir", []),
    ("MDRequireHttps off", "dir", []),
    ("MultiviewsMatch Any", "dir", []),
    ("MultiviewsMatch Any", "loc", []),
    ("LuaHookTranslateName @D@/x.lua fn", "dir", []),
    ("AllowOverride None", "loc", []),  # only warns (AH00114)
    ("Define FOO bar", "dir", []),
]

CONTEXTS = {
    "vhost": ("<VirtualHost %s>" % PORT, "</VirtualHost>"),
    "dir": ("<Directory /tmp>", "</Directory>"),
    "loc": ("<Location /a>", "</Location>"),
}


def _so(sym):
    return MODULES[sym][1]


def _config(line, ctx, extra, d):
    name = line.split()[0].lower()
    sym = DIRECTIVES[name][4]
    mods = []
    for m in DEPS.get(sym, []) + [sym] + extra:
        if m not in mods and _so(m) is not None and not m.startswith("mpm_"):
            mods.append(m)
    head, tail = CONTEXTS[ctx]
    text = "".join("LoadModule %s %s/%s\n" % (m, MODDIR, _so(m)) for m in mods)
    text += "%s\n%s\n%s\n" % (head, line.replace("@D@", d), tail)
    return text, mods


def _preamble(d):
    return ["ServerRoot %s" % d, "PidFile %s/httpd.pid" % d,
            "ErrorLog %s/error.log" % d, "ServerName x",
            "Listen %s" % PORT,
            "LoadModule mpm_event_module %s/mod_mpm_event.so" % MODDIR]


def _httpd(conf, d):
    cmd = [APACHE2, "-t", "-f", conf]
    for l in _preamble(d):
        cmd += ["-C", l]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"},
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def _table_rejects(line, ctx):
    """ap_check_cmd_context() with the table's flags (the contexts above)."""
    entry = DIRECTIVES[line.split()[0].lower()]
    forbidden = entry[3]
    if entry[2] & F.EXEC_ON_READ:
        return False  # cgidlint does not check these either
    if ctx == "vhost":
        return bool(forbidden & F.NOT_IN_VIRTUALHOST)
    if (forbidden & F.NOT_IN_DIR_LOC_FILE) == F.NOT_IN_DIR_LOC_FILE:
        return True
    bit = F.NOT_IN_DIRECTORY if ctx == "dir" else F.NOT_IN_LOCATION
    return bool(forbidden & bit)


def _cgidlint_rejects(conf, d):
    from cgidlint.evaluate.build import read_config
    from cgidlint.evaluate.walk import walk
    pre = [l.encode() for l in _preamble(d)]
    cfg = read_config(conf, defines=[], env={}, build="debian", server_root=d,
                      pre_directives=pre)
    errors = list(cfg.errors) + list(walk(cfg, "debian"))
    return [e.message for e in errors if "cannot occur within" in e.message]


def _run(case, root):
    line, ctx, extra = case
    d = os.path.join(root, "%s-%s" % (line.split()[0], ctx))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "x.lua"), "w") as fh:
        fh.write("function fn(r) return apache2.DECLINED end\n")
    text, mods = _config(line, ctx, extra, d)
    missing = [m for m in mods if not os.path.exists(os.path.join(MODDIR, _so(m)))]
    if missing:
        return case, None, "missing modules %s" % missing, d
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as fh:
        fh.write(text)
    rc, out = _httpd(conf, d)
    return case, rc, out, d


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    if not APACHE2:
        pytest.skip("apache2 (the oracle) is not installed")
    root = str(tmp_path_factory.mktemp("ctxflags"))
    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(lambda c: _run(c, root), CASES))
    return {_id(r[0]): r[1:] for r in results}


def _id(case):
    return "%s-%s" % (case[0].split()[0], case[1])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_table_agrees_with_httpd(case, verdicts):
    line, ctx, _ = case
    rc, out, d = verdicts[_id(case)]
    if rc is None:
        pytest.skip(out)
    rejected = "cannot occur within" in out
    assert rejected or (rc == 0 and "Syntax OK" in out), \
        "argument or set-up rejected for another reason:\n" + out
    assert _table_rejects(line, ctx) == rejected, (
        "table check_context %#x disagrees with httpd for %r in %s:\n%s"
        % (DIRECTIVES[line.split()[0].lower()][3], line, ctx, out))
    lint = _cgidlint_rejects(os.path.join(d, "httpd.conf"), d)
    assert bool(lint) == rejected, (lint, out)
    if rejected:
        msg = [l for l in out.splitlines() if "cannot occur within" in l][0]
        assert lint[0] == msg.strip()


def test_sample_covers_both_verdicts(verdicts):
    seen = set()
    for rc, out, _ in verdicts.values():
        if rc is not None:
            seen.add("cannot occur within" in out)
    assert seen == {True, False}
