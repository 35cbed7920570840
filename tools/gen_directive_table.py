#!/usr/bin/env python3
"""Generate cgidlint/httpd_data/directives.py from the httpd 2.4.x sources.

This is a developer tool; it is *not* run at lint time.  It reads the
httpd source tree straight out of a git repository (no work tree needed),
finds the module structure of every module Debian's apache2 package ships
(plus the compiled-in ones and the three Unix MPMs), locates each module's
``command_rec`` table, expands the few local wrapper macros (mod_ssl's
``SSL_CMD_*``, ``LISTEN_COMMANDS``, ``AP_GRACEFUL_SHUTDOWN_TIMEOUT_COMMAND``,
object-like name/flag macros ...) and decodes every ``AP_INIT_*`` entry:

* directive name, ``args_how``, ``req_override`` (evaluated to an int),
* the help string (C string literal concatenation decoded exactly),
* the ``ap_check_cmd_context(cmd, FLAGS)`` flags the handler checks
  unconditionally at its top (0 when there is none or it is unclear).

Only *data* is extracted; no httpd code is copied.

Usage::

    python3 tools/gen_directive_table.py \
        [--repo /work/.mirror/apache+httpd/repo] [--ref refs/heads/2.4.x] \
        [--out cgidlint/httpd_data/directives.py] [--verbose]
"""

import argparse
import os
import re
import subprocess
import sys
from collections import OrderedDict

DEFAULT_REPO = "/work/.mirror/apache+httpd/repo"
DEFAULT_REF = "refs/heads/2.4.x"

# ---------------------------------------------------------------------------
# What Debian ships.
# ---------------------------------------------------------------------------

# Source files of the modules compiled into Debian's apache2 binary
# (``apache2 -l``).  Order is the order httpd lists them.
DEBIAN_BUILTIN_FILES = [
    "server/core.c",
    "modules/core/mod_so.c",
    "modules/core/mod_watchdog.c",
    "modules/http/http_core.c",
    "modules/loggers/mod_log_config.c",
    "modules/loggers/mod_logio.c",
    "modules/metadata/mod_version.c",
    "modules/arch/unix/mod_unixd.c",
]

# Every shared object in /usr/lib/apache2/modules of Debian's apache2
# package (2.4.x).  mod_mpm_*.so are built from server/mpm/*/.
DEBIAN_SO_FILES = """
mod_access_compat.so mod_actions.so mod_alias.so mod_allowmethods.so
mod_asis.so mod_auth_basic.so mod_auth_digest.so mod_auth_form.so
mod_authn_anon.so mod_authn_core.so mod_authn_dbd.so mod_authn_dbm.so
mod_authn_file.so mod_authn_socache.so mod_authnz_fcgi.so mod_authnz_ldap.so
mod_authz_core.so mod_authz_dbd.so mod_authz_dbm.so mod_authz_groupfile.so
mod_authz_host.so mod_authz_owner.so mod_authz_user.so mod_autoindex.so
mod_brotli.so mod_bucketeer.so mod_buffer.so mod_cache.so mod_cache_disk.so
mod_cache_socache.so mod_case_filter.so mod_case_filter_in.so
mod_cern_meta.so mod_cgi.so mod_cgid.so mod_charset_lite.so mod_data.so
mod_dav.so mod_dav_fs.so mod_dav_lock.so mod_dbd.so mod_deflate.so
mod_dialup.so mod_dir.so mod_dumpio.so mod_echo.so mod_env.so mod_expires.so
mod_ext_filter.so mod_file_cache.so mod_filter.so mod_headers.so
mod_heartbeat.so mod_heartmonitor.so mod_http2.so mod_ident.so
mod_imagemap.so mod_include.so mod_info.so mod_lbmethod_bybusyness.so
mod_lbmethod_byrequests.so mod_lbmethod_bytraffic.so
mod_lbmethod_heartbeat.so mod_ldap.so mod_log_debug.so mod_log_forensic.so
mod_lua.so mod_macro.so mod_md.so mod_mime.so mod_mime_magic.so
mod_mpm_event.so mod_mpm_prefork.so mod_mpm_worker.so mod_negotiation.so
mod_proxy.so mod_proxy_ajp.so mod_proxy_balancer.so mod_proxy_connect.so
mod_proxy_express.so mod_proxy_fcgi.so mod_proxy_fdpass.so mod_proxy_ftp.so
mod_proxy_hcheck.so mod_proxy_html.so mod_proxy_http.so mod_proxy_http2.so
mod_proxy_scgi.so mod_proxy_uwsgi.so mod_proxy_wstunnel.so mod_ratelimit.so
mod_reflector.so mod_remoteip.so mod_reqtimeout.so mod_request.so
mod_rewrite.so mod_sed.so mod_session.so mod_session_cookie.so
mod_session_crypto.so mod_session_dbd.so mod_setenvif.so
mod_slotmem_plain.so mod_slotmem_shm.so mod_socache_dbm.so
mod_socache_memcache.so mod_socache_redis.so mod_socache_shmcb.so
mod_speling.so mod_ssl.so mod_status.so mod_substitute.so mod_suexec.so
mod_unique_id.so mod_userdir.so mod_usertrack.so mod_vhost_alias.so
mod_xml2enc.so
""".split()

# Module symbols whose .so name is not "mod_" + symbol-without-"_module".
SO_NAME_OVERRIDES = {
    "mpm_event_module": "mod_mpm_event.so",
    "mpm_worker_module": "mod_mpm_worker.so",
    "mpm_prefork_module": "mod_mpm_prefork.so",
}

# When a directive name is defined by several modules, the entry in
# DIRECTIVES is taken from the module listed first here (Debian's defaults:
# event MPM, mod_cgid); the others go to ALTERNATES.
PREFERRED_MODULES = ["mpm_event_module", "cgid_module"]

