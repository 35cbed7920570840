"""Checks of the generated httpd directive table (cgidlint.httpd_data)."""

import os
import re
import shutil
import subprocess

import pytest

from cgidlint.httpd_data import flags as F
from cgidlint.httpd_data.directives import ALTERNATES, DIRECTIVES, MODULES

NAME, HOW, REQ, CHECK, MOD, HELP = range(6)

ARGS_HOW = {"RAW_ARGS", "TAKE1", "TAKE2", "TAKE3", "TAKE12", "TAKE23",
            "TAKE123", "TAKE13", "ITERATE", "ITERATE2", "FLAG", "NO_ARGS",
            "TAKE_ARGV"}


def test_flag_values():
    assert (F.OR_NONE, F.OR_LIMIT, F.OR_OPTIONS, F.OR_FILEINFO,
            F.OR_AUTHCFG, F.OR_INDEXES, F.OR_UNSET, F.ACCESS_CONF,
            F.RSRC_CONF, F.EXEC_ON_READ, F.NONFATAL_OVERRIDE,
            F.NONFATAL_UNKNOWN, F.PROXY_CONF) == (
        0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
    assert F.OR_ALL == 31
    assert (F.NOT_IN_VIRTUALHOST, F.NOT_IN_LIMIT, F.NOT_IN_DIRECTORY,
            F.NOT_IN_LOCATION, F.NOT_IN_FILES, F.NOT_IN_HTACCESS,
            F.NOT_IN_PROXY) == (1, 2, 4, 8, 16, 32, 64)
    assert F.NOT_IN_DIR_LOC_FILE == 0x1c
    assert F.NOT_IN_DIR_CONTEXT == 0x5e
    assert F.GLOBAL_ONLY == 0x5f


def test_table_shape():
    assert len(DIRECTIVES) > 700
    for key, tup in DIRECTIVES.items():
        assert key == tup[NAME].lower()
        assert len(tup) == 6
        assert tup[HOW] in ARGS_HOW
        assert isinstance(tup[REQ], int) and isinstance(tup[CHECK], int)
        assert tup[MOD] in MODULES
        assert isinstance(tup[HELP], str)
    for key, alts in ALTERNATES.items():
        assert key in DIRECTIVES
        for tup in alts:
            assert tup[NAME].lower() == key and tup[MOD] in MODULES
            assert tup[MOD] != DIRECTIVES[key][MOD]
    for sym, (struct, so, builtin) in MODULES.items():
        assert sym.endswith("_module") and struct.endswith(".c")
        assert builtin == (so is None)


@pytest.mark.parametrize("name,how,req,check,mod,help_", [
    ("ServerAdmin", "TAKE1", F.RSRC_CONF, F.NOT_IN_DIR_CONTEXT,
     "core_module", "The email address of the server administrator"),
    ("Define", "TAKE12", F.RSRC_CONF | F.ACCESS_CONF | F.EXEC_ON_READ,
     F.NOT_IN_HTACCESS, "core_module",
     "Define a variable, optionally to a value.  Same as passing -D to "
     "the command line."),
    # RAW_ARGS since httpd 2.3 (not ITERATE): add_index splits itself
    ("DirectoryIndex", "RAW_ARGS", F.OR_INDEXES, 0, "dir_module",
     "a list of file names"),
    ("ScriptSock", "TAKE1", F.RSRC_CONF, F.GLOBAL_ONLY, "cgid_module",
     "the name of the socket to use for communication with the cgi "
     "daemon."),
    ("ChrootDir", "TAKE1", F.RSRC_CONF, F.GLOBAL_ONLY, "unixd_module",
     "The directory to chroot(2) into"),
    ("Listen", "TAKE_ARGV", F.RSRC_CONF, F.GLOBAL_ONLY, "mpm_event_module",
     "A port number or a numeric IP address and a port number, and an "
     "optional protocol"),
    ("LoadModule", "TAKE2", F.RSRC_CONF | F.EXEC_ON_READ, 0, "so_module",
     "a module name and the name of a shared object file to load it from"),
    ("<Directory", "RAW_ARGS", F.RSRC_CONF, F.NOT_IN_DIR_CONTEXT,
     "core_module", "Container for directives affecting resources located "
     "in the specified directories"),
    ("<VirtualHost", "RAW_ARGS", F.RSRC_CONF, F.GLOBAL_ONLY, "core_module",
     "Container to map directives to a particular virtual host, takes one "
     "or more host addresses"),
    ("<IfModule", "RAW_ARGS", F.EXEC_ON_READ | F.OR_ALL, 0,
     "core_module",
     "Container for directives based on existence of specified modules"),
    ("<IfVersion", "TAKE123", F.EXEC_ON_READ | F.OR_ALL, 0,
     "version_module",
     "a comparison operator, a version (and a delimiter)"),
    ("Include", "TAKE1", F.RSRC_CONF | F.ACCESS_CONF | F.EXEC_ON_READ, 0,
     "core_module", "Name(s) of the config file(s) to be included; fails "
     "if the wildcard does not match at least one file"),
    ("Options", "RAW_ARGS", F.OR_OPTIONS, 0, "core_module",
     "Set a number of attributes for a given directory"),
    # httpd only warns (AH00114) for AllowOverride in <Location>/<Files>:
    # measured, so the table carries no context flag for it.
    ("AllowOverride", "RAW_ARGS", F.ACCESS_CONF, 0, "core_module", "Controls what groups of directives "
     "can be configured by per-directory config files"),
    ("<Files", "RAW_ARGS", F.OR_ALL, F.NOT_IN_LIMIT | F.NOT_IN_LOCATION,
     "core_module", "Container for directives affecting files matching "
     "specified patterns"),
    ("<Limit", "RAW_ARGS", F.OR_LIMIT | F.OR_AUTHCFG, 0, "core_module",
     "Container for authentication directives when accessed using "
     "specified HTTP methods"),
    ("User", "TAKE1", F.RSRC_CONF, F.GLOBAL_ONLY, "unixd_module",
     "Effective user id for this server"),
    ("KeepAlive", "FLAG", F.RSRC_CONF, F.NOT_IN_DIR_CONTEXT, "http_module",
     "Whether persistent connections should be On or Off"),
    ("CustomLog", "TAKE23", F.RSRC_CONF, 0, "log_config_module",
     "a file name, a custom log format string or format name, and an "
     "optional \"env=\" or \"expr=\" clause (see docs)"),
    ("AddHandler", "ITERATE2", F.OR_FILEINFO, 0, "mime_module",
     "a handler name followed by one or more file extensions"),
    ("SSLEngine", "TAKE1", F.RSRC_CONF, 0, "ssl_module",
     "SSL switch for the protocol engine ('on', 'off')"),
    ("RewriteEngine", "FLAG", F.OR_FILEINFO, 0, "rewrite_module",
     "On or Off to enable or disable (default) the whole rewriting engine"),
    # AP_INIT_NO_ARGS stores RAW_ARGS in httpd 2.4 (http_config.h)
    ("SSLRequireSSL", "RAW_ARGS", F.OR_AUTHCFG, 0, "ssl_module",
     "Require the SSL protocol for the per-directory context "
     "(no arguments)"),
    ("<Macro", "RAW_ARGS", F.EXEC_ON_READ | F.OR_ALL, 0,
     "macro_module",
     "Beginning of a macro definition section."),
    ("<Proxy", "RAW_ARGS", F.RSRC_CONF, F.NOT_IN_DIR_CONTEXT,
     "proxy_module", "Container for directives affecting resources located "
     "in the proxied location"),
])
def test_spot_checks(name, how, req, check, mod, help_):
    tup = DIRECTIVES[name.lower()]
    assert tup == (name, how, req, check, mod, help_)


def test_exec_on_read_set():
    ex = {t[NAME] for t in DIRECTIVES.values() if t[REQ] & F.EXEC_ON_READ}
    for n in ("Define", "UnDefine", "Include", "IncludeOptional",
              "ServerRoot", "DefaultRuntimeDir", "<IfModule", "<IfDefine",
              "<IfFile", "<IfDirective", "<IfSection", "LoadModule",
              "LoadFile", "<IfVersion", "<Macro", "Use", "UndefMacro"):
        assert n in ex, n
    assert "Listen" not in ex


def test_modules():
    assert MODULES["cgid_module"] == ("mod_cgid.c", "mod_cgid.so", False)
    assert MODULES["core_module"] == ("core.c", None, True)
    assert MODULES["http_module"] == ("http_core.c", None, True)
    assert MODULES["so_module"] == ("mod_so.c", None, True)
    assert MODULES["mpm_event_module"] == ("event.c", "mod_mpm_event.so",
                                           False)
    assert MODULES["mpm_prefork_module"][0] == "prefork.c"
    assert MODULES["http2_module"] == ("mod_http2.c", "mod_http2.so", False)
    assert MODULES["ldap_module"] == ("util_ldap.c", "mod_ldap.so", False)
    builtins = sorted(s for s, v in MODULES.items() if v[2])
    assert builtins == sorted([
        "core_module", "so_module", "watchdog_module", "http_module",
        "log_config_module", "logio_module", "version_module",
        "unixd_module"])
    assert len(MODULES) == 8 + 118


def test_duplicates():
    # shared by the three MPMs; DIRECTIVES prefers the event MPM
    alts = {t[MOD] for t in ALTERNATES["listen"]}
    assert alts == {"mpm_worker_module", "mpm_prefork_module"}
    assert DIRECTIVES["scriptlog"][MOD] == "cgid_module"
    assert [t[MOD] for t in ALTERNATES["scriptlog"]] == ["cgi_module"]
    assert "minspareservers" in DIRECTIVES  # prefork only
    assert DIRECTIVES["minspareservers"][MOD] == "mpm_prefork_module"


# ---------------------------------------------------------------------------
# Comparison with the installed httpd (apache2 -L)
# ---------------------------------------------------------------------------

MODDIR = "/usr/lib/apache2/modules"


def _allowed_text(req):
    """Rebuild the 'Allowed in' text httpd -L prints (config.c
    show_overrides), without the '[no per-dir config]' remark."""
    s = "Allowed in *.conf "
    if (req & (F.OR_OPTIONS | F.OR_FILEINFO | F.OR_INDEXES)) or \
            ((req & F.RSRC_CONF) and
             (req & (F.ACCESS_CONF | F.OR_AUTHCFG | F.OR_LIMIT))):
        s += "anywhere"
    elif req & F.RSRC_CONF:
        s += "only outside <Directory>, <Files>, <Location>, or <If>"
    else:
        s += "only inside <Directory>, <Files>, <Location>, or <If>"
    if req & F.OR_ALL:
        s += " and in .htaccess when AllowOverride"
        if req & F.OR_ALL == F.OR_ALL:
            s += " isn't None"
        else:
            parts = [n for bit, n in ((F.OR_AUTHCFG, "AuthConfig"),
                                      (F.OR_LIMIT, "Limit"),
                                      (F.OR_OPTIONS, "Options"),
                                      (F.OR_FILEINFO, "FileInfo"),
                                      (F.OR_INDEXES, "Indexes"))
                     if req & bit]
            s += " includes " + " or ".join(parts)
    return s


def _parse_listing(text):
    lines = text.rstrip("\n").split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\S+) \((\S+)\)$", lines[i])
        assert m, lines[i]
        i += 1
        body = []
        while not lines[i].startswith("\tAllowed in *.conf "):
            body.append(lines[i])
            i += 1
        allowed = lines[i][1:]
        i += 1
        if i < len(lines) and lines[i].startswith("\twhen AllowOverride"):
            allowed += " " + lines[i][1:]
            i += 1
        help_ = "\n".join(body)
        if help_.startswith("\t"):
            help_ = help_[1:]
        allowed = allowed.replace(" [no per-dir config]", "")
        out.append((m.group(1), m.group(2), help_, allowed))
    return out


