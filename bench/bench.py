"""cgidlint against ``apache2 -t`` on generated configuration trees.

    python3 bench/bench.py [--runs N] [--trees a,b,...] [--write bench/RESULTS.md] [--keep DIR]

Generates the trees (see TREES), then for each runs ``apache2 -t`` and
cgidlint on the same tree alternately: one warm-up round, then N rounds
(default 5).  A round runs ``apache2 -t``, then cgidlint cold
(``--no-cache``), cgidlint with an empty cache (it writes the entry) and
cgidlint again (a cache hit).  Prints medians, the ratios to ``apache2 -t``
and the peak RSS of each process (GNU time), and with ``--write``
puts the table into that file between the bench markers, keeping the rest.

The machine is shared and noisy: only the ratios within one run mean
something, which is why the programs alternate.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MODULES_DIR = "/usr/lib/apache2/modules"
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_C7 = os.path.join(os.environ.get("CGIDLINT_SHARED") or os.path.join(HERE, "..", "..", "shared"),
                         "corpus", "real", "centos7-rhel7-httpd")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

HEAD = """ServerRoot "{root}"
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule alias_module {mods}/mod_alias.so
LoadModule dir_module {mods}/mod_dir.so
LoadModule cgid_module {mods}/mod_cgid.so
LoadModule rewrite_module {mods}/mod_rewrite.so
PidFile {root}/run/httpd.pid
ErrorLog {root}/logs/error_log
ServerName localhost
Listen 127.0.0.1:18080
User www-data
Group www-data
ScriptSock {root}/run/cgisock
"""

VHOST = """<VirtualHost *:18080>
    ServerName site{i}.example.com
    ServerAlias www.site{i}.example.com
    DocumentRoot {root}/www/site{i}/htdocs
    # per-site settings
    ScriptAlias /cgi-bin/ "{root}/www/site{i}/cgi-bin/"
    <Directory {root}/www/site{i}/htdocs>
        Options -Indexes +FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    RewriteEngine On
    RewriteRule ^/old/(.*)$ /new/$1 [R=301,L]
    DirectoryIndex index.html index.cgi
