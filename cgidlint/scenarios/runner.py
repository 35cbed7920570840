"""The scenario lifecycle, the same on every backend:

  create -> start (broken) -> verify-before -> lint -> fix -> restart
         -> verify-after -> destroy

Each step prints what it did and how long it took.  A step whose
expectation is not met is a failure with its evidence; the run goes on where
that still makes sense (a failed lint still lets the fix be tried), so one run
shows everything.  ``keep`` skips destroy.
"""

import json
import os
import re
import shlex
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import verify
from .backends import BackendUnavailable, make_backend
from .model import render, view_path

_print_lock = threading.Lock()


def _say(line):
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        path = os.environ.get("CGIDLINT_SCENARIO_LOG")  # a copy for post-mortems
        if path:
            with open(path, "a") as fh:
                fh.write(line + "\n")


class StepResult(object):
    def __init__(self, scenario, step, ok, seconds, detail="", evidence=None, skipped=False):
        self.scenario, self.step, self.ok = scenario, step, ok
        self.seconds, self.detail = seconds, detail
        self.evidence = evidence or []
        self.skipped = skipped

    def line(self):
        status = "skip" if self.skipped else ("ok" if self.ok else "FAIL")
        out = "[%s] %-13s %-4s %6.1fs  %s" % (self.scenario, self.step, status, self.seconds, self.detail)
        for ev in self.evidence:
            for sub in str(ev).splitlines():
                out += "\n[%s]     | %s" % (self.scenario, sub)
        return out


