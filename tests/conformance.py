"""Shared harness for the parser conformance cases (../shared/design/parser-cases).

Each case is materialised in a directory and read twice: by the real
``apache2 -t`` (the oracle) and by cgidlint's engine, with the same ``-C``
preamble the recorded verdicts used, so line numbers are those of the file.
"""

import os
import re
import shutil
import subprocess

from shared import SHARED

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(SHARED, "design", "parser-cases")
APACHE2 = shutil.which("apache2") or ("/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else None)
MODDIR = "/usr/lib/apache2/modules"


def load_cases():
    ns = {}
    with open(os.path.join(CASES_DIR, "cases.py")) as f:
        exec(compile(f.read(), "cases.py", "exec"), ns)
    out = []
    for c in ns["CASES"]:
        name, files = c[0], c[1]
        opts = c[2] if len(c) > 2 else {}
        out.append((name, files, opts))
    return out


def materialise(case, root):
    name, files, opts = case
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for rel, content in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(content, str):
            content = content.replace("$D", d).encode("utf-8")
        else:
            content = content.replace(b"$D", d.encode())
        with open(p, "wb") as f:
            f.write(content)
    return d


def preamble(d, opts):
    lines = [
        "ServerRoot %s" % d,
        "PidFile %s/httpd.pid" % d,
        "Listen 127.0.0.1:18080",
        "LoadModule mpm_event_module %s/mod_mpm_event.so" % MODDIR,
        "ServerName localhost",
        "ErrorLog %s/error.log" % d,
    ]
    for m in opts.get("mods", []):
        lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
    return lines


def run_httpd(d, opts):
    """(rc, output lines) from the real apache2 -t."""
    cmd = [APACHE2, "-t", "-D", "DUMP_RUN_CFG", "-f", os.path.join(d, "httpd.conf")]
    for l in preamble(d, opts):
        cmd += ["-C", l]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace").splitlines()


_SYNTAX = re.compile(r"Syntax error on line (\d+) of ([^:]+):")


def httpd_error_location(lines):
    """(file, line) of the innermost 'Syntax error on line N of F' in httpd's output."""
    found = None
    for l in lines:
        for m in _SYNTAX.finditer(l):
            found = (m.group(2), int(m.group(1)))
        if found:
            break
    return found


def run_cgidlint(d, opts):
    """(accepted, (file, line) of the first error or None, errors) from cgidlint's engine."""
    from cgidlint.evaluate.build import read_config
    from cgidlint.evaluate.walk import walk
    pre = [l.encode() for l in preamble(d, opts)]
    cfg = read_config(os.path.join(d, "httpd.conf"), defines=["DUMP_RUN_CFG"], env={},
                      build="debian", server_root=d, pre_directives=pre)
    errors = [e for e in cfg.errors if e.severity == "error"]
    if not errors:
        errors = [e for e in walk(cfg, "debian") if e.severity == "error"]
    if not errors:
        return True, None, []
    e = errors[0]
    return False, (e.file, e.line), errors
