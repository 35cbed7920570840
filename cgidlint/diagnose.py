"""``cgidlint diagnose``: read an httpd error log, recognise the chroot and
mod_cgid failures in it, explain them and (with the configuration) point at
the directives responsible.

The log is read as bytes, line by line (logs are large and may hold invalid
UTF-8).  A line is recognised by its ``AHnnnnn`` ID, or by the text of the
few messages that have none (glibc's libgcc_s abort, "End of script output
before headers"); its errno is the ``(N)Text:`` prefix httpd writes.  Both are
searched anywhere in the line, so custom ``ErrorLogFormat``s work too.
"""

import errno as _errno
import os
import re
from collections import OrderedDict

from cgidlint import logcodes
from cgidlint.logcodes import STAGES

JSON_VERSION = 1

_AH = re.compile(r"\bAH(\d{5})\b")
# "(2)No such file or directory:"; not "mod_cgid.c(1353):" nor "Abort (6)"
_ERRNO = re.compile(r"\((\d+)\)([A-Za-z][^:()\[\]]*):")
_TIME = re.compile(r"^\[([^\]]*\d\d:\d\d:\d\d[^\]]*)\]")
_LEVEL = re.compile(r"\[[\w.-]*:(emerg|alert|crit|error|warn|notice|info|debug|trace\d)\]")
_TRAILING_STRERROR = re.compile(r"\(([A-Z][A-Za-z ,']+)\)\s*$")
_STRERROR = {}
for _n in sorted(_errno.errorcode):
    _STRERROR.setdefault(os.strerror(_n), _n)

# A server generation ends with a stop or restart and begins with the line
# the MPM writes once it runs (startup errors such as AH01243 come just before
# that line, so a generation is bounded by the stop, not by the start).
_STOP = re.compile(r"caught SIG\w+, shutting down|Doing graceful restart|Attempting to restart|"
                   r"shutting down gracefully")
_START = re.compile(r"configured -- resuming normal operations")
_SERIOUS = ("emerg", "alert", "crit", "error")
# An access-log line (common or combined format, %v:%p first or not): an ID
# in its request or referer is a URL, not something the server logged.
_ACCESS = re.compile(r'^(?:\S+ ){3,4}\[[^\]]*\] "(?:[A-Z]+ |-")')
# httpd formats an error-log line in an 8 KB buffer; a longer "line" is not
# one of its messages (a binary file, a core dump appended by mistake), so
# only its beginning is read, whatever its length.
_MAX_LINE = 1 << 16
_MAX_DETAIL_VALUES = 5
_MAX_SAMPLE = 400


class LogError(Exception):
    """The log cannot be read (exit 2)."""


class ParsedLine(object):
    __slots__ = ("code", "errno", "errtext", "time", "level", "details", "unknown")

    def __init__(self, code, errno, errtext, time, level, details, unknown):
        self.code = code            # a logcodes.LogCode, or None
        self.errno = errno
        self.errtext = errtext
        self.time = time
        self.level = level
        self.details = details
        self.unknown = unknown      # AH IDs in a line with no known one

    @property
    def variant(self):
        if self.code is None:
            return None
        if self.code.variant == "errno":
            return self.errno
        value = self.details.get(self.code.variant)
        return int(value) if value is not None and value.isdigit() else None


def parse_line(text):
    """What one log line (text, no line ending) says, as far as we know it."""
    found = []      # (position, LogCode)
    unknown = []
    for m in _AH.finditer(text):
        code = logcodes.by_ah_number(m.group(1))
        if code is not None:
            found.append((m.start(), code))
        else:
            unknown.append("AH" + m.group(1))
    for code in logcodes.TEXT_CODES:
        m = code.text.search(text)
        if m is not None:
            found.append((m.start(), code))
    tm = _TIME.match(text)
    lm = _LEVEL.search(text)
    time, level = (tm.group(1) if tm else None), (lm.group(1) if lm else None)
    if not found:
        return ParsedLine(None, None, None, time, level, {}, unknown)
    # a relayed line (AH01215: stderr from X: AH01241: ...) is about what it relays
    direct = [f for f in found if not f[1].wraps] or found
    pos, code = min(direct, key=lambda f: f[0])
    errno, errtext = _errno_of(text, pos)
    return ParsedLine(code, errno, errtext, time, level, code.details(text), [])


def _errno_of(text, code_pos):
    """The errno httpd logged with the message: the ``(N)Text:`` before the
    ID, else one anywhere, else a trailing ``(No such file or directory)``."""
    m = _ERRNO.search(text, 0, code_pos) or _ERRNO.search(text)
    if m is not None:
        return int(m.group(1)), m.group(2).strip()
    m = _TRAILING_STRERROR.search(text)
    if m is not None and m.group(1) in _STRERROR:
        return _STRERROR[m.group(1)], m.group(1)
    return None, None