class ScenarioRun(object):
    """Runs one scenario on one target."""

    def __init__(self, scenario, backend, port, keep=False, reference_fix=False):
        self.s = scenario
        self.backend = backend
        self.port = port
        self.keep = keep
        self.reference_fix = reference_fix
        self.steps = []
        self.target = None
        self.values = {}
        self.lint_json = None
        self.observed = {}  # phase -> verify.Observation

    # -- helpers -------------------------------------------------------
    def step(self, name, fn):
        t0 = time.time()
        try:
            res = fn()
            if res is None:
                res = (True, "", [])
            ok, detail, evidence = res
        except Exception as exc:  # a crash in a step is a failed step, with evidence
            ok, detail, evidence = False, "%s: %s" % (type(exc).__name__, exc), []
        sr = StepResult(self.s.name, name, ok, time.time() - t0, detail, evidence)
        self.steps.append(sr)
        _say(sr.line())
        return ok

    def skip(self, name, why):
        sr = StepResult(self.s.name, name, True, 0.0, why, skipped=True)
        self.steps.append(sr)
        _say(sr.line())

    def sh(self, command):
        return self.target.run(command)

    def p(self, spec):
        return view_path(spec, self.values)

    def env_prefix(self):
        if self.s.env_file:
            return ". %s && " % shlex.quote(self.p(self.s.env_file))
        return ""

    @property
    def ok(self):
        return all(s.ok for s in self.steps)

    # -- lifecycle -------------------------------------------------------
    def run(self):
        if not self.step("create", self.create):
            self.finish()
            return self
        started = self.step("start", self.start)
        if started:
            self.step("verify-before", lambda: self.verify("before", self.s.before))
        else:
            self.skip("verify-before", "httpd did not start")
        self.step("lint", self.lint)
        if self.s.fix_apply:
            self.step("fix", self.fix)
            if self.step("restart", self.restart):
                self.step("verify-after", lambda: self.verify("after", self.s.after))
            else:
                self.skip("verify-after", "httpd did not start")
        else:
            self.skip("fix", "scenario expects no finding: nothing to fix")
        self.finish()
        return self

    def finish(self):
        if self.target is None:
            return
        if self.keep:
            self.skip("destroy", "--keep: left up: " + self.target.inspect_hint())
            return
        self.step("destroy", self.destroy)

    # -- steps -------------------------------------------------------------
    def create(self):
        self.target = self.backend.create(self.s, self.port)
        t = self.target
        prof = t.profile
        self.values = {
            "NAME": self.s.name, "ROOT": t.root, "PORT": self.port, "HTTPD": prof["httpd"],
            "MODULES": prof["modules"], "USER": prof["user"], "GROUP": prof["group"],
        }
        self.values["JAIL"] = render(self.s.jail_path, self.values)
        script = ["set -e", "umask 022"]
        script += self.jail_script()
        # the scenario's files: rendered, placed at host- or jail-view paths
        files = self.collect_files()
        dirs = sorted({os.path.dirname(p) for p, _, _ in files})
        script += ["mkdir -p %s" % shlex.quote(d) for d in dirs]
        r = self.sh("\n".join(script))
        if not r.ok:
            return False, "building the jail failed", [r.tail(10)]
        t.put_files(files)
        layout = self.layout_script()
        r = self.sh("\n".join(["set -e", "umask 022"] + layout))
        if not r.ok:
            return False, "layout failed", ["\n".join(layout), r.tail(10)]
        return True, "%s %s root=%s jail=%s port=%s" % (
            t.backend, prof.get("image", ""), t.root, self.values["JAIL"], self.port), []

    def jail_script(self):
        J = shlex.quote(self.values["JAIL"])
        out = ["mkdir -p %s" % J]
        if self.s.mode == "none":
            return out
        prov = self.s.provides
        if "busybox" in prov:
            # the CGI interpreter (#!/bin/busybox sh): static, needs nothing else
            out += ["bb=$(command -v busybox)", "mkdir -p %s/bin" % J, "cp \"$bb\" %s/bin/busybox" % J]
        if "libgcc" in prov or "httpd" in prov:
            # threaded MPMs: pthread_exit dlopens libgcc_s.so.1 inside the jail
            out += ["lib=$(ldconfig -p | awk '/libgcc_s\\.so\\.1 /{print $NF; exit}')",
                    "test -n \"$lib\"",
                    "mkdir -p %s\"$(dirname \"$lib\")\" %s/etc" % (J, J),
                    "cp -L \"$lib\" %s\"$lib\"" % J,
                    "cp /etc/ld.so.cache %s/etc/ld.so.cache" % J]
        if "httpd" in prov:
            # external chroot: the whole server lives in the jail
            H, M = shlex.quote(self.values["HTTPD"]), shlex.quote(self.values["MODULES"])
            out += ["mkdir -p %s\"$(dirname %s)\" %s%s" % (J, H, J, M),
                    "cp -L %s %s%s" % (H, J, H),
                    "cp -a %s/. %s%s/" % (M, J, M),
                    "for f in %s %s/*.so; do ldd \"$f\" 2>/dev/null; done "
                    "| awk '{for(i=1;i<=NF;i++) if ($i ~ /^\\//) print $i}' | sort -u "
                    "| while read l; do mkdir -p %s\"$(dirname \"$l\")\"; cp -L \"$l\" %s\"$l\"; done"
                    % (H, M, J, J),
                    # glibc < 2.34 (EL7) loads nss_files as a module
                    "nss=$(ldconfig -p | awk '/libnss_files\\.so\\.2 /{print $NF; exit}')",
                    "if [ -n \"$nss\" ]; then cp -L \"$nss\" %s\"$nss\"; fi" % J,
                    "mkdir -p %s/tmp && chmod 1777 %s/tmp" % (J, J)]
        if "passwd" in prov or "httpd" in prov:
            u, g = shlex.quote(self.values["USER"]), shlex.quote(self.values["GROUP"])
            out += ["mkdir -p %s/etc" % J,
                    "grep -E \"^(root|%s):\" /etc/passwd > %s/etc/passwd" % (u, J),
                    "grep -E \"^(root|%s):\" /etc/group > %s/etc/group" % (g, J)]
        if "devnull" in prov:
            # mknod; where the filesystem is nodev (some container roots),
            # bind-mount the real /dev/null instead
            out += ["mkdir -p %s/dev" % J, "rm -f %s/dev/null" % J, "mknod -m 666 %s/dev/null c 1 3" % J,
                    "if ! (: > %s/dev/null) 2>/dev/null; then rm -f %s/dev/null; touch %s/dev/null; "
                    "mount --bind /dev/null %s/dev/null; fi" % (J, J, J, J)]
        return out

    def collect_files(self):
        files = []
        for src, dst in self.s.files:
            srcp = self.s.folder / src
            dstp = self.p(dst)
            if srcp.is_dir():
                for dirpath, dirnames, filenames in os.walk(str(srcp)):
                    dirnames.sort()
                    for f in sorted(filenames):
                        fp = os.path.join(dirpath, f)
                        rel = os.path.relpath(fp, str(srcp))
                        files.append(self._file(fp, os.path.join(dstp, rel)))
            else:
                files.append(self._file(str(srcp), dstp))
        return files

    def _file(self, src, dst):
        with open(src, "rb") as fh:
            data = fh.read()
        data = render(data.decode("utf-8"), self.values).encode("utf-8")
        mode = 0o755 if (os.stat(src).st_mode & 0o111 or src.endswith(".cgi")) else 0o644
        return (dst, data, mode)

    def layout_script(self):
        out = []
        for step in self.s.layout:
            parts = shlex.split(render(step, self.values))
            op, args = parts[0], parts[1:]
            q = lambda spec: shlex.quote(self.p(spec))  # noqa: E731
            if op == "mkdir":
                out.append("mkdir -p %s" % q(args[0]))
                if len(args) > 1:
                    out.append("chmod %s %s" % (args[1], q(args[0])))
            elif op == "chmod":
                out.append("chmod %s %s" % (args[0], q(args[1])))
            elif op == "symlink":  # symlink LINK -> TARGET (target literal)
                link, target = args[0], args[-1]
                out.append("mkdir -p \"$(dirname %s)\"" % q(link))
                out.append("rm -rf %s && ln -s %s %s" % (q(link), shlex.quote(target), q(link)))
            elif op == "bind":  # bind SRC DST
                out.append("mkdir -p %s %s" % (q(args[0]), q(args[1])))
                out.append("mount --bind %s %s" % (q(args[0]), q(args[1])))
            elif op == "rm":
                out.append("rm -rf %s" % q(args[0]))
            elif op == "touch":
                out.append("mkdir -p \"$(dirname %s)\" && touch %s" % (q(args[0]), q(args[0])))
        return out

    def start_command(self):
        cfg = self.p(self.s.config)
        sr = self.p(self.s.server_root) if self.s.server_root else None
        H = self.values["HTTPD"]
        if self.s.mode == "external":
            J = self.values["JAIL"].rstrip("/")
            inside = lambda p: p[len(J):] if p.startswith(J + "/") else p  # noqa: E731
            cmd = "chroot %s %s" % (shlex.quote(J), H)
            cfg = inside(cfg)
            sr = inside(sr) if sr else None
        else:
            cmd = H
        if sr:
            cmd += " -d %s" % shlex.quote(sr)
        cmd += " -f %s -k start" % shlex.quote(cfg)
        return self.env_prefix() + cmd

    def start(self):
        pidfile = self.p(self.s.pidfile)
        log = self.p(self.s.error_log)
        self.log_offset = verify.log_size(self.target, log)
        cmd = self.start_command()
        r = self.sh(cmd)
        if not r.ok and "Address already in use" in r.stdout + r.stderr:
            time.sleep(2)  # a previous instance's socket still held: once more
            r = self.sh(cmd)
        if not r.ok:
            return False, "$ %s -> exit %d" % (cmd, r.rc), [r.tail(10), verify.log_tail(self.target, log, self.log_offset)]
        pid, waited = verify.wait_ready(self.target, pidfile, self.port)
        self.started_at = time.time()
        if pid is None:
            return False, "$ %s: httpd not answering on port %s after %.0fs" % (cmd, self.port, waited), \
                [verify.log_tail(self.target, log, self.log_offset)]
        return True, "$ %s (pid %s, ready in %.1fs)" % (cmd, pid, waited), []

    def stop(self, quiet=False):
        return verify.stop_httpd(self.target, self.p(self.s.pidfile), self.values["JAIL"])

    def verify(self, phase, exp):
        obs = verify.observe(self.target, self, exp)
        self.observed[phase] = obs
        problems = verify.check(obs, exp)
        detail = obs.summary()
        if problems:
            return False, detail, problems + obs.evidence()
        key = obs.key_log_line()
        return True, detail, ["log: " + key] if key else []

    def cgidlint_cmd(self, sub, extra=()):
        cfg = self.p(self.s.lint_config)
        args = [self.p(a) for a in self.s.lint_args]
        parts = ["python3", "-m", "cgidlint", sub, cfg] + list(extra) + args
        return (self.env_prefix() + "PYTHONPATH=%s " % shlex.quote(self.target.cgidlint_path)
                + " ".join(shlex.quote(x) for x in parts))

    def lint(self):
        cmd = self.cgidlint_cmd("lint", ["--format", "json"])
        r = self.sh(cmd)
        try:
            data = json.loads(r.stdout)
        except ValueError:
            return False, "cgidlint lint gave no JSON (exit %d)" % r.rc, ["$ " + cmd, r.tail(8)]
        self.lint_json = data
        found = [f.get("rule") for f in data.get("findings", [])]
        want = self.s.lint_rules
        ev = ["$ " + cmd] + ["%s %s:%s %s" % (f.get("rule"), f.get("file"), f.get("line"), f.get("message"))
                             for f in data.get("findings", [])]
        missing = [x for x in want if x not in found]
        unexpected = [x for x in found if x not in want and x not in self.s.lint_allow]
        if missing:
            return False, "expected %s, got %s (exit %d)" % (want, found or "no finding", r.rc), ev
        if not want and unexpected:
            return False, "expected no finding, got %s" % found, ev
        want_rc = 1 if want else 0
        if r.rc != want_rc and not (want == [] and r.rc == 1 and not unexpected):
            return False, "findings %s as expected but exit %d (want %d)" % (found, r.rc, want_rc), ev
        return True, "reported %s (exit %d)" % (found or "no finding", r.rc), ev[1:] if found else []

    def fix_commands(self):
        cmds = []
        for f in (self.lint_json or {}).get("findings", []):
            fx = f.get("fix") or {}
            for c in fx.get("commands") or []:
                if c not in cmds:
                    cmds.append(c)
        return cmds

    def outside_root(self, command):
        """On the local backend, the first absolute path in COMMAND outside
        the scenario root (a fix command must not change the real host);
        None when every path is inside it, and always None in a container."""
        if self.target.backend != "local":
            return None
        root = self.target.root.rstrip("/") + "/"
        try:
            words = shlex.split(command)
        except ValueError:
            return "(unparsable command)"
        for w in words:
            for part in w.split():
                if part.startswith("/") and not (part.rstrip("/") + "/").startswith(root):
                    return part
        return None

    def fix(self):
        ev = []
        if self.reference_fix:
            if not self.s.reference_fix:
                return False, "--reference-fix: the scenario has no [fix] reference", []
            for c in self.s.reference_fix:
                c = render(c, self.values)
                r = self.sh(c)
                ev.append("$ %s -> %d" % (c, r.rc))
                if not r.ok:
                    return False, "reference fix command failed", ev + [r.tail()]
            return True, "applied the scenario's reference fix (not cgidlint's)", ev
        cmd = self.cgidlint_cmd("fix", ["--write"])
        r = self.sh(cmd)
        ev.append("$ %s -> exit %d" % (cmd, r.rc))
        if r.rc not in (0, 1):
            return False, "cgidlint fix --write failed (exit %d)" % r.rc, ev + [r.tail(8)]
        detail = "cgidlint fix --write"
        if self.s.run_fix_commands:
            cmds = self.fix_commands()
            if not cmds:
                return False, "scenario expects filesystem commands but cgidlint printed none", ev + [r.tail(8)]
            ran = skipped = 0
            for c in cmds:
                outside = self.outside_root(c)
                if outside:
                    # e.g. `echo ... >> /etc/fstab` to persist a bind mount:
                    # right for a real server, wrong for a throw-away jail on
                    # this host. Containers are disposable: run it there.
                    ev.append("$ %s -> skipped: %s is outside the scenario root on this host" % (c, outside))
                    skipped += 1
                    continue
                rc = self.sh(c)
                ev.append("$ %s -> %d" % (c, rc.rc))
                if not rc.ok:
                    return False, "fix command failed", ev + [rc.tail()]
                ran += 1
            detail += " + %d filesystem command(s)" % ran
            if skipped:
                detail += " (%d persisting outside the scenario root skipped)" % skipped
        for want in self.s.fix_config_contains:
            want = render(want, self.values)
            d = os.path.dirname(self.p(self.s.lint_config))
            g = self.sh("grep -rniF -- %s %s" % (shlex.quote(want), shlex.quote(d)))
            if not g.ok:
                return False, "config does not contain %r after the fix" % want, ev
            ev.append("config now has: " + g.stdout.strip().splitlines()[0])
        return True, detail, ev

    def restart(self):
        ok, why = self.stop()
        if not ok:
            return False, "stop failed: " + why, []
        res = self.start()
        if res[0]:
            return True, "stopped (%s), %s" % (why, res[1]), []
        return res

    def destroy(self):
        try:
            self.stop(quiet=True)
        finally:
            self.target.destroy()
        return True, "removed", []