# check_context values measured against the real Debian apache2 2.4.71
# (``apache2 -t`` with the directive placed inside <VirtualHost>,
# <Directory>, <Location>, <Files>, <If>, <Proxy> and <Location><Limit>,
# plus a live server for .htaccess), applied after extraction to every
# module's entry of that name.  They correct what static extraction of the
# handlers' ap_check_cmd_context() calls gets wrong.  Each value replaces
# the extracted flags; bits for contexts where httpd says "not allowed
# here" first (req_override) are unobservable and follow the source.
# tests/test_context_flags.py re-checks a sample against the binary.
_G = 0x5f                 # GLOBAL_ONLY
_DIR_FILES = 0x04 | 0x10  # NOT_IN_DIRECTORY | NOT_IN_FILES
MEASURED_CONTEXT_OVERRIDES = {
    # The GLOBAL_ONLY check sits under #ifndef SSL_OP_NO_COMPRESSION, not
    # compiled with OpenSSL >= 1.0: accepted in <VirtualHost>.
    "sslcompression": 0,
    # set_override(_list) only logs AH00114 "Useless use of AllowOverride"
    # in <Location>/<Files>/<If>/<Limit>; the directive is accepted.
    "allowoverride": 0,
    "allowoverridelist": 0,
    # EXEC_ON_READ: the handler runs while the file is read, with the main
    # server and no path, so ap_check_cmd_context() never fires; accepted
    # in <VirtualHost>, <Directory>, <Location>, <Files>, <If>, <Proxy>
    # and <Limit>.
    "serverroot": 0,
    "defaultruntimedir": 0,
    "luaauthzprovider": 0,
    # The check is in a helper the handler calls (add_pass, add_alias /
    # add_alias_internal), not in the handler itself.  Rejected in
    # <Directory>, <Files>, <If> and <Limit>; accepted in <Location> and
    # <Proxy> (one-argument form).  The two-argument Alias/ScriptAlias
    # form is also rejected in <Location>/<Proxy> ("cannot occur within
    # directory context"): argument-dependent, not representable here.
    "proxypass": _DIR_FILES,
    "proxypassmatch": _DIR_FILES,
    "alias": _DIR_FILES,
    "scriptalias": _DIR_FILES,
    # md_conf_check_location(cmd, MD_LOC_ALL) helper: rejected in
    # <Directory>, <Location> and <Limit>; accepted in <Files>/<If>/<Proxy>.
    "mdrequirehttps": 0x04 | 0x08,
    # Check not at the top of fcgi_define_provider: rejected in
    # <VirtualHost> (RSRC_CONF only, so the rest is unobservable).
    "authnzfcgidefineprovider": _G,
    # Binary-only directives (newer than the source snapshot): rejected in
    # <VirtualHost>; RSRC_CONF only.
    "listentcpdeferaccept": _G,
    "sslvhostsnipolicy": _G,
}

# Preprocessor symbols as seen by Debian's Linux build.  Conditions that
# involve symbols not listed are taken as true (and reported with -v).
DEFINED = {
    "RLIMIT_CPU": 1, "RLIMIT_NPROC": 1, "RLIMIT_DATA": 1, "RLIMIT_VMEM": 0,
    "RLIMIT_AS": 1, "APR_HAS_THREADS": 1, "HAVE_TLSEXT": 1,
    "HAVE_OCSP_STAPLING": 1, "HAVE_TLS_SESSION_TICKETS": 1,
    "HAVE_SSL_CONF_CMD": 1, "HAVE_SRP": 1, "HAVE_FIPS": 1,
    "HAVE_OPENSSL_ENGINE": 1, "MODSSL_HAVE_ENGINE_API": 1,
    "HAVE_SSL_CACHE_ENTRY_SHARED": 1, "HC_USE_THREADS": 1,
    "AP_ENABLE_EXCEPTION_HOOK": 0, "APR_HAS_SHARED_MEMORY": 1,
    "APR_HAS_MMAP": 1, "APR_HAS_SENDFILE": 1, "HAVE_UNIX_SUEXEC": 1,
    "AP_MODULE_FLAG_NONE": 1, "APR_HAVE_IPV6": 1, "APR_HAS_LDAP": 1,
    "APR_HAS_LDAP_SSL": 1, "APR_HAS_OPENLDAP_LDAPSDK": 1,
    "HAVE_TIMES": 1, "HAVE_SETRLIMIT": 1, "HAVE_GETRLIMIT": 1,
    "AP_HAVE_RELIABLE_PIPED_LOGS": 1, "APR_HAS_FORK": 1,
    "AP_HAS_THREAD_LOCAL": 1, "HAVE_SYSTEMD": 0,
    "WIN32": 0, "_WIN32": 0, "NETWARE": 0, "OS2": 0, "__OS2__": 0,
    "BEOS": 0, "TPF": 0, "GPROF": 0, "AUTHZ_EXTRA_CONFIGS": 0,
    "BIG_SECURITY_HOLE": 0, "NO_PROTOCOL": 0, "AP_DEBUG": 0,
    "SUEXEC_BIN": 1, "AP_MPM_WANT_SET_GRACEFUL_SHUTDOWN": 1,
    "MOD_SSL_EXPERIMENTAL": 0, "SSL_EXPERIMENTAL_ENGINE": 1,
    "APR_HAS_XLATE": 1, "APU_HAS_XLATE": 1, "APR_HAS_RANDOM": 1,
    "HAVE_PCRE2": 1, "AP_HAS_RESPONSE_BUCKETS": 0,
    "AP_HAVE_DESIGNATED_INITIALIZER": 1,
    "APR_MAJOR_VERSION": 1, "APR_MINOR_VERSION": 7,
    "APU_MAJOR_VERSION": 1, "APU_MINOR_VERSION": 6, "APU_HAVE_CRYPTO": 1,
    "OPENSSL_VERSION_NUMBER": 0x30000000, "LIBRESSL_VERSION_NUMBER": 0,
    "OPENSSL_NO_SRP": 0, "OPENSSL_NO_TLSEXT": 0, "OPENSSL_NO_OCSP": 0,
    "OPENSSL_NO_ENGINE": 0, "OPENSSL_NO_COMP": 0, "OPENSSL_NO_EC": 0,
}

