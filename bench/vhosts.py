"""Wall time of cgidlint vs apache2 -t on the same generated N-vhost config.

    python3 bench/vhosts.py [N] [RUNS]

Runs both alternately (after a warm-up) and prints medians and the ratio.
Times are ratios within one run: the machine is shared and noisy.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

MOD = "/usr/lib/apache2/modules"


def generate(d, n):
    lines = ["ServerRoot %s" % d, "PidFile %s/pid" % d, "ErrorLog %s/err" % d, "ServerName localhost",
             "Listen 127.0.0.1:18080", "User www-data", "Group www-data"]
    for m in ("mpm_event", "authz_core", "alias", "dir", "cgid", "rewrite"):
        lines.insert(1, "LoadModule %s_module %s/mod_%s.so" % (m, MOD, m))
    for i in range(n):
        lines += ["<VirtualHost *:18080>",
                  "    ServerName site%d.example.com" % i, "    ServerAlias www.site%d.example.com" % i,
                  "    DocumentRoot /srv/www/site%d/htdocs" % i, "    # per-site settings",
                  '    ScriptAlias /cgi-bin/ "/srv/www/site%d/cgi-bin/"' % i,
                  "    <Directory /srv/www/site%d/htdocs>" % i, "        Options -Indexes +FollowSymLinks",
                  "        AllowOverride None", "        Require all granted", "    </Directory>",
                  "    RewriteEngine On", "    RewriteRule ^/old/(.*)$ /new/$1 [R=301,L]",
                  "    DirectoryIndex index.html index.cgi", "</VirtualHost>"]
    path = os.path.join(d, "httpd.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    d = tempfile.mkdtemp(prefix="cgidlint-bench-")
    conf = generate(d, n)
    httpd = ["apache2", "-t", "-f", conf]
    lint = [sys.executable, "-m", "cgidlint", conf]
    timed(httpd), timed(lint)  # warm-up
    th, tl = [], []
    for _ in range(runs):
        th.append(timed(httpd))
        tl.append(timed(lint))
    mh, ml = statistics.median(th), statistics.median(tl)
    print("vhosts=%d size=%d bytes runs=%d" % (n, os.path.getsize(conf), runs))
    print("apache2 -t median %.3f s | cgidlint median %.3f s | ratio cgidlint/httpd %.2f" % (mh, ml, ml / mh))


if __name__ == "__main__":
    main()