</VirtualHost>
"""


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _skeleton(root, n_sites):
    for d in ("run", "logs"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    # Real trees have their document roots: without them apache2 -t spends
    # its time printing one warning per vhost.
    for i in range(n_sites):
        os.makedirs(os.path.join(root, "www", "site%d" % i, "htdocs"), exist_ok=True)
    return HEAD.format(root=root, mods=MODULES_DIR)


def one_file(n):
    def make(root):
        text = _skeleton(root, n) + "".join(VHOST.format(i=i, root=root) for i in range(n))
        _write(os.path.join(root, "httpd.conf"), text)
        return os.path.join(root, "httpd.conf")
    return make


def sites_enabled(n):
    def make(root):
        text = _skeleton(root, n) + "IncludeOptional %s/sites-enabled/*.conf\n" % root
        for i in range(n):
            _write(os.path.join(root, "sites-enabled", "site%05d.conf" % i), VHOST.format(i=i, root=root))
        _write(os.path.join(root, "apache2.conf"), text)
        return os.path.join(root, "apache2.conf")
    return make


def include_chain(depth):
    """Each level includes the next (httpd allows 128 levels)."""
    def make(root):
        per_level = 10
        _write(os.path.join(root, "httpd.conf"), _skeleton(root, depth * per_level)
               + "Include %s/chain/level1.conf\n" % root)
        for level in range(1, depth + 1):
            body = "".join(VHOST.format(i=(level - 1) * per_level + k, root=root) for k in range(per_level))
            if level < depth:
                body += "Include %s/chain/level%d.conf\n" % (root, level + 1)
            _write(os.path.join(root, "chain", "level%d.conf" % level), body)
        return os.path.join(root, "httpd.conf")
    return make


def centos7(root):
    """The stock CentOS 7 tree (httpd.conf, conf.modules.d, conf.d/ssl.conf
    from the corpus) made runnable here: ServerRoot in the temp dir, a
    modules link to Debian's modules, the stock 00-mpm.conf (prefork) and
    00-ssl.conf, users that exist, the SSL files ssl.conf names, no
    LoadModule for what Debian's apache2 has built in (so cgidlint is told
    --build debian: the tree is checked for the binary that runs it)."""
    shutil.copytree(CORPUS_C7, root, dirs_exist_ok=True)
    os.symlink(MODULES_DIR, os.path.join(root, "modules"))
    for d in ("logs", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    _write(os.path.join(root, "conf.modules.d", "00-mpm.conf"),
           "LoadModule mpm_prefork_module modules/mod_mpm_prefork.so\n")
    _write(os.path.join(root, "conf.modules.d", "00-ssl.conf"), "LoadModule ssl_module modules/mod_ssl.so\n")
    conf = os.path.join(root, "conf", "httpd.conf")
    with open(conf) as f:
        text = f.read()
    text = text.replace('ServerRoot "/etc/httpd"', 'ServerRoot "%s"' % root)
    text = text.replace("User apache", "User www-data").replace("Group apache", "Group www-data")
    text = text.replace("Listen 80", "Listen 127.0.0.1:18081")
    _write(conf, text)
    ssl = os.path.join(root, "conf.d", "ssl.conf")
    with open(ssl) as f:
        text = f.read()
    for name in ("/etc/pki/tls/certs/localhost.crt", "/etc/pki/tls/private/localhost.key",
                 "/usr/libexec/httpd-ssl-pass-dialog"):
        _write(root + name, "placeholder\n")
        text = text.replace(name, root + name)
    text = text.replace("Listen 443", "Listen 127.0.0.1:18443")
    _write(ssl, text)
    # Debian builds these in or does not ship them.
    base = os.path.join(root, "conf.modules.d", "00-base.conf")
    with open(base) as f:
        lines = f.read().splitlines(True)
    with open(base, "w") as f:
        for line in lines:
            words = line.split()
            if len(words) == 3 and words[0] == "LoadModule" and \
                    not os.path.exists(os.path.join(MODULES_DIR, os.path.basename(words[2]))):
                line = "#" + line
            f.write(line)
    return conf


TREES = [
    # name, what, generator, cgidlint options
    ("centos7", "stock CentOS 7 tree", centos7, ["--build", "debian"]),
    ("vhosts-1k", "one file, 1,000 vhosts", one_file(1000), []),
    ("vhosts-10k", "one file, 10,000 vhosts", one_file(10000), []),
    ("vhosts-50k", "one file, 50,000 vhosts", one_file(50000), []),
    ("sites-10k", "sites-enabled/, 10,000 one-vhost files", sites_enabled(10000), []),
    ("chain-100", "Include chain 100 deep, 10 vhosts a level", include_chain(100), []),
]


TIME = "/usr/bin/time"  # GNU time: a small parent, see run()


def run(cmd, env):
    """(wall seconds, peak RSS in KiB, exit status) of one run.

    The peak RSS comes from GNU time, not from our own wait4(): Linux keeps a
    process's RSS high-water mark across exec, so a child forked from this
    (large) Python process would report at least our size."""
    with tempfile.NamedTemporaryFile("r") as rss:
        t = time.perf_counter()
        p = subprocess.run([TIME, "-o", rss.name, "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - t
        return wall, int(rss.read().split()[-1]), p.returncode


def cgidlint_command():
    """The installed console script (what users run), else ``python -m``."""
    script = os.path.join(os.path.dirname(sys.executable), "cgidlint")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "cgidlint"]


def child_env(base):
    """The environment the programs run in: cgidlint's cache under ``base``;
    compiled bytecode kept (under ``base`` too), as for an installed package
    (PYTHONDONTWRITEBYTECODE would recompile every module on every run)."""
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(base, "cache"), PYTHONPYCACHEPREFIX=os.path.join(base, "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(conf, runs, env, options):
    httpd = ["apache2", "-t", "-f", conf]
    lint = cgidlint_command() + [conf] + options
    cache_dir = os.path.join(env["XDG_CACHE_HOME"], "cgidlint")
    check = subprocess.run(httpd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    if check.returncode != 0:
        raise SystemExit("apache2 -t fails on %s:\n%s" % (conf, check.stdout.decode(errors="replace")[-2000:]))
    out = subprocess.run(lint, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    if out.returncode not in (0, 1):
        raise SystemExit("cgidlint fails on %s:\n%s" % (conf, out.stdout.decode(errors="replace")[-2000:]))
    samples = {"httpd": [], "cold": [], "first": [], "cached": []}
    commands = {"httpd": httpd, "cold": lint + ["--no-cache"], "first": lint, "cached": lint}
    for round_no in range(runs + 1):   # round 0 is the warm-up
        for what in ("httpd", "cold", "first", "cached"):
            if what == "first":
                shutil.rmtree(cache_dir, ignore_errors=True)  # a miss: reads, then writes the entry
            result = run(commands[what], env)
            if round_no:
                samples[what].append(result)
    return {k: (statistics.median(w for w, _, _ in v), max(r for _, r, _ in v)) for k, v in samples.items()}


def machine_line():
    httpd_version = subprocess.run(["apache2", "-v"], stdout=subprocess.PIPE).stdout.decode().splitlines()[0]
    uname = subprocess.run(["uname", "-a"], stdout=subprocess.PIPE).stdout.decode().strip()
    return "`%s`; %d cores; Python %s; %s" % (uname, os.cpu_count() or 0, platform.python_version(),
                                              httpd_version.split(":", 1)[-1].strip())


def table(results, runs):
    rows = ["| tree | config | apache2 -t | cgidlint cold | ratio | first run (writes cache) | ratio "
            "| re-run (cache hit) | ratio | peak RSS apache2 -t | peak RSS cgidlint cold / hit | ratio |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, what, size, r in results:
        h, c, f, k = r["httpd"], r["cold"], r["first"], r["cached"]
        rows.append("| %s (%s) | %.2f MB | %.3f s | %.3f s | **%.2fx** | %.3f s | %.2fx | %.3f s | **%.2fx** "
                    "| %.0f MB | %.0f / %.0f MB | **%.2fx** |" % (
                        name, what, size / 1e6, h[0], c[0], c[0] / h[0], f[0], f[0] / h[0], k[0], k[0] / h[0],
                        h[1] / 1024, c[1] / 1024, k[1] / 1024, c[1] / h[1]))
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return "\n".join(["Measured %s on: %s" % (date, machine_line()), "",
                      "Medians of %d alternating runs after one warm-up; wall time includes process start." % runs,
                      ""] + rows)


def tree_size(conf):
    top = os.path.dirname(conf)
    total = 0
    for d, _, files in os.walk(top):
        for f in files:
            if f.endswith(".conf"):
                total += os.path.getsize(os.path.join(d, f))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--trees", default=",".join(t[0] for t in TREES))
    ap.add_argument("--write", metavar="FILE", help="put the table into FILE between the bench markers")
    ap.add_argument("--keep", metavar="DIR", help="generate the trees in DIR and keep them")
    args = ap.parse_args()
    wanted = args.trees.split(",")
    unknown = set(wanted) - set(t[0] for t in TREES)
    if unknown:
        ap.error("unknown trees: %s" % ", ".join(sorted(unknown)))
    base = args.keep or tempfile.mkdtemp(prefix="cgidlint-bench-")
    env = child_env(base)
    results = []
    try:
        for name, what, make, options in TREES:
            if name not in wanted:
                continue
            root = os.path.join(base, name)
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(root)
            conf = make(root)
            r = measure(conf, args.runs, env, options)
            results.append((name, what, tree_size(conf), r))
            h, c, f, k = r["httpd"], r["cold"], r["first"], r["cached"]
            print("%-11s apache2 -t %.3f s %4.0f MB | cold %.3f s (%.2fx) %4.0f MB | first %.3f s (%.2fx) "
                  "| re-run %.3f s (%.2fx) %4.0f MB" % (name, h[0], h[1] / 1024, c[0], c[0] / h[0], c[1] / 1024,
                                                        f[0], f[0] / h[0], k[0], k[0] / h[0], k[1] / 1024),
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    text = table(results, args.runs)
    print()
    print(text)
    if args.write:
        old = open(args.write).read() if os.path.exists(args.write) else BEGIN + "\n" + END + "\n"
        if BEGIN not in old or END not in old:
            old = old + "\n" + BEGIN + "\n" + END + "\n"
        head, rest = old.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(args.write, "w") as f:
            f.write(head + BEGIN + "\n" + text + "\n" + END + tail)


if __name__ == "__main__":
    main()
