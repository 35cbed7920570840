"""The evaluated configuration: directives as httpd sees them, with positions.

A ``Directive`` is one logical line that httpd turns into something: a plain
directive, a section (with children), a conditional (``<IfModule>`` ...,
whose body httpd splices into the parent; we keep the node so the fixer and
the reports can point at it) or an ``Include`` (whose files' nodes are its
children).  Inactive branches stay in the tree with ``active = False``.
"""

import os
from operator import attrgetter
from typing import Dict, Iterator, List, Optional

PLAIN, SECTION, CONDITIONAL, INCLUDE = "plain", "section", "conditional", "include"


def to_str(b):
    # type: (bytes) -> str
    """Bytes from a config file as a str that round-trips (paths, names)."""
    return os.fsdecode(b)


def httpd_escape(name):
    # type: (str) -> str
    """A name as httpd's error log prints it: bytes outside printable ASCII
    become ``\\xhh`` (ap_escape_logitem)."""
    raw = os.fsencode(name)
    if all(32 <= b < 127 for b in raw):
        return name
    return "".join(chr(b) if 32 <= b < 127 else "\\x%02x" % b for b in raw)


class Directive(object):
    # Rarely-set attributes (close, targets, ...) live in __dict__ with
    # class-level defaults, keeping node creation cheap on 100k-line trees.
    # The line itself is referred to by its index in ``source``: its
    # LogicalLine record is made only when asked for.
    __slots__ = ("name", "lname", "args", "source", "index", "parent", "children", "active", "kind", "known",
                 "seq", "__dict__")

    close_index = None      # index in ``source`` of the closing tag, for sections
    condition_true = None   # for conditionals
    targets = ()            # for includes: file paths included, in order
    undefined_vars = ()     # ${NAME}s that were not defined
    _words = None

    def __init__(self, name, args, source, index, parent, kind=PLAIN, active=True, known=False, lname=None,
                 seq=0):
        self.name = name            # str: canonical when known, else as written
        self.lname = lname or name.lower()
        self.args = args            # bytes: the argument text after ${} expansion
        self.source = source        # SourceFile holding the line
        self.index = index          # logical line index in ``source``
        self.parent = parent        # enclosing Directive (any kind) or None
        # A plain directive has no body: one shared empty tuple instead of
        # a list each (a list is made when a read-time directive turns out
        # to be a conditional or an Include).
        self.children = [] if kind != PLAIN else ()  # type: List[Directive]
        self.active = active
        self.kind = kind
        self.known = known          # name found in the directive table
        self.seq = seq              # position among active directives, in file order

    # -- positions -------------------------------------------------------
    @property
    def lline(self):
        """The LogicalLine this directive was read from."""
        return self.source.line_at(self.index) if self.source is not None else None

    @property
    def close(self):
        """The LogicalLine of a section's closing tag (None when not closed)."""
        i = self.close_index
        return self.source.line_at(i) if i is not None else None

    @property
    def file(self):
        return self.source.path

    @property
    def line(self):
        """The line httpd reports for this directive (last physical line)."""
        return self.source.line_number(self.index)

    @property
    def column(self):
        return self.source.line_at(self.index).column

    @property
    def text(self):
        """The trimmed logical line, before ``${}`` expansion."""
        return self.source.texts[self.index]

    # -- arguments -------------------------------------------------------
    @property
    def words(self):
        # type: () -> List[bytes]
        if self._words is None:
            from cgidlint.parser.tokens import split_words
            args = self.args
            if self.kind in (SECTION, CONDITIONAL):
                gt = args.rfind(b">")
                if gt != -1:
                    args = args[:gt]
            self._words = split_words(args)
        return self._words

    def arg(self, i=0, default=None):
        # type: (int, Optional[str]) -> Optional[str]
        w = self.words
        return to_str(w[i]) if i < len(w) else default

    # -- tree ------------------------------------------------------------
    def section_parent(self):
        """The nearest enclosing real section (conditionals and includes are
        transparent, as in httpd's tree)."""
        p = self.parent
        while p is not None and p.kind != SECTION:
            p = p.parent
        return p

    def sections(self):
        """Enclosing real sections, innermost first."""
        out = []
        p = self.section_parent()
        while p is not None:
            out.append(p)
            p = p.section_parent()
        return out

    def in_virtualhost(self):
        return any(s.lname == "<virtualhost" for s in self.sections())

    def walk(self, active_only=True):
        # type: (bool) -> Iterator[Directive]
        """Descendants in file order (iterative: trees can be 100k nodes)."""
        stack = [iter(self.children)]
        while stack:
            for c in stack[-1]:
                if active_only and not c.active:
                    continue
                yield c
                if c.children:
                    stack.append(iter(c.children))
                    break
            else:
                stack.pop()

    def __repr__(self):
        return "Directive(%s %r at %s:%d%s)" % (self.name, self.args[:40], self.file, self.line,
                                                "" if self.active else ", inactive")