FLAG_VALUES = OrderedDict()  # filled from include/http_config.h

# ---------------------------------------------------------------------------
# git access
# ---------------------------------------------------------------------------


class Tree(object):
    def __init__(self, repo, ref):
        self.repo = repo
        self.ref = ref
        out = subprocess.check_output(
            ["git", "-C", repo, "ls-tree", "-r", "--name-only", ref])
        self.files = out.decode("utf-8").splitlines()
        self._cache = {}

    def read(self, path):
        if path not in self._cache:
            data = subprocess.check_output(
                ["git", "-C", self.repo, "show", "%s:%s" % (self.ref, path)])
            self._cache[path] = data.decode("latin-1")
        return self._cache[path]


# ---------------------------------------------------------------------------
# Lexing / preprocessing
# ---------------------------------------------------------------------------

TOKEN_RE = re.compile(r'''
    (?P<ws>\s+)
  | (?P<str>L?"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>\#\#|\#|->|<<|>>|\|\||&&|==|!=|<=|>=|\.\.\.|[^\s])
''', re.X | re.S)


def strip_comments(text):
    """Remove /* */ and // comments, keeping string literals intact and
    preserving newlines (so preprocessor lines stay lines)."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    break
                j += 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                j = n
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            if j < 0:
                j = n
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text):
    toks = []
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        toks.append((kind, m.group(kind)))
    return toks


class Macro(object):
    def __init__(self, name, params, body):
        self.name = name
        self.params = params  # None for object-like
        self.body = body      # token list


def eval_condition(expr, macros, unknown):
    """Evaluate a #if expression; unknown symbols make it 'true'."""
    def repl_defined(m):
        name = m.group(1)
        if name in macros:
            return "1"
        if name in DEFINED:
            return "1" if DEFINED[name] else "0"
        unknown.add(name)
        return "1"
    e = re.sub(r"defined\s*\(?\s*(\w+)\s*\)?", repl_defined, expr)
    bad = []

    def repl_id(m):
        name = m.group(0)
        if name in DEFINED:
            return str(int(DEFINED[name]))
        if name in macros and macros[name].params is None:
            body = " ".join(t[1] for t in macros[name].body)
            if re.match(r"^\(?\s*-?\d+[uUlL]*\s*\)?$", body):
                return re.sub(r"[uUlL]", "", body)
        bad.append(name)
        return "1"
    e = re.sub(r"\b[A-Za-z_]\w*\b", repl_id, e)
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    e = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", e)
    if bad:
        unknown.update(bad)
        return True
    try:
        return bool(eval(e, {"__builtins__": {}}, {}))
    except Exception:
        unknown.add(expr.strip())
        return True


def preprocess(text, macros, unknown):
    """Run the conditional-compilation part of the preprocessor, collect
    #defines into ``macros`` and return the remaining (unexpanded) code."""
    text = strip_comments(text).replace("\\\r\n", "").replace("\\\n", "")
    out = []
    stack = []  # entries: [active_now, taken_already, parent_active]
    active = True
    for line in text.split("\n"):
        s = line.strip()
        if not s.startswith("#"):
            out.append(line if active else "")
            continue
        m = re.match(r"#\s*(\w+)\s*(.*)$", s)
        if not m:
            out.append("")
            continue
        d, rest = m.group(1), m.group(2)
        if d in ("if", "ifdef", "ifndef"):
            if d == "if":
                val = eval_condition(rest, macros, unknown)
            else:
                name = rest.split()[0] if rest.split() else ""
                if name in macros:
                    isdef = True
                elif name in DEFINED:
                    isdef = bool(DEFINED[name])
                else:
                    # unknown: header guards etc. -> assume undefined for
                    # ifndef (the guard case) and report ifdef.
                    isdef = False
                    if d == "ifdef":
                        unknown.add(name)
                        isdef = True
                val = isdef if d == "ifdef" else not isdef
            stack.append([active and val, val, active])
            active = active and val
        elif d == "elif":
            top = stack[-1]
            if top[1]:
                top[0] = False
            else:
                val = eval_condition(rest, macros, unknown)
                top[0] = top[2] and val
                top[1] = val
            active = top[0]
        elif d == "else":
            top = stack[-1]
            top[0] = top[2] and not top[1]
            top[1] = True
            active = top[0]
        elif d == "endif":
            top = stack.pop()
            active = top[2]
        elif d == "define" and active:
            dm = re.match(r"(\w+)(\(([^)]*)\))?\s*(.*)$", rest)
            if dm:
                params = None
                if dm.group(2) is not None:
                    params = [p.strip() for p in dm.group(3).split(",")
                              if p.strip()]
                macros[dm.group(1)] = Macro(dm.group(1), params,
                                            tokenize(dm.group(4)))
        elif d == "undef" and active:
            macros.pop(rest.strip(), None)
        out.append("")
    return "\n".join(out)


def split_args(toks, start):
    """toks[start] is '('; return (list of arg token lists, index after ')')."""
    depth = 0
    args = [[]]
    i = start
    while i < len(toks):
        t = toks[i]
        if t[1] in ("(", "[", "{"):
            depth += 1
            if depth > 1:
                args[-1].append(t)
        elif t[1] in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return args, i + 1
            args[-1].append(t)
        elif t[1] == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(t)
        i += 1
    raise ValueError("unbalanced parentheses")