class Group(object):
    """Every line with the same ID and errno (or signal)."""

    def __init__(self, code, variant, errtext):
        self.code = code
        self.variant = variant
        self.errtext = errtext
        self.count = 0
        self.first_line = self.last_line = None
        self.first_time = self.last_time = None
        self.first_generation = self.last_generation = None
        self.sample = None
        self.details = OrderedDict()     # name -> distinct values (first few)
        self.findings = None             # with a configuration: the findings of the predicting rules
        self.mismatch = None             # the log's socket path vs the configuration's

    @property
    def reading(self):
        if self.variant is None and self.code.variant == "errno":
            return self.code.reading_without_errno()
        return self.code.reading(self.variant)

    @property
    def rules(self):
        return self.reading.rules

    def add(self, number, text, parsed, generation):
        self.count += 1
        if self.first_line is None:
            self.first_line, self.first_time, self.first_generation = number, parsed.time, generation
            self.sample = text if len(text) <= _MAX_SAMPLE else text[:_MAX_SAMPLE] + "..."
        self.last_line, self.last_time = number, parsed.time or self.last_time
        self.last_generation = generation
        self._add_details(parsed.details.items())

    def merge(self, later):
        """Fold in the same lines of a later server generation."""
        self.count += later.count
        self.last_line, self.last_time = later.last_line, later.last_time or self.last_time
        self.last_generation = later.last_generation
        self._add_details((name, v) for name, values in later.details.items() for v in values)

    def _add_details(self, pairs):
        for name, value in pairs:
            values = self.details.setdefault(name, [])
            if value not in values and len(values) < _MAX_DETAIL_VALUES:
                values.append(value)


class Diagnosis(object):
    def __init__(self, source):
        self.source = source
        self.lines = 0
        self.starts = []           # (line number, time) of each "resuming normal operations"
        self.started_generations = set()
        self.last_start_generation = 0
        self.since_last_start = False
        self.groups = OrderedDict()    # (ID, variant) -> Group
        self.unknown = OrderedDict()   # AH IDs of serious lines we do not know -> count
        self.access_lines = 0          # lines of an access log, skipped
        self.project = None
        self.other_findings = []

    @property
    def ordered(self):
        """Failures before context lines; startup failures first (they
        explain what follows), then by first line."""
        return sorted(self.groups.values(),
                      key=lambda g: (not g.code.failure, STAGES.index(g.code.stage), g.first_line))

    @property
    def failures(self):
        return [g for g in self.groups.values() if g.code.failure]

    def current(self, group):
        """Whether the group has lines in the last server generation."""
        return group.last_generation >= self.last_start_generation

    def ruled_out(self, group):
        """Causes this log excludes: httpd writes their IDs at startup, the
        log covers the start of the run the group's first line is from, and
        has none of them.  cause -> why."""
        if group.first_generation not in self.started_generations:
            return {}
        reading = group.reading
        present = {g.code.key for g in self.groups.values()}
        return {c: "this log covers the server's start and has no %s" % " or ".join(c.revealed_by)
                for c in reading.causes if c.revealed_by and not present & set(c.revealed_by)}

    def explained_by(self, group):
        """Groups in this log that the reading names as root causes (not
        those explained in turn by another: AH01238 follows AH01243)."""
        keys = group.reading.explained_by
        found = [g for g in self.groups.values() if g.code.key in keys and g is not group]
        return [g for g in found if not any(h.code.key in g.reading.explained_by for h in found if h is not g)]