def run_scenarios(scenarios, backend_name="local", image=None, keep=False, jobs=None,
                  port_base=None, reference_fix=False):
    """Run scenarios concurrently on one backend; returns (runs, seconds)."""
    backend = make_backend(backend_name, image)
    backend.check()
    port_base = port_base or int(os.environ.get("CGIDLINT_PORT_BASE", "18080"))
    jobs = jobs or max(1, len(scenarios))
    t0 = time.time()
    _say("== %d scenario(s) on %s%s, %d in parallel" % (
        len(scenarios), backend_name, " (%s)" % backend.profile.get("image") if backend_name == "docker" else "",
        min(jobs, len(scenarios))))
    runs = [ScenarioRun(s, backend, port_base + i, keep=keep, reference_fix=reference_fix)
            for i, s in enumerate(scenarios)]
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        list(ex.map(lambda r: r.run(), runs))
    backend.close()
    return runs, time.time() - t0


def report(runs, seconds, backend_name):
    lines = ["", "== summary (%s, %.0f s)" % (backend_name, seconds)]
    for r in runs:
        total = sum(s.seconds for s in r.steps)
        if r.ok:
            lines.append("PASS %-32s %5.0fs" % (r.s.name, total))
        else:
            bad = [s for s in r.steps if not s.ok]
            lines.append("FAIL %-32s %5.0fs  at %s: %s" % (r.s.name, total, ", ".join(s.step for s in bad),
                                                           bad[0].detail))
    return "\n".join(lines)


__all__ = ["run_scenarios", "report", "ScenarioRun", "BackendUnavailable"]