def expand(toks, macros, only=None, depth=0):
    """Expand macros in a token list.  ``only`` restricts which macro
    names are expanded (None: all known macros)."""
    if depth > 20:
        return toks
    out = []
    i = 0
    changed = False
    while i < len(toks):
        t = toks[i]
        m = macros.get(t[1]) if t[0] == "id" else None
        if m is not None and (only is None or only(t[1])):
            if m.params is None:
                out.extend(m.body)
                changed = True
                i += 1
                continue
            if i + 1 < len(toks) and toks[i + 1][1] == "(":
                args, j = split_args(toks, i + 1)
                if args == [[]]:
                    args = []
                amap = dict(zip(m.params, args))
                body = []
                k = 0
                b = m.body
                while k < len(b):
                    bt = b[k]
                    if bt[1] == "#" and k + 1 < len(b) and b[k + 1][1] in amap:
                        s = " ".join(x[1] for x in amap[b[k + 1][1]])
                        body.append(("str", '"%s"' % s.replace('"', '\\"')))
                        k += 2
                        continue
                    if bt[0] == "id" and bt[1] in amap:
                        pasted = (k + 1 < len(b) and b[k + 1][1] == "##") \
                            or (k > 0 and b[k - 1][1] == "##")
                        arg = amap[bt[1]]
                        if not pasted:
                            # C: arguments are fully macro-expanded before
                            # substitution unless next to # or ##
                            arg = expand(arg, macros, only, depth + 1)
                        body.append(("arg", arg))
                    else:
                        body.append(bt)
                    k += 1
                # token pasting
                flat = []
                k = 0
                while k < len(body):
                    bt = body[k]
                    if bt[1] == "##":
                        k += 1
                        continue
                    if k + 2 < len(body) and body[k + 1][1] == "##":
                        left = bt[1] if bt[0] != "arg" else \
                            "".join(x[1] for x in bt[1])
                        right = body[k + 2]
                        right = right[1] if right[0] != "arg" else \
                            "".join(x[1] for x in right[1])
                        body[k + 2] = ("id", left + right)
                        k += 2
                        continue
                    if bt[0] == "arg":
                        flat.extend(bt[1])
                    else:
                        flat.append(bt)
                    k += 1
                out.extend(flat)
                changed = True
                i = j
                continue
        out.append(t)
        i += 1
    if changed:
        return expand(out, macros, only, depth + 1)
    return out


# ---------------------------------------------------------------------------
# Value decoding
# ---------------------------------------------------------------------------

SIMPLE_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b",
              "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"',
              "?": "?"}


def decode_c_string(lit):
    assert lit[0] == '"' and lit[-1] == '"', lit
    s = lit[1:-1]
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        c = s[i]
        if c in SIMPLE_ESC:
            out.append(SIMPLE_ESC[c])
            i += 1
        elif c in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i:])
            out.append(chr(int(m.group(0), 8)))
            i += len(m.group(0))
        elif c == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 1:])
            out.append(chr(int(m.group(0), 16)))
            i += 1 + len(m.group(0))
        else:
            raise ValueError("unknown escape \\%s in %s" % (c, lit))
    return "".join(out)


def string_value(toks):
    """Concatenate string literal tokens; None for NULL."""
    toks = [t for t in toks if t[1] not in ("(", ")")]
    if len(toks) == 1 and toks[0][1] in ("NULL", "0"):
        return None
    parts = []
    for t in toks:
        if t[0] != "str":
            raise ValueError("non-literal in string: %r" % (toks,))
        parts.append(decode_c_string(t[1]))
    return "".join(parts)


def int_value(toks, where):
    expr = []
    for t in toks:
        if t[0] == "id":
            if t[1] not in FLAG_VALUES:
                raise ValueError("%s: unknown flag %s" % (where, t[1]))
            expr.append(str(FLAG_VALUES[t[1]]))
        elif t[0] == "num":
            expr.append(str(int(re.sub(r"[uUlL]", "", t[1]), 0)))
        elif t[1] in ("|", "(", ")", "&", "~", "+"):
            expr.append(t[1])
        else:
            raise ValueError("%s: bad token %r" % (where, t))
    return int(eval(" ".join(expr), {"__builtins__": {}}, {}))


def handler_name(toks):
    """Return the function name of an AP_INIT func argument (casts
    stripped)."""
    ids = [t[1] for t in toks if t[0] == "id"]
    return ids[-1] if ids else None


# ---------------------------------------------------------------------------
# Source model
# ---------------------------------------------------------------------------


class SourceSet(object):
    """Preprocessed + tokenized files, with a global header macro table."""

    def __init__(self, tree, verbose=False):
        self.tree = tree
        self.verbose = verbose
        self.unknown = {}
        self.header_macros = {}
        headers = sorted(f for f in tree.files
                         if f.startswith("include/") and f.endswith(".h"))
        for h in headers:
            unk = set()
            preprocess(tree.read(h), self.header_macros, unk)
        self._files = {}

    def load(self, path):
        """Return (tokens, macros) for a .c file.  Macros: header macros
        plus the file's own and its directory's headers'."""
        if path in self._files:
            return self._files[path]
        macros = dict(self.header_macros)
        d = os.path.dirname(path)
        for f in self.tree.files:
            if os.path.dirname(f) == d and f.endswith(".h"):
                preprocess(self.tree.read(f), macros, set())
        unk = set()
        code = preprocess(self.tree.read(path), macros, unk)
        self.unknown[path] = unk
        toks = tokenize(code)
        self._files[path] = (toks, macros, code)
        return self._files[path]


