"""Observe a running scenario through its pytest-testinfra host.

Three kinds of evidence, each read on the target itself (``local://`` or
``docker://CONTAINER``): the HTTP result of requesting the CGI (curl on the
target), the error-log lines written since httpd was started, and whether
the cgid socket exists in the host view and in the jail view.
"""

import os
import re
import shlex
import time

AH_RE = re.compile(r"\b(AH\d{5})\b")
ERRNO_RE = re.compile(r"\((\d+)\)[^()]*?:")


def log_size(target, path):
    r = target.run("stat -c %%s %s 2>/dev/null || echo 0" % shlex.quote(path))
    try:
        return int(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def read_log(target, path, offset=0):
    r = target.run("tail -c +%d %s 2>/dev/null" % (offset + 1, shlex.quote(path)))
    return r.stdout


def log_tail(target, path, offset=0, n=8):
    lines = read_log(target, path, offset).strip().splitlines()
    return "error log %s:\n%s" % (path, "\n".join(lines[-n:]) if lines else "(empty)")


def wait_ready(target, pidfile, port, seconds=20):
    """Wait until the pidfile exists and the port answers HTTP; (pid, waited)."""
    script = (
        "i=0; while [ $i -lt %d ]; do "
        "if [ -s %s ]; then c=$(curl -s -o /dev/null -w '%%{http_code}' --max-time 2 http://127.0.0.1:%s/); "
        "if [ \"$c\" != 000 ]; then cat %s; exit 0; fi; fi; sleep 0.1; i=$((i+1)); done; exit 1"
        % (seconds * 10, shlex.quote(pidfile), port, shlex.quote(pidfile)))
    t0 = time.time()
    r = target.run(script)
    if r.ok:
        return r.stdout.strip(), time.time() - t0
    return None, time.time() - t0


def stop_httpd(target, pidfile, jail):
    """Stop httpd by its pid, then anything left whose root is inside the jail."""
    pf, J = shlex.quote(pidfile), shlex.quote(jail.rstrip("/"))
    script = (
        "how=none; if [ -s %(pf)s ]; then pid=$(cat %(pf)s); how=TERM; kill -TERM $pid 2>/dev/null; i=0; "
        "while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done; "
        "if kill -0 $pid 2>/dev/null; then kill -KILL $pid; how=KILL; fi; fi; "
        "n=0; for p in /proc/[0-9]*; do r=$(readlink $p/root 2>/dev/null) || continue; "
        "case \"$r\" in %(J)s|%(J)s/*) kill -KILL ${p#/proc/} 2>/dev/null && n=$((n+1));; esac; done; "
        # wait until they are really gone (they may still hold the port)
        "i=0; while [ $i -lt 50 ]; do left=0; for p in /proc/[0-9]*; do r=$(readlink $p/root 2>/dev/null) "
        "|| continue; case \"$r\" in %(J)s|%(J)s/*) left=1;; esac; done; [ $left = 0 ] && break; "
        "sleep 0.1; i=$((i+1)); done; "
        "rm -f %(pf)s; echo \"$how, $n leftover(s) killed\"" % {"pf": pf, "J": J})
    r = target.run(script)
    return r.ok, r.stdout.strip() or r.stderr.strip()


class Observation(object):
    def __init__(self):
        self.http = None        # int, or "timeout", or "error"
        self.body = ""
        self.seconds = None
        self.log_lines = []
        self.ids = []
        self.errno_257 = []
        self.socket_path = None
        self.socket_host = None  # list of socket files found in the host view
        self.socket_jail = None

    def summary(self):
        parts = ["HTTP %s in %.1fs" % (self.http, self.seconds or 0)]
        interesting = [i for i in ("AH01257", "AH02833", "AH01243", "AH01238", "AH01254") if i in self.ids]
        if interesting:
            parts.append("log " + ",".join(interesting))
        if self.errno_257:
            parts.append("errno %s" % ",".join(str(e) for e in sorted(set(self.errno_257))))
        if self.socket_host is not None:
            parts.append("socket host:%s jail:%s" % ("yes" if self.socket_host else "no",
                                                      "yes" if self.socket_jail else "no"))
        if self.http == 200 and self.body:
            parts.append("body %r" % self.body.strip().splitlines()[0][:40])
        return "; ".join(parts)

    def key_log_line(self):
        for want in ("AH01257", "AH02833", "AH01254", "AH01243", "AH01238"):
            for line in self.log_lines:
                if want in line:
                    return line.strip()
        return None

    def evidence(self):
        ev = []
        rel = [l for l in self.log_lines if AH_RE.search(l) and "AH00558" not in l]
        if rel:
            ev.append("error log (new lines):\n" + "\n".join(l.strip() for l in rel[-8:]))
        if self.body and self.http != 200:
            ev.append("body: " + self.body.strip()[:200])
        ev.append("socket %s: host view %s; jail view %s" % (
            self.socket_path, self.socket_host or "none", self.socket_jail or "none"))
        return ev


def observe(target, run, exp):
    """Request the CGI, then read the log and look for the socket."""
    obs = Observation()
    port = run.port
    url = "http://127.0.0.1:%s%s" % (port, exp.path)
    cmd = ("curl -s --max-time %d -w '\\n%%{http_code}' %s; echo \" rc=$?\""
           % (int(exp.timeout), shlex.quote(url)))
    t0 = time.time()
    r = target.run(cmd)
    obs.seconds = time.time() - t0
    out = r.stdout.rstrip("\n")
    tail = out.rsplit("\n", 1)
    last = tail[-1].strip()  # "<code> rc=<n>"
    obs.body = tail[0] if len(tail) == 2 else ""
    m = re.match(r"(\d{3}) rc=(\d+)", last)
    if m and m.group(1) != "000":
        obs.http = int(m.group(1))
    elif m and m.group(2) == "28":
        obs.http = "timeout"
    else:
        obs.http = "error(%s)" % last
    # the AH01257 line is written just before the 503; give the log a moment
    time.sleep(0.3)
    text = read_log(target, run.p(run.s.error_log), run.log_offset)
    obs.log_lines = text.splitlines()
    for line in obs.log_lines:
        obs.ids += AH_RE.findall(line)
        if "AH01257" in line:
            m = ERRNO_RE.search(line)
            if m:
                obs.errno_257.append(int(m.group(1)))
    sock = exp_socket(run, exp)
    if sock:
        obs.socket_path = sock
        d, base = os.path.dirname(sock), os.path.basename(sock)
        J = run.values["JAIL"].rstrip("/")
        # The jail view is read from inside the jail (chroot + the jail's
        # busybox), so symlinks resolve as the children see them (experiment C).
        jail = find_sockets(target, d, base, chroot=J)
        if run.s.mode == "external":
            host = jail  # one view only
        else:
            host = find_sockets(target, d, base)
        obs.socket_host, obs.socket_jail = host, jail
    return obs


def exp_socket(run, exp):
    spec = getattr(exp, "socket_path", None) or run.s.socket
    return run.p(spec) if spec else None


def find_sockets(target, directory, base, chroot=None):
    """Socket files named base* (the daemon binds base.<pid>) in directory."""
    loop = ('for f in %s/* %s/.*; do [ -S "$f" ] && echo "$f"; done; true'
            % (shlex.quote(directory), shlex.quote(directory)))
    if chroot:
        cmd = "chroot %s /bin/busybox sh -c %s" % (shlex.quote(chroot), shlex.quote(loop))
    else:
        cmd = loop
    r = target.run(cmd)
    found = []
    for line in r.stdout.split():
        name = os.path.basename(line)
        if name.startswith(base):
            found.append(line)
    return found


def check(obs, exp):
    """Compare an observation with the expectation; list of problems."""
    problems = []
    if exp.http is not None:
        if exp.http == "timeout":
            if obs.http != "timeout":
                problems.append("expected the request to time out, got HTTP %s" % obs.http)
        elif obs.http != exp.http:
            problems.append("expected HTTP %s, got %s" % (exp.http, obs.http))
    if exp.body is not None and exp.body not in obs.body:
        problems.append("expected the body to contain %r, got %r" % (exp.body, obs.body.strip()[:120]))
    for ah in exp.log:
        if ah not in obs.ids:
            problems.append("expected %s in the error log, not there" % ah)
    for ah in exp.log_absent:
        if ah in obs.ids:
            problems.append("%s in the error log, expected absent" % ah)
    if exp.errno is not None:
        if exp.errno not in obs.errno_257:
            problems.append("expected AH01257 with errno %s, saw %s" % (exp.errno, obs.errno_257 or "none"))
    if exp.max_seconds is not None and obs.seconds > exp.max_seconds:
        problems.append("expected an answer within %ss, took %.1fs" % (exp.max_seconds, obs.seconds))
    if exp.min_seconds is not None and obs.seconds < exp.min_seconds:
        problems.append("expected the retries to take at least %ss, took %.1fs" % (exp.min_seconds, obs.seconds))
    if exp.socket_host is not None and bool(obs.socket_host) != exp.socket_host:
        problems.append("socket in the host view: expected %s, found %s" % (exp.socket_host, obs.socket_host or "none"))
    if exp.socket_jail is not None and bool(obs.socket_jail) != exp.socket_jail:
        problems.append("socket in the jail view: expected %s, found %s" % (exp.socket_jail, obs.socket_jail or "none"))
    return problems