class _Reader(object):
    """Streams lines into groups per server generation: a generation ends
    with a logged stop or restart, or with a start that follows a start (the
    server died unlogged).  Startup errors (AH01243) come before the MPM's
    start line, so they belong to the generation the stop opened."""

    def __init__(self, diag):
        self.diag = diag
        self.generation = 0
        self.started = False
        self.groups = OrderedDict()    # (generation, ID, variant) -> Group
        self.unknown = OrderedDict()   # (generation, AH ID) -> count
        self.last_time = None

    def feed(self, number, text):
        if _ACCESS.match(text):
            self.diag.access_lines += 1
            return
        if _STOP.search(text):
            self.generation += 1
            self.started = False
            return
        parsed = parse_line(text)
        if parsed.time is None:
            # glibc's libgcc_s line has no timestamp: it was written after the last line that had one
            parsed.time = "after %s" % self.last_time if self.last_time else None
        else:
            self.last_time = parsed.time
        if _START.search(text):
            if self.started:
                self.generation += 1
            self.started = True
            self.diag.starts.append((number, parsed.time))
            self.diag.last_start_generation = self.generation
            self.diag.started_generations.add(self.generation)
            return
        if parsed.code is None:
            if parsed.level is None or parsed.level in _SERIOUS:
                for key in parsed.unknown:
                    self.unknown[(self.generation, key)] = self.unknown.get((self.generation, key), 0) + 1
            return
        key = (self.generation, parsed.code.key, parsed.variant)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(parsed.code, parsed.variant, parsed.errtext)
        group.add(number, text, parsed, self.generation)

    def finish(self, since_last_start):
        diag = self.diag
        oldest = diag.last_start_generation if since_last_start else 0
        diag.since_last_start = since_last_start
        for (generation, key, variant), group in self.groups.items():
            if generation < oldest:
                continue
            merged = diag.groups.get((key, variant))
            if merged is None:
                diag.groups[(key, variant)] = group
            else:
                merged.merge(group)
        for (generation, key), count in self.unknown.items():
            if generation >= oldest:
                diag.unknown[key] = diag.unknown.get(key, 0) + count
        return diag


def read_log(stream, source, since_last_start=False):
    """Diagnose the lines of a binary stream; ``since_last_start`` keeps only
    the last server generation (is it still broken?)."""
    reader = _Reader(Diagnosis(source))
    for number, raw in enumerate(_cut_lines(stream), 1):
        reader.diag.lines = number
        reader.feed(number, raw.rstrip(b"\r\n").decode("utf-8", errors="replace"))
    return reader.finish(since_last_start)


def _cut_lines(stream):
    """The stream's lines, each cut to _MAX_LINE bytes; the rest of a longer
    line is read past in pieces, never held."""
    readline = getattr(stream, "readline", None)
    if readline is None:  # any iterable of lines
        for line in stream:
            yield line[:_MAX_LINE]
        return
    while True:
        line = readline(_MAX_LINE)
        if not line:
            return
        rest = line
        while len(rest) == _MAX_LINE and rest[-1:] != b"\n":
            rest = readline(_MAX_LINE)
        yield line


def read_log_path(path, since_last_start=False, stdin=None):
    """Diagnose the log at ``path`` (``-``: the binary stream ``stdin``)."""
    if path == "-":
        return read_log(stdin, "<stdin>", since_last_start)
    if os.path.isdir(path):
        raise LogError("%s: is a directory, not an error log" % path)
    try:
        with open(path, "rb") as f:
            return read_log(f, path, since_last_start)
    except (IOError, OSError) as e:
        raise LogError("cannot read the error log %s: %s" % (path, e.strerror or e))


# -- the configuration's side ------------------------------------------------

_SOCKET_CODES = ("AH01243", "AH02833", "AH01254")
_PID_SUFFIX = re.compile(r"\.(?:\d+|<pid>)$")


def attach_config(diag, project, findings):
    """Give each group the lint findings of the rules that predict it, and
    flag a log whose socket path is not the one the configuration gives."""
    diag.project = project
    used = set()
    socket = _config_socket(project)
    for group in diag.groups.values():
        rules = group.rules
        group.findings = [f for f in findings if f.rule in rules]
        used.update(id(f) for f in group.findings)
        if socket is not None and group.code.key in _SOCKET_CODES:
            group.mismatch = _socket_mismatch(group, socket)
    diag.other_findings = [f for f in findings if id(f) not in used]


def _config_socket(project):
    ctx = getattr(project, "lint_context", None)
    cgid = getattr(ctx, "cgid", None)
    return getattr(cgid, "path", None)


def _socket_mismatch(group, socket):
    """The log's socket path when it cannot be ``socket``.<pid> (or its cut)."""
    for logged in group.details.get("socket", []):
        if logged.startswith("<"):
            continue    # a placeholder such as <path> in a quoted line
        if group.code.key == "AH01254":
            same = (socket + ".").startswith(logged) or logged.startswith(socket)
        else:
            same = _PID_SUFFIX.sub("", logged) == socket
        if not same:
            return logged
    return None


def source_text(path, line):
    """The directive as written at ``path``:``line`` (for pointing at it)."""
    try:
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                if n == line:
                    return raw.strip().decode("utf-8", errors="replace")
    except (IOError, OSError):
        pass
    return None


# -- reports -------------------------------------------------------------------

def exit_code(diag):
    return 1 if diag.failures else 0


