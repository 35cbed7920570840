"""Load ``scenarios/<name>/scenario.toml`` into a Scenario.

A scenario is data only: adding one needs no code.  Paths in it are strings
with placeholders, replaced per run (see ``render``):

  @ROOT@     the scenario's own root directory (host view); every path a
             scenario uses lives under it, so scenarios run side by side
  @JAIL@     the jail directory (``@ROOT@/jail`` unless ``[jail] path`` says)
  @PORT@     the TCP port httpd listens on (127.0.0.1)
  @HTTPD@ @MODULES@ @USER@ @GROUP@   the platform's httpd binary, module
             directory, and run user/group (Debian: apache2, www-data; RHEL:
             httpd, apache)

A path written ``host:P`` is P in the host view; ``jail:P`` is P seen from
inside the jail, i.e. ``@JAIL@P`` on the host.  The same notation as
``host:dirname(P)`` / ``jail:dirname(P)`` in docs/design chroot-model.md.
"""

import os
from pathlib import Path

from . import toml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = Path(os.environ.get("CGIDLINT_SCENARIOS_DIR", str(REPO_ROOT / "scenarios")))

MODES = ("chrootdir", "external", "none")
THREADED_MPMS = ("event", "worker")
PROVIDES = ("busybox", "libgcc", "devnull", "httpd", "passwd")
LAYOUT_OPS = ("mkdir", "chmod", "symlink", "bind", "rm", "touch")


class ScenarioError(ValueError):
    """scenario.toml is malformed (message names the file and the key)."""


def _need(d, key, where, typ=None):
    if key not in d:
        raise ScenarioError("%s: missing key %r" % (where, key))
    v = d[key]
    if typ is not None and not isinstance(v, typ):
        raise ScenarioError("%s: %r must be %s" % (where, key, typ.__name__))
    return v


class Expect(object):
    """What must be observed in one phase (before the fix / after it)."""

    def __init__(self, d, where):
        d = dict(d or {})
        self.http = d.pop("http", None)             # 200, 503, or "timeout"
        self.body = d.pop("body", None)             # substring of the body
        self.log = list(d.pop("log", []))           # AH IDs that must appear
        self.log_absent = list(d.pop("log_absent", []))
        self.errno = d.pop("errno", None)           # errno on the AH01257 line
        self.max_seconds = d.pop("max_seconds", None)   # request must answer within
        self.min_seconds = d.pop("min_seconds", None)   # ...and not before (retries)
        self.timeout = d.pop("timeout", 45)         # curl --max-time
        sock = d.pop("socket", {}) or {}
        self.socket_host = sock.pop("host", None)   # True/False/None(no check)
        self.socket_jail = sock.pop("jail", None)
        self.socket_path = sock.pop("path", None)  # default: [server] socket
        if sock:
            raise ScenarioError("%s.socket: unknown keys %s" % (where, sorted(sock)))
        self.path = d.pop("path", "/cgi-bin/hello.cgi")
        if d:
            raise ScenarioError("%s: unknown keys %s" % (where, sorted(d)))
        if self.http not in (None, "timeout") and not isinstance(self.http, int):
            raise ScenarioError("%s: http must be a status code or \"timeout\"" % where)