def _run_listing(tmp_path, loads):
    conf = tmp_path / "all.conf"
    conf.write_text("".join("LoadModule %s %s\n" % (s, os.path.join(
        MODDIR, so)) for s, so in loads))
    cmd = [shutil.which("apache2"),
           "-C", "ServerRoot %s" % tmp_path,
           "-C", "PidFile %s" % (tmp_path / "httpd.pid"),
           "-C", "ErrorLog %s" % (tmp_path / "error.log"),
           "-C", "ServerName localhost",
           "-c", "Listen 127.0.0.1:65080",
           "-f", str(conf), "-L"]
    env = dict(os.environ)
    env.setdefault("APACHE_RUN_DIR", str(tmp_path))
    env.setdefault("APACHE_LOG_DIR", str(tmp_path))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env, timeout=60)
    return p


@pytest.mark.httpd
@pytest.mark.skipif(not shutil.which("apache2") or not os.path.isdir(MODDIR),
                    reason="Debian apache2 not installed")
def test_matches_httpd_listing(tmp_path):
    loads = [(sym, so) for sym, (_, so, _b) in MODULES.items()
             if so and sym not in ("mpm_worker_module", "mpm_prefork_module")
             and os.path.exists(os.path.join(MODDIR, so))]
    skipped = []
    for _ in range(len(loads) + 1):
        p = _run_listing(tmp_path, loads)
        if p.returncode == 0:
            break
        m = re.search(r"Syntax error on line (\d+) of", p.stderr)
        assert m, p.stderr
        skipped.append(loads.pop(int(m.group(1)) - 1))
    assert p.returncode == 0, p.stderr
    listing = _parse_listing(p.stdout)

    struct2sym = {v[0]: k for k, v in MODULES.items()}
    loaded = set()
    seen = set()
    problems = []
    for name, struct, help_, allowed in listing:
        sym = struct2sym.get(struct)
        if sym is None:
            problems.append("unknown module %s" % struct)
            continue
        loaded.add(sym)
        cands = [DIRECTIVES.get(name.lower())] + \
            list(ALTERNATES.get(name.lower(), ()))
        cands = [c for c in cands if c and c[MOD] == sym]
        if not cands:
            problems.append("missing %s (%s)" % (name, sym))
            continue
        tup = cands[0]
        seen.add((name.lower(), sym))
        if tup[NAME] != name:
            problems.append("name %s vs %s" % (tup[NAME], name))
        if tup[HELP] != help_:
            problems.append("help of %s: %r vs %r" % (name, tup[HELP],
                                                      help_))
        if _allowed_text(tup[REQ]) != allowed:
            problems.append("context of %s: %r vs %r" % (
                name, _allowed_text(tup[REQ]), allowed))
    for key, tup in DIRECTIVES.items():
        for t in (tup,) + tuple(ALTERNATES.get(key, ())):
            if t[MOD] in loaded and (key, t[MOD]) not in seen:
                problems.append("not listed by httpd: %s (%s)" % (t[NAME],
                                                                  t[MOD]))
    print("httpd lists %d directives from %d modules; table has %d "
          "names (+%d alternates); skipped loads: %s" % (
              len(listing), len(loaded), len(DIRECTIVES),
              sum(len(v) for v in ALTERNATES.values()), skipped))
    assert not problems, "\n".join(problems)
    # every Debian module except the other two MPMs got loaded
    assert not skipped