def to_text(diag, registry):
    out = [_headline(diag)]
    if diag.project is not None:
        out.append(_config_line(diag.project))
    groups = diag.ordered
    numbers = {id(g): i for i, g in enumerate(groups, 1)}
    shown = {}
    for i, group in enumerate(groups, 1):
        out.append("")
        out += _group_text(diag, group, i, numbers, shown, registry)
    if diag.unknown:
        out.append("")
        out.append("Other log IDs at level error or above (not chroot-related as far as cgidlint knows): %s"
                   % ", ".join("%s x%d" % kv for kv in list(diag.unknown.items())[:10]))
    if diag.project is not None and diag.other_findings:
        out.append("")
        out.append("The lint also reports %d finding(s) that no line of this log shows (cgidlint lint CONFIG):"
                   % len(diag.other_findings))
        out += ["  %s:%s:%s: %s %s %s" % (f.file, f.line, f.column, f.severity, f.rule, f.message)
                for f in diag.other_findings]
    return "\n".join(out)


def _headline(diag):
    n = len(diag.failures)
    s = "%s: %d line(s)" % (diag.source, diag.lines)
    if diag.starts:
        s += ", %d server start(s), the last at line %d%s" % (
            len(diag.starts), diag.starts[-1][0], " (%s)" % diag.starts[-1][1] if diag.starts[-1][1] else "")
    if diag.access_lines:
        s += " (%d access-log line(s) skipped: is this the error log?)" % diag.access_lines
    if n:
        return s + "; %d known failure(s), most likely root cause first:" % n
    if diag.groups:
        return s + "; no known failure (only context lines)."
    return s + "; no known chroot or mod_cgid failure."


def _config_line(project):
    from cgidlint.report import context_dict
    c = context_dict(project)
    mode = c["chroot_mode"] + (" (jail %s)" % c["jail"] if c.get("jail") else "")
    if c["cgid_loaded"]:
        cgid = "socket %s.<pid> (%s)" % (c["socket_path"], c["socket_path_source"])
    else:
        cgid = "mod_cgid not loaded"
    return "CONFIG %s: chroot mode %s; %s" % (c["main_config"], mode, cgid)


def _group_text(diag, group, number, numbers, shown, registry):
    """One group: where and how often, what it means, why, and the fix.  A
    group explained by an earlier one, or with the same causes as one already
    shown, gets its meaning only."""
    code, reading = group.code, group.reading
    variant = logcodes.variant_label(code, group.variant)
    out = ["%d. %s%s: %s" % (number, code.key, " %s" % variant if variant else "", code.title)]
    where = "line %d" % group.first_line
    if group.count > 1:
        where = "lines %d-%d" % (group.first_line, group.last_line)
    times = group.first_time or ""
    if group.count > 1 and group.last_time and group.last_time != group.first_time:
        times = "%s .. %s" % (group.first_time, group.last_time)
    out.append("   seen %d time(s), %s%s%s" % (group.count, where, ", %s" % times if times else "",
                                               "" if code.failure else " (context, not a failure by itself)"))
    if diag.starts and not diag.current(group):
        out.append("   not seen since the last (re)start (line %d)" % diag.starts[-1][0])
    out.append("   e.g. %s" % group.sample)
    for name, values in group.details.items():
        if name not in ("text", "pid", "signame", "attempt"):
            out.append("   %s: %s" % (name, ", ".join(values)))
    out += logcodes.wrap(reading.meaning, "   ")
    roots = diag.explained_by(group)
    same = shown.get(tuple(id(c) for c in reading.causes))
    if roots:
        out += logcodes.wrap("Explained by %s above: fix %s first." % (
            " and ".join("#%d %s" % (numbers[id(g)], g.code.key) for g in roots),
            "that" if len(roots) == 1 else "those"), "   ", "     ")
    elif same is not None:
        out.append("   Likely causes and fix: as #%d." % same)
    elif not code.failure and diag.failures:
        pass    # context for the failures above, whose causes are shown there
    else:
        ruled_out = diag.ruled_out(group)
        if not ruled_out and code.failure and any(c.revealed_by for c in reading.causes):
            shown_at_start = logcodes.unique(k for c in reading.causes for k in c.revealed_by)
            out += logcodes.wrap("Startup lines that would reveal causes: %s (this log does not show the start "
                                 "of that run)." % ", ".join(shown_at_start), "   ", "     ")
        shown[tuple(id(c) for c in reading.causes)] = number
        out += logcodes.cause_lines(reading, registry, indent="   ", ruled_out=ruled_out)
        out += logcodes.wrap("Fix: %s" % (reading.fix or code.fix), "   ", "     ")
    if diag.project is not None:
        out += _config_text(group, roots, numbers, registry)
    return out