def find_module_decls(toks):
    """Yield (symbol, init_args) for module structure definitions."""
    i = 0
    while i < len(toks):
        t = toks[i]
        sym = None
        j = None
        if t[1] == "AP_DECLARE_MODULE" and i + 4 < len(toks) \
                and toks[i + 1][1] == "(" and toks[i + 3][1] == ")" \
                and toks[i + 4][1] == "=":
            sym = toks[i + 2][1] + "_module"
            j = i + 5
        elif t[1] == "module" and i + 3 < len(toks) and \
                toks[i + 1][1].endswith("DECLARE_DATA") and \
                toks[i + 3][1] == "=":
            # module AP_MODULE_DECLARE_DATA foo_module = { (or the
            # DAV_DECLARE_DATA etc. variants)
            sym = toks[i + 2][1]
            j = i + 4
        if sym and toks[j][1] == "{":
            args, k = split_args(toks, j)
            yield sym, args
            i = k
            continue
        i += 1


def find_cmd_table(toks, name):
    """Return the token list inside ``command_rec name[] = { ... }``."""
    for i in range(len(toks) - 5):
        if toks[i][1] == "command_rec" and toks[i + 1][1] == name and \
                toks[i + 2][1] == "[":
            j = i + 3
            while toks[j][1] != "{":
                j += 1
            args, k = split_args(toks, j)
            # re-join: we want the raw tokens
            return toks[j + 1:k - 1]
    return None


def find_functions(toks):
    """Map function name -> body token list, for functions whose first
    parameter is ``cmd_parms *``."""
    funcs = {}
    i = 0
    n = len(toks)
    while i < n:
        if toks[i][0] == "id" and i + 3 < n and toks[i + 1][1] == "(" and \
                toks[i + 2][1] == "cmd_parms":
            name = toks[i][1]
            try:
                _, j = split_args(toks, i + 1)
            except ValueError:
                i += 1
                continue
            if j < n and toks[j][1] == "{":
                depth = 0
                k = j
                while k < n:
                    if toks[k][1] == "{":
                        depth += 1
                    elif toks[k][1] == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    k += 1
                funcs.setdefault(name, toks[j + 1:k])
                i = k
                continue
        i += 1
    return funcs


CONTROL = {"if", "else", "return", "switch", "for", "while", "do", "goto",
           "case"}


def top_context_check(body):
    """Flags of an ap_check_cmd_context(cmd, CONST) call that is executed
    unconditionally at the top of a handler body, else 0/None."""
    for i, t in enumerate(body):
        if t[1] != "ap_check_cmd_context":
            continue
        if i + 1 >= len(body) or body[i + 1][1] != "(":
            return None
        args, _ = split_args(body, i + 1)
        if len(args) != 2:
            return None
        # Statement start: tokens before the call must not contain control
        # flow or nested blocks.  The call may itself sit in the condition
        # of an ``if`` (``if ((err = ap_check_cmd_context(...)))``), so we
        # look back to the previous ';' or '{'/'}' at depth 0.
        stmt_start = 0
        for k in range(i - 1, -1, -1):
            if body[k][1] in (";", "{", "}"):
                stmt_start = k + 1
                break
        before = body[:stmt_start]
        if any(b[1] in CONTROL or b[1] in ("{", "}") or
               b[1] == "ap_check_cmd_context" for b in before):
            return None
        stmt = body[stmt_start:i]
        if any(b[1] in CONTROL - {"if"} for b in stmt):
            return None
        if any(b[1] == "?" for b in stmt):
            return None
        try:
            return int_value(args[1], "check_cmd_context")
        except ValueError:
            return None
    return 0


# ---------------------------------------------------------------------------
# Installed binaries (x86-64 ELF): read the module's command_rec table
# ---------------------------------------------------------------------------
#
# The 2.4.x source snapshot can lag behind the packaged release (e.g.
# Debian 2.4.71 ships directives added in 2025).  When the Debian
# binaries are present, the generator reads each module's real
# command table from them (data only: name, req_override, args_how,
# errmsg) and reconciles: the binary wins for args_how / req_override /
# help and for *which* directives exist; the source supplies
# check_context (left 0 for binary-only directives).

import struct as _struct


class Elf(object):
    """Minimal ELF64 little-endian reader: dynamic symbols, RELATIVE
    relocations and reads by virtual address."""

    def __init__(self, path):
        with open(path, "rb") as fh:
            self.data = fh.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("%s: not an ELF64 LE file" % path)
        (e_phoff, e_shoff) = _struct.unpack_from("<QQ", d, 0x20)
        (e_phentsize, e_phnum, e_shentsize, e_shnum) = \
            _struct.unpack_from("<HHHH", d, 0x36)
        self.loads = []
        for i in range(e_phnum):
            (p_type, _f, p_offset, p_vaddr, _pa, p_filesz) = \
                _struct.unpack_from("<IIQQQQ", d, e_phoff + i * e_phentsize)
            if p_type == 1:
                self.loads.append((p_vaddr, p_offset, p_filesz))
        secs = []
        for i in range(e_shnum):
            secs.append(_struct.unpack_from("<IIQQQQIIQQ", d,
                                            e_shoff + i * e_shentsize))
        self.relative = {}
        self.symbols = {}
        for (_n, sh_type, _fl, _a, off, size, link, _i, _al, entsize) \
                in secs:
            if sh_type == 4:  # SHT_RELA
                for k in range(0, size, 24):
                    r_off, r_info, r_add = _struct.unpack_from("<QQq", d,
                                                               off + k)
                    if r_info & 0xffffffff == 8:  # R_X86_64_RELATIVE
                        self.relative[r_off] = r_add
                    else:
                        self.relative.setdefault(r_off, -1)
            elif sh_type == 11:  # SHT_DYNSYM
                stroff = secs[link][4]
                for k in range(0, size, 24):
                    st_name, _info, _o, _sh, st_value, _sz = \
                        _struct.unpack_from("<IBBHQQ", d, off + k)
                    end = d.index(b"\0", stroff + st_name)
                    nm = d[stroff + st_name:end].decode("latin-1")
                    if st_value:
                        self.symbols[nm] = st_value

    def offset(self, vaddr):
        for (va, off, size) in self.loads:
            if va <= vaddr < va + size:
                return off + vaddr - va
        return None

    def pointer(self, vaddr):
        """Target of a pointer stored at vaddr (None for NULL; -1 for a
        symbol relocation, i.e. non-NULL but not resolvable here)."""
        if vaddr in self.relative:
            return self.relative[vaddr]
        off = self.offset(vaddr)
        v = _struct.unpack_from("<Q", self.data, off)[0] if off is not None \
            else 0
        return v or None

    def cstring(self, vaddr):
        off = self.offset(vaddr)
        end = self.data.index(b"\0", off)
        return self.data[off:end].decode("latin-1")

    def u32(self, vaddr):
        return _struct.unpack_from("<i", self.data, self.offset(vaddr))[0]