_by_seq = attrgetter("seq")


class ConfigError(object):
    """An error httpd would stop on (or, for warnings, print)."""

    __slots__ = ("code", "message", "file", "line", "column", "phase", "chain", "severity")

    def __init__(self, code, message, file, line, column=1, phase="build", chain=None,
                 severity="error"):
        self.code = code          # rule id: CG001, CG002 ...
        self.message = message    # httpd's own message text
        self.file = file
        self.line = line
        self.column = column
        self.phase = phase        # build | walk | read
        self.chain = chain or []  # outer (file, line) pairs of Include directives
        self.severity = severity

    def httpd_output(self, program="apache2"):
        """What ``apache2 -t`` would print for this error."""
        if self.phase == "walk":
            return "AH00526: Syntax error on line %d of %s:\n%s" % (self.line, self.file, self.message)
        if self.phase == "read":
            inner = self.message
        else:
            inner = "Syntax error on line %d of %s: %s" % (self.line, self.file, self.message)
        for f, l in reversed(self.chain):
            inner = "Syntax error on line %d of %s: %s" % (l, f, inner)
        return "%s: %s" % (program, inner)

    def __repr__(self):
        return "ConfigError(%s %s:%d %s)" % (self.code, self.file, self.line, self.message)


class Config(object):
    """The outcome of reading a configuration the way httpd does."""

    def __init__(self):
        self.root = Directive("<root>", b"", None, None, None, kind=SECTION)
        self.files = []                  # type: List[object]  SourceFiles in read order
        self.errors = []                 # type: List[ConfigError]
        self.warnings = []               # type: List[ConfigError]
        self.defines = []                # type: List[str]
        self.variables = {}              # type: Dict[str, bytes]
        self.server_root = "/"
        self.server_root_directive = None
        self.runtime_dir = None          # DefaultRuntimeDir, absolute, or None
        self.runtime_dir_directive = None
        self.modules = []                # type: List[str] module symbols loaded, in order
        self.module_lines = {}           # type: Dict[str, Directive]
        self.unknown_modules = []        # LoadModule'd symbols not in our table
        self.main_file = None
        self.read_root = "/"
        self._index = None               # lname -> active directives, in file order

    @property
    def fatal(self):
        return bool(self.errors)

    def directives(self, *names, **kw):
        # type: (*str, **bool) -> List[Directive]
        """Active directives with one of ``names`` (case-insensitive), in order."""
        if kw.get("include_inactive", False):
            want = set(n.lower() for n in names)
            return [d for d in self.root.walk(active_only=False) if d.lname in want]
        index = self.index()
        if len(names) == 1:
            return list(index.get(names[0].lower(), ()))
        out = []
        for n in names:
            out.extend(index.get(n.lower(), ()))
        return sorted(out, key=_by_seq)

    def index(self):
        """Active directives by lowercase name, in file order (the builder
        fills it as it reads; built here for a tree made another way)."""
        if self._index is None:
            index = {}
            for i, d in enumerate(self.root.walk()):
                index.setdefault(d.lname, []).append(d)
                d.seq = i
            self._index = index
        return self._index

    def last(self, name, server_only=True):
        """The last active occurrence in the main server context (the one
        httpd keeps for a RSRC_CONF one-value directive)."""
        found = None
        for d in self.directives(name):
            if server_only and d.in_virtualhost():
                continue
            found = d
        return found

    def has_module(self, name):
        from cgidlint.evaluate.modules import module_matches
        return any(module_matches(sym, name) for sym in self.modules)

    @property
    def mpm(self):
        for sym in self.modules:
            if sym in ("mpm_event_module", "mpm_worker_module", "mpm_prefork_module"):
                return sym[4:-7]
        return None