def _config_text(group, roots, numbers, registry):
    rules = group.rules
    out = []
    if group.mismatch:
        out += logcodes.wrap("Note: the log names the socket %s, which is not the one CONFIG gives: is this the "
                             "log of this configuration (same -D/-C/--runtime-dir)?" % group.mismatch,
                             "   ", "     ")
    if group.findings:
        out.append("   In CONFIG, the directive responsible:")
        for f in group.findings:
            directive = source_text(f.file, f.line)
            out.append("     %s:%s:%s: %s%s" % (f.file, f.line, f.column, f.rule,
                                                 " `%s`" % directive if directive else ""))
            out += logcodes.wrap("%s: %s" % (f.severity, f.message), "       ", "         ")
            if f.fix is not None:
                out += logcodes.wrap("fix: %s" % f.fix.description, "       ", "         ")
                out += ["         %s: %s line %d: %s" % (e.file, e.action.replace("_", " "), e.line, e.replace_with)
                        for e in f.fix.edits]
                out += ["         $ %s" % c for c in f.fix.commands]
        return out
    if roots:
        return out + ["   In CONFIG: see %s." % " and ".join("#%d" % numbers[id(g)] for g in roots)]
    implemented = [r for r in rules if r in registry]
    planned = [r for r in rules if r not in registry]
    if implemented:
        out += logcodes.wrap("In CONFIG: no finding of %s: the configuration as cgidlint reads it does not "
                             "predict this line, so the cause is likely outside what cgidlint checks (or the log "
                             "comes from another configuration). Check by hand:" % ", ".join(implemented),
                             "   ", "     ")
    elif planned:
        out += logcodes.wrap("In CONFIG: %s not yet implemented. Check by hand:" % ", ".join(
            "%s %s is" % (r, logcodes.CATALOGUE_NAMES.get(r, "?")) for r in planned), "   ", "     ")
    else:
        out.append("   In CONFIG: no rule predicts this line. Check by hand:")
    causes = group.reading.causes
    if implemented:
        # the lint has just checked what its rules cover: what is left is the rest
        causes = [c for c in causes if not set(c.rules) & set(implemented)] or causes
    out += ["     - %s" % c.check for c in causes if c.check]
    return out


def to_dict(diag, registry):
    numbers = {id(g): i for i, g in enumerate(diag.ordered, 1)}
    doc = OrderedDict()
    doc["version"] = JSON_VERSION
    doc["log"] = diag.source
    doc["lines"] = diag.lines
    doc["access_log_lines"] = diag.access_lines
    doc["starts"] = [{"line": n, "time": t} for n, t in diag.starts]
    doc["diagnoses"] = [_group_dict(diag, g, numbers, registry) for g in diag.ordered]
    doc["other_ids"] = dict(diag.unknown)
    doc["summary"] = {"failures": len(diag.failures), "groups": len(diag.groups)}
    if diag.project is not None:
        from cgidlint.report import context_dict
        doc["config"] = context_dict(diag.project)
        doc["other_findings"] = [f.to_dict() for f in diag.other_findings]
    return doc


def _group_dict(diag, group, numbers, registry):
    code, reading = group.code, group.reading
    d = OrderedDict()
    d["id"] = code.key
    d["title"] = code.title
    d["variant"] = code.variant
    d["value"] = group.variant
    d["label"] = logcodes.variant_label(code, group.variant)
    if code.variant == "errno":
        d["errno_text"] = group.errtext
    d["failure"] = code.failure
    d["stage"] = code.stage
    d["count"] = group.count
    d["first_line"], d["last_line"] = group.first_line, group.last_line
    d["first_time"], d["last_time"] = group.first_time, group.last_time
    d["since_last_start"] = diag.current(group)
    d["sample"] = group.sample
    d["details"] = dict(group.details)
    d["meaning"] = reading.meaning
    ruled_out = diag.ruled_out(group)
    d["causes"] = [{"text": c.text, "rules": list(c.rules), "check": c.check, "ruled_out": ruled_out.get(c)}
                   for c in reading.causes]
    d["rules"] = [{"code": r, "name": logcodes.rule_name(r, registry), "implemented": r in registry}
                  for r in reading.rules]
    d["fix"] = reading.fix or code.fix
    d["explained_by"] = [{"id": g.code.key, "index": numbers[id(g)]} for g in diag.explained_by(group)]
    if diag.project is not None:
        d["findings"] = [f.to_dict() for f in group.findings or []]
        d["socket_mismatch"] = group.mismatch
    return d