def binary_commands(path, symbol):
    """[(name, args_how, req_override, help)] of module ``symbol`` in the
    ELF file ``path`` (command_rec is 40 bytes; module.cmds at +88)."""
    elf = Elf(path)
    mod = elf.symbols[symbol]
    table = elf.pointer(mod + 88)
    out = []
    if not table or table < 0:
        return out
    rec = table
    while True:
        namep = elf.pointer(rec)
        if not namep:
            break
        name = elf.cstring(namep)
        req = elf.u32(rec + 24)
        how = ARGS_HOW[elf.u32(rec + 28)]
        helpp = elf.pointer(rec + 32)
        help_ = elf.cstring(helpp) if helpp else ""
        out.append((name, how, req, help_))
        rec += 40
    return out


# ---------------------------------------------------------------------------
# Main extraction
# ---------------------------------------------------------------------------

ARGS_HOW = ["RAW_ARGS", "TAKE1", "TAKE2", "ITERATE", "ITERATE2", "FLAG",
            "NO_ARGS", "TAKE12", "TAKE3", "TAKE23", "TAKE123", "TAKE13",
            "TAKE_ARGV"]


def load_flags(tree):
    text = strip_comments(tree.read("include/http_config.h"))
    defs = OrderedDict()
    for m in re.finditer(r"#define\s+(\w+)\s+(.+)", text):
        defs[m.group(1)] = m.group(2).strip()
    names = ["OR_NONE", "OR_LIMIT", "OR_OPTIONS", "OR_FILEINFO", "OR_AUTHCFG",
             "OR_INDEXES", "OR_UNSET", "ACCESS_CONF", "RSRC_CONF",
             "EXEC_ON_READ", "NONFATAL_OVERRIDE", "NONFATAL_UNKNOWN",
             "NONFATAL_ALL", "PROXY_CONF", "OR_ALL",
             "NOT_IN_VIRTUALHOST", "NOT_IN_LIMIT", "NOT_IN_DIRECTORY",
             "NOT_IN_LOCATION", "NOT_IN_FILES", "NOT_IN_HTACCESS",
             "NOT_IN_PROXY", "NOT_IN_DIR_LOC_FILE", "NOT_IN_DIR_CONTEXT",
             "GLOBAL_ONLY"]
    for name in names:
        expr = defs[name]
        expr = re.sub(r"\b[A-Z_]+\b",
                      lambda m: str(FLAG_VALUES[m.group(0)]), expr)
        FLAG_VALUES[name] = int(eval(expr, {"__builtins__": {}}, {}))