class Scenario(object):
    def __init__(self, name, folder, data):
        where = "%s/scenario.toml" % folder
        self.name = name
        self.folder = Path(folder)
        self.raw = data
        self.title = _need(data, "title", where, str)
        self.shows = data.get("shows", "").strip()
        self.experiment = data.get("experiment")
        self.tags = list(data.get("tags", []))

        server = _need(data, "server", where, dict)
        w = where + " [server]"
        self.mode = server.get("mode", "chrootdir")
        if self.mode not in MODES:
            raise ScenarioError("%s: mode must be one of %s" % (w, MODES))
        self.mpm = server.get("mpm", "event")
        self.config = _need(server, "config", w, str)          # host-view path of the main config
        self.server_root = server.get("server_root")            # -d, when the layout needs it
        self.env_file = server.get("env_file")                  # sourced first (Debian envvars)
        self.pidfile = _need(server, "pidfile", w, str)         # host-view path
        self.error_log = _need(server, "error_log", w, str)     # host-view path
        self.socket = server.get("socket")                      # effective ScriptSock path (no .pid)
        self.socket_view = server.get("socket_view", "jail" if self.mode == "external" else "host")

        jail = data.get("jail", {})
        self.jail_path = jail.get("path", "@ROOT@/jail")
        default_provides = []
        if self.mode != "none":
            default_provides.append("busybox")
            if self.mpm in THREADED_MPMS:
                default_provides.append("libgcc")
            if self.mode == "external":
                default_provides += ["httpd", "devnull", "passwd"]
        self.provides = list(jail.get("provide", default_provides))
        for p in self.provides:
            if p not in PROVIDES:
                raise ScenarioError("%s [jail]: unknown provide %r (known: %s)" % (where, p, PROVIDES))
        unknown = set(jail) - {"path", "provide", "layout"}
        if unknown:
            raise ScenarioError("%s [jail]: unknown keys %s" % (where, sorted(unknown)))

        files = _need(data, "files", where, dict)
        self.files = []
        for src, dst in files.items():
            if not (self.folder / src).exists():
                raise ScenarioError("%s [files]: %s does not exist in %s" % (where, src, self.folder))
            self.files.append((src, dst))

        self.layout = list(jail.get("layout", []))
        for step in self.layout:
            op = step.split(None, 1)[0] if step.strip() else ""
            if op not in LAYOUT_OPS:
                raise ScenarioError("%s layout: %r: operation must be one of %s" % (where, step, LAYOUT_OPS))

        self.before = Expect(_need(data, "expect", where, dict).get("before"), where + " [expect.before]")
        lint = data.get("lint", {})
        self.lint_config = lint.get("config", self.config)
        self.lint_args = list(lint.get("args", []))
        self.lint_rules = list(lint.get("rules", []))
        self.lint_allow = list(lint.get("allow", []))
        fix = data.get("fix", {})
        self.fix_apply = bool(fix.get("apply", bool(self.lint_rules)))
        self.fix_description = fix.get("description", "")
        self.run_fix_commands = bool(fix.get("run_fix_commands", False))
        self.fix_config_contains = list(fix.get("config_contains", []))
        self.reference_fix = list(fix.get("reference", []))
        self.after = Expect(data["expect"].get("after"), where + " [expect.after]") \
            if self.fix_apply else None
        if self.fix_apply and data["expect"].get("after") is None:
            raise ScenarioError("%s: [fix] applies but [expect.after] is missing" % where)

    @property
    def threaded(self):
        return self.mpm in THREADED_MPMS

    def summary(self):
        return self.title


def scenario_names(base=None):
    base = Path(base or SCENARIOS_DIR)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "scenario.toml").is_file())


def load(name, base=None):
    base = Path(base or SCENARIOS_DIR)
    folder = base / name
    path = folder / "scenario.toml"
    if not path.is_file():
        raise ScenarioError("no scenario %r (%s missing); known: %s"
                            % (name, path, ", ".join(scenario_names(base))))
    try:
        data = toml.load_path(path)
    except toml.TOMLDecodeError as exc:
        raise ScenarioError("%s: %s" % (path, exc))
    return Scenario(name, folder, data)


def load_all(base=None):
    return [load(n, base) for n in scenario_names(base)]


def render(text, values):
    """Replace @NAME@ placeholders; an unknown @NAME@ is left alone."""
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    return text


def view_path(spec, values):
    """``host:P`` -> P, ``jail:P`` -> @JAIL@P, plain P -> P (host view)."""
    spec = render(spec, values)
    if spec.startswith("jail:"):
        p = spec[5:]
        return values["JAIL"].rstrip("/") + ("/" + p.lstrip("/") if p.strip("/") else "")
    if spec.startswith("host:"):
        return spec[5:]
    return spec