def module_sources(tree, decl_file):
    """Candidate files holding the command table / handlers of a module
    declared in decl_file: the file itself first, then its directory."""
    d = os.path.dirname(decl_file)
    files = [decl_file]
    files += sorted(f for f in tree.files if os.path.dirname(f) == d
                    and f.endswith(".c") and f != decl_file)
    if decl_file.startswith("server/"):
        # core and the MPMs use handlers from server/*.c (listen.c,
        # mpm_common.c, util_*.c ...)
        files += sorted(f for f in tree.files
                        if os.path.dirname(f) == "server"
                        and f.endswith(".c") and f not in files)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default=DEFAULT_REPO)
    ap.add_argument("--ref", default=DEFAULT_REF)
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "cgidlint",
        "httpd_data", "directives.py"))
    ap.add_argument("--httpd-binary", default="/usr/sbin/apache2",
                    help="binary holding the compiled-in modules")
    ap.add_argument("--modules-dir", default="/usr/lib/apache2/modules")
    ap.add_argument("--no-binaries", action="store_true",
                    help="use the sources only (no reconciliation with the "
                    "installed Debian binaries)")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args(argv)

    tree = Tree(opts.repo, opts.ref)
    load_flags(tree)
    src = SourceSet(tree, opts.verbose)
    commit = subprocess.check_output(
        ["git", "-C", opts.repo, "rev-parse", opts.ref]).decode().strip()
    release = src.header_macros.get("AP_SERVER_PATCHLEVEL_NUMBER")
    release = "2.4.%s" % release.body[0][1] if release else "2.4.x"

    # ---- locate module declarations ---------------------------------
    candidates = [f for f in tree.files if f.endswith(".c") and
                  (f.startswith("modules/") or f.startswith("server/"))]
    decl_by_symbol = {}
    for f in candidates:
        text = tree.read(f)
        if "AP_DECLARE_MODULE" not in text and \
                "DECLARE_DATA" not in text:
            continue
        if "/win32/" in f or "/netware/" in f or "/os2/" in f or \
                "/winnt/" in f or "mpmt_os2" in f:
            continue
        toks, macros, _ = src.load(f)
        for sym, args in find_module_decls(toks):
            decl_by_symbol.setdefault(sym, (f, args))

    wanted = OrderedDict()  # symbol -> (decl_file, so, builtin)
    for f in DEBIAN_BUILTIN_FILES:
        toks, _, _ = src.load(f)
        syms = [s for s, _ in find_module_decls(toks)]
        assert len(syms) == 1, (f, syms)
        wanted[syms[0]] = (f, None, True)
    so_to_sym = {}
    for sym in decl_by_symbol:
        so = SO_NAME_OVERRIDES.get(sym, "mod_" + sym[:-len("_module")] + ".so")
        so_to_sym[so] = sym
    for so in DEBIAN_SO_FILES:
        sym = so_to_sym.get(so)
        if sym is None:
            raise SystemExit("no source module found for %s" % so)
        wanted[sym] = (decl_by_symbol[sym][0], so, False)

    # ---- AP_INIT_* macro -> args_how actually stored ---------------------
    init_how = {}
    for mname, m in src.header_macros.items():
        if mname.startswith("AP_INIT_") and m.params:
            vals = [x[1] for x in m.body if x[0] == "id" and x[1] in ARGS_HOW]
            assert len(vals) == 1, (mname, vals)
            init_how[mname] = vals[0]
    assert init_how["AP_INIT_TAKE1"] == "TAKE1"

    # ---- extract directives -------------------------------------------
    entries = []  # (lname, tuple, decl order)
    modules = OrderedDict()
    for sym, (decl_file, so, builtin) in wanted.items():
        struct = os.path.basename(decl_file)
        modules[sym] = (struct, so, builtin)
        toks, macros, _ = src.load(decl_file)
        args = dict(find_module_decls(toks))[sym]
        stuff = "".join(t[1] for t in args[0])
        idx = 6 if stuff == "MPM20_MODULE_STUFF" else 5
        cmds_tok = args[idx] if len(args) > idx else [("id", "NULL")]
        cmds_name = cmds_tok[-1][1]
        if cmds_name in ("NULL", "0"):
            continue
        table = None
        files = module_sources(tree, decl_file)
        for f in files:
            ftoks, fmacros, _ = src.load(f)
            table = find_cmd_table(ftoks, cmds_name)
            if table is not None:
                table_file = f
                break
        if table is None:
            raise SystemExit("%s: command table %s not found" %
                             (sym, cmds_name))
        tmacros = src.load(table_file)[1]
        funcs = {}
        for f in reversed(files):
            funcs.update(find_functions(src.load(f)[0]))
        funcs.update(find_functions(src.load(table_file)[0]))
        table = expand(table, tmacros,
                       only=lambda n: not n.startswith("AP_INIT_"))
        i = 0
        while i < len(table):
            t = table[i]
            if t[0] == "id" and t[1].startswith("AP_INIT_") and \
                    table[i + 1][1] == "(":
                # args_how is what the AP_INIT_* macro of http_config.h
                # stores (AP_INIT_NO_ARGS stores RAW_ARGS in 2.4!)
                how = init_how[t[1]]
                cargs, i = split_args(table, i + 1)
                assert len(cargs) == 5, (sym, cargs)
                name = string_value(cargs[0])
                if name is None:
                    continue
                func = handler_name(cargs[1])
                where = "%s:%s" % (table_file, name)
                req = int_value(cargs[3], where)
                help_ = string_value(cargs[4])
                check = 0
                body = funcs.get(func)
                if body is not None:
                    c = top_context_check(body)
                    check = c or 0
                elif opts.verbose and not func.startswith("ap_set_"):
                    sys.stderr.write("no body for handler %s (%s)\n" %
                                     (func, name))
                entries.append((name.lower(), (name, how, req, check, sym,
                                               help_ or "")))
                continue
            i += 1
        if opts.verbose and src.unknown.get(table_file):
            sys.stderr.write("%s: assumed-true conditions: %s\n" %
                             (table_file, sorted(src.unknown[table_file])))

    # ---- reconcile with the installed binaries ------------------------
    notes = []
    binary_only = []
    binver = None
    use_bin = not opts.no_binaries and os.path.exists(opts.httpd_binary) \
        and os.path.isdir(opts.modules_dir)
    if use_bin:
        try:
            binver = subprocess.check_output(
                [opts.httpd_binary, "-v"], stderr=subprocess.STDOUT
            ).decode("latin-1").splitlines()[0].split(":", 1)[1].strip()
        except Exception:
            binver = os.path.basename(opts.httpd_binary)
        new_entries = []
        for sym, (struct_name, so, builtin) in modules.items():
            path = opts.httpd_binary if builtin else \
                os.path.join(opts.modules_dir, so)
            bcmds = binary_commands(path, sym)
            src_list = OrderedDict()
            for lname, tup in entries:
                if tup[4] == sym:
                    src_list.setdefault(lname, tup)
            for (bname, bhow, breq, bhelp) in bcmds:
                lname = bname.lower()
                stup = src_list.pop(lname, None)
                if stup is None:
                    binary_only.append(lname)
                    notes.append("binary only: %s (%s)" % (bname, sym))
                    new_entries.append((lname, (bname, bhow, breq, 0, sym,
                                                bhelp)))
                    continue
                for what, a, b in (("name", stup[0], bname),
                                   ("args_how", stup[1], bhow),
                                   ("req_override", stup[2], breq),
                                   ("help", stup[5], bhelp)):
                    if a != b:
                        notes.append("%s of %s (%s): source %r, binary %r"
                                     % (what, bname, sym, a, b))
                new_entries.append((lname, (bname, bhow, breq, stup[3],
                                            sym, bhelp)))
            for lname, stup in src_list.items():
                notes.append("source only, not in the binary: %s (%s)"
                             % (stup[0], sym))
        entries = new_entries
        for n in notes:
            sys.stderr.write("reconcile: %s\n" % n)

    # ---- measured corrections of check_context -------------------------
    names = set(lname for lname, _ in entries)
    stale = sorted(set(MEASURED_CONTEXT_OVERRIDES) - names)
    if stale:
        raise SystemExit("MEASURED_CONTEXT_OVERRIDES: unknown directives %s"
                         % ", ".join(stale))
    overridden = []
    for k, (lname, tup) in enumerate(entries):
        if lname in MEASURED_CONTEXT_OVERRIDES:
            value = MEASURED_CONTEXT_OVERRIDES[lname]
            if tup[3] != value:
                overridden.append("%s (%s): %#x -> %#x"
                                  % (tup[0], tup[4], tup[3], value))
            entries[k] = (lname, tup[:3] + (value,) + tup[4:])
    for n in overridden:
        sys.stderr.write("measured override: %s\n" % n)

    # ---- resolve duplicates --------------------------------------------
    by_name = OrderedDict()
    for lname, tup in entries:
        by_name.setdefault(lname, []).append(tup)

    def rank(tup):
        sym = tup[4]
        return PREFERRED_MODULES.index(sym) if sym in PREFERRED_MODULES \
            else len(PREFERRED_MODULES)

    directives = OrderedDict()
    alternates = OrderedDict()
    for lname, tups in by_name.items():
        # a module may list a directive twice (never happens in 2.4.x,
        # but keep the first as httpd does)
        seen = OrderedDict()
        for tup in tups:
            seen.setdefault(tup[4], tup)
        tups = list(seen.values())
        best = sorted(tups, key=rank)[0]
        directives[lname] = best
        if len(tups) > 1:
            alternates[lname] = tuple(t for t in tups if t is not best)

    write_output(opts.out, directives, alternates, modules, commit,
                 opts.ref, release, binver, notes, binary_only, overridden)
    sys.stderr.write("%d directives (%d with alternates) from %d modules "
                     "-> %s\n" % (len(directives), len(alternates),
                                  len(modules), os.path.normpath(opts.out)))
    return 0


HEADER = '''\
"""httpd 2.4 directive table (GENERATED - do not edit).

Generated by tools/gen_directive_table.py from the httpd sources
(%(ref)s @ %(commit)s, %(release)s-dev) for core, the MPMs and every
module shipped by Debian's apache2 package.

DIRECTIVES: lower-cased name -> (Name, args_how, req_override,
            check_context, module_symbol, help)
    Name           canonical spelling (sections keep the '<': '<Directory')
    args_how       'RAW_ARGS' 'TAKE1' 'TAKE2' 'TAKE3' 'TAKE12' 'TAKE23'
                   'TAKE123' 'TAKE13' 'ITERATE' 'ITERATE2' 'FLAG'
                   'NO_ARGS' 'TAKE_ARGV'  (the value httpd stores: in 2.4
                   AP_INIT_NO_ARGS stores RAW_ARGS, so 'NO_ARGS' does not
                   occur and such directives silently ignore arguments)
    req_override   command_rec.req_override bits (see flags.py: OR_*,
                   ACCESS_CONF, RSRC_CONF, EXEC_ON_READ, PROXY_CONF ...)
    check_context  ap_check_cmd_context() flags the handler checks
                   unconditionally first thing (flags.py NOT_IN_*,
                   GLOBAL_ONLY); 0 when none or not statically clear
    module_symbol  key into MODULES, e.g. 'cgid_module'
    help           command_rec.errmsg, exactly as httpd appends it to
                   "X takes one argument, <help>" ('' when NULL)

Duplicates: a few names are defined by several modules (the three MPMs
share Listen, StartServers, MaxRequestWorkers ...; mod_cgi and mod_cgid
share ScriptLog*).  DIRECTIVES holds one entry chosen by preference
(mpm_event_module, then cgid_module, else the first module in table
order); ALTERNATES maps the lower-cased name to the tuple of the other
modules' entries (same layout).  httpd itself uses the most recently
loaded module that defines the name.

MODULES: module_symbol -> (struct_name, so_filename, builtin_in_debian)
    struct_name is the name <IfModule> matches (source file basename,
    'event.c' for mpm_event_module); so_filename is None for modules
    compiled into Debian's apache2 binary.
"""

'''


def write_output(path, directives, alternates, modules, commit, ref,
                 release, binver, notes, binary_only, overridden=()):
    lines = [HEADER % {"ref": ref, "commit": commit, "release": release}]
    if overridden:
        lines.append("# check_context replaced by values measured against "
                     "apache2 2.4.71\n# (MEASURED_CONTEXT_OVERRIDES in "
                     "tools/gen_directive_table.py):\n")
        for n in overridden:
            lines.append("#   %s\n" % n)
        lines.append("\n")
    if binver:
        lines.append("# Reconciled with the installed binaries (%s):\n"
                     % binver)
        lines.append("# the binary's command tables decide which directives "
                     "exist and their\n# args_how/req_override/help; "
                     "differences from the source:\n")
        for n in notes:
            lines.append("#   %s\n" % n)
        lines.append("\n")
    lines.append("SOURCE_REF = %r\n" % ref)
    lines.append("SOURCE_COMMIT = %r\n" % commit)
    lines.append("SOURCE_RELEASE = %r\n" % (release + "-dev"))
    lines.append("BINARY_VERSION = %r\n\n" % binver)
    lines.append("# Directives found only in the binaries (newer than the "
                 "source snapshot):\n# their check_context is unknown "
                 "(0).\n")
    lines.append("BINARY_ONLY = frozenset(%r)\n\n" %
                 sorted(set(binary_only)))
    lines.append("MODULES = {\n")
    for sym, tup in modules.items():
        lines.append("    %r: %r,\n" % (sym, tup))
    lines.append("}\n\n")
    lines.append("DIRECTIVES = {\n")
    for lname, tup in directives.items():
        lines.append("    %r: %r,\n" % (lname, tup))
    lines.append("}\n\n")
    lines.append("ALTERNATES = {\n")
    for lname, tups in alternates.items():
        lines.append("    %r: (\n" % lname)
        for tup in tups:
            lines.append("        %r,\n" % (tup,))
        lines.append("    ),\n")
    lines.append("}\n")
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        os.makedirs(d)
    with open(path, "w") as fh:
        fh.write("".join(lines))


if __name__ == "__main__":
    sys.exit(main())
