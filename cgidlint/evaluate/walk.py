"""Walk phase: the checks httpd makes when it runs each directive's handler.

config.c ``ap_walk_config_sub`` / ``invoke_cmd`` and core.c
``ap_check_cmd_context`` and the section handlers (parser-spec.md §1.5):
unknown names, "not allowed here", argument counts, context errors and the
section argument rules.  httpd stops at the first walk error; we report
every one we find, in file order, so the first is the one httpd prints.
"""

from typing import List, Optional

from cgidlint.evaluate.build import argc_error
from cgidlint.evaluate.model import CONDITIONAL, INCLUDE, PLAIN, SECTION, Config, ConfigError, Directive, httpd_escape
from cgidlint.evaluate.modules import available_command, builtin_modules
from cgidlint.httpd_data import flags
from cgidlint.httpd_data.directives import DIRECTIVES
from cgidlint.parser.tokens import getword_conf, is_simple

SERVER_OVERRIDE = (flags.RSRC_CONF | flags.OR_ALL) & ~(flags.OR_AUTHCFG | flags.OR_LIMIT)
DIR_OVERRIDE = flags.OR_ALL | flags.ACCESS_CONF

_DIR_SECTIONS = {"<directory", "<directorymatch", "<location", "<locationmatch", "<files", "<filesmatch",
                 "<proxy", "<proxymatch"}
_IF_SECTIONS = {"<if", "<elseif", "<else"}
_LIMIT_SECTIONS = {"<limit", "<limitexcept"}
_AUTHZ_SECTIONS = {"<requireall", "<requireany", "<requirenone"}


class _Context(object):
    """Where a directive is, as far as httpd's checks care.  Contexts are
    interned (see Walker.context) so that checks can be remembered per
    (directive name, context)."""

    __slots__ = ("override", "virtual", "path", "limited", "modeled", "parents", "key")

    def __init__(self, override, virtual=False, path=None, limited=False, modeled=True, parents=()):
        self.override = override
        self.virtual = virtual
        self.path = path        # inside <Directory>/<Location>/<Files>/<If> (True) or not (None)
        self.limited = limited
        self.modeled = modeled
        self.parents = parents  # enclosing section names, innermost first
        self.key = (override, virtual, path, limited, modeled, parents)


# A directive's checks, as remembered per (name, context).
_SKIP, _SLOW = 0, 1
# Accepted word counts (least, most) for arguments that split on whitespace
# alone (every word non-empty), per args_how; argc_error() has the general
# rule and the messages.
_SIMPLE_COUNTS = {
    "TAKE1": (1, 1), "TAKE2": (2, 2), "TAKE12": (1, 2), "TAKE3": (3, 3), "TAKE23": (2, 3), "TAKE123": (1, 3),
    "ITERATE": (1, 1 << 30), "ITERATE2": (2, 1 << 30),
}


class Walker(object):
    def __init__(self, config, build=None):
        # type: (Config, Optional[str]) -> None
        self.config = config
        self.loaded = set(config.modules) | set(builtin_modules(build))
        if config.mpm is None:
            # No LoadModule for an MPM: a build with the MPM compiled in
            # (source builds default to event), or a partial tree.
            self.loaded.add("mpm_event_module")
        # A fragment (no module loaded at all) is linted as if the modules
        # its directives need were there: the file is meant to be included.
        self.fragment = not config.module_lines
        self.third_party = bool(config.unknown_modules)
        self.errors = []  # type: List[ConfigError]
        self._contexts = {}  # key -> _Context
        self._derived = {}   # (_Context, field, value) -> _Context
        self._verdicts = {}  # _Context -> {lname: _SKIP, _SLOW or (entry, counts)}

    def command(self, lname):
        return available_command(lname, self.loaded, assume_loaded=self.fragment)

    def error(self, d, message, code="CG001", severity="error"):
        self.errors.append(ConfigError(code, message, d.file, d.line, d.column, phase="walk",
                                       severity=severity))

    def context(self, base, **changes):
        """The interned context ``base`` with ``changes``."""
        values = {"override": base.override, "virtual": base.virtual, "path": base.path, "limited": base.limited,
                  "modeled": base.modeled, "parents": base.parents}
        values.update(changes)
        if values["path"] is not None:
            values["path"] = True
        ctx = _Context(**values)
        return self._contexts.setdefault(ctx.key, ctx)

    def derive(self, base, field, value):
        """``context(base, field=value)``, remembered.  Field "parent" pushes
        the section name ``value`` onto ``parents``; "in_dir" enters a
        directory-like section (<Directory>, <Location>, <Files>, <If> ...)."""
        key = (base, field, value)
        ctx = self._derived.get(key)
        if ctx is None:
            if field == "parent":
                ctx = self.context(base, parents=(value,) + base.parents)
            elif field == "in_dir":
                ctx = self.context(base, override=DIR_OVERRIDE, path=True)
            else:
                ctx = self.context(base, **{field: value})
            self._derived[key] = ctx
        return ctx

    def run(self):
        # type: () -> List[ConfigError]
        self.walk_children(self.config.root, self.context(_Context(SERVER_OVERRIDE)))
        return self.errors

    def walk_children(self, node, ctx):
        if node.kind == SECTION and node.parent is not None:
            ctx = self.derive(ctx, "parent", node.name)
        last_if = [False]
        self._walk_list(node.children, ctx, last_if)

    def _walk_list(self, children, ctx, last_if):
        verdicts = self._verdicts.get(ctx)
        if verdicts is None:
            verdicts = self._verdicts[ctx] = {}
        for d in children:
            if not d.active:
                continue
            kind = d.kind
            if kind == CONDITIONAL or kind == INCLUDE:
                if kind == CONDITIONAL and not d.condition_true:
                    continue
                self._walk_list(d.children, ctx, last_if)
                continue
            # Remembered per (name, context): a directive passes or fails the
            # name, override and context checks the same way wherever its
            # name and context are the same; only the argument count depends
            # on the line.
            verdict = verdicts.get(d.lname)
            if verdict is None:
                verdict = verdicts[d.lname] = self._verdict(d.lname, ctx)
            if verdict is _SKIP:
                continue
            if verdict is _SLOW:
                self.walk_one(d, ctx, last_if)
                continue
            entry, counts = verdict
            if counts is not None:
                args = d.args
                if counts is False or b'"' in args or b"'" in args or b"\\" in args \
                        or not counts[0] <= len(args.split()) <= counts[1]:
                    msg = argc_error(entry[0], entry[1], entry[5], args)
                    if msg:
                        self.error(d, msg)
                        continue
            if kind == SECTION:
                self.walk_section(d, entry, ctx, last_if, context_checked=True)

    def _verdict(self, lname, ctx):
        """What ``walk_one`` does with a directive or section ``lname`` in
        ``ctx`` apart from the argument count: _SKIP (nothing to check),
        _SLOW (it reports something: let walk_one say it) or (table entry,
        argument counts): the argument count is left to check, and a
        section's arguments and body."""
        entry = self.command(lname)
        if entry is None:
            return _SLOW
        req = entry[2]
        if req & flags.EXEC_ON_READ:
            return _SKIP
        if ctx.modeled and (ctx.override & req) == 0:
            return _SLOW
        if entry[3] and ctx.modeled and self.check_context(None, entry, entry[3], ctx):
            return _SLOW
        if entry[1] == "RAW_ARGS":
            return entry, None                                  # no count to check
        return entry, _SIMPLE_COUNTS.get(entry[1], False)       # False: argc_error decides

    def _gt(self, entry):
        return ">" if entry[0].startswith("<") and not entry[0].endswith(">") else ""

    def check_context(self, d, entry, forbidden, ctx):
        # type: (Directive, tuple, int, _Context) -> Optional[str]
        name = entry[0] + self._gt(entry)
        if forbidden & flags.NOT_IN_VIRTUALHOST and ctx.virtual:
            return name + " cannot occur within <VirtualHost> section"
        if forbidden & flags.NOT_IN_DIR_CONTEXT and ctx.limited:
            return name + " cannot occur within <Limit> or <LimitExcept> section"
        if (forbidden & flags.NOT_IN_DIR_LOC_FILE) == flags.NOT_IN_DIR_LOC_FILE and ctx.path is not None:
            return name + " cannot occur within directory context"
        if not forbidden & (flags.NOT_IN_DIR_LOC_FILE | flags.NOT_IN_PROXY) or not ctx.parents:
            return None
        parents = ctx.parents
        lower = [p.lower() for p in parents]
        groups = (
            (flags.NOT_IN_DIRECTORY, ("<directory", "<directorymatch")),
            (flags.NOT_IN_LOCATION, ("<location", "<locationmatch")),
            (flags.NOT_IN_FILES, ("<files", "<filesmatch", "<if", "<elseif", "<else")),
            (flags.NOT_IN_PROXY, ("<proxy", "<proxymatch")),
        )
        for bit, names in groups:
            if forbidden & bit:
                for want in names:
                    if want in lower:
                        return "%s cannot occur within %s> section" % (name, parents[lower.index(want)])
        return None

    def walk_one(self, d, ctx, last_if):
        # type: (Directive, _Context, list) -> None
        entry = self.command(d.lname)
        if entry is None:
            if self.third_party and d.lname not in DIRECTIVES:
                # Could belong to a module we have no table for (mod_php ...).
                return
            if self.fragment:
                # A file meant to be included: the server that includes it
                # may load a third-party module (mod_wsgi, mod_php ...).
                self.error(d, "Invalid command '%s': not a directive of httpd or of a module Debian's apache2 "
                              "ships; the including server must load a third-party module for it"
                           % httpd_escape(d.name), severity="warning")
                return
            self.error(d, "Invalid command '%s', perhaps misspelled or defined by a module not included "
                          "in the server configuration" % httpd_escape(d.name))
            return
        req = entry[2]
        if req & flags.EXEC_ON_READ:
            return
        if ctx.modeled and (ctx.override & req) == 0:
            parent = d.section_parent()
            if parent is not None:
                self.error(d, "%s not allowed in %s> context" % (entry[0], parent.name))
            else:
                self.error(d, "%s not allowed here" % entry[0])
            return
        if entry[1] != "RAW_ARGS":
            msg = argc_error(entry[0], entry[1], entry[5], d.args)
            if msg:
                self.error(d, msg)
                return
        if d.kind == SECTION:
            self.walk_section(d, entry, ctx, last_if)
            return
        if entry[3] and ctx.modeled:
            msg = self.check_context(d, entry, entry[3], ctx)
            if msg:
                self.error(d, msg)

    def walk_section(self, d, entry, ctx, last_if, context_checked=False):
        lname = d.lname
        name = entry[0]
        if entry[3] and ctx.modeled and not context_checked:
            msg = self.check_context(d, entry, entry[3], ctx)
            if msg:
                self.error(d, msg)
                return
        args = d.args
        gt = args.rfind(b">")
        if gt == -1:
            self.error(d, "%s> directive missing closing '>'" % name)
            return
        arg = args[:gt]
        if lname in _IF_SECTIONS:
            is_else = lname == "<else"
            if is_else:
                if arg:
                    self.error(d, "<Else> does not take an argument")
                    return
                rest = b""
            else:
                if not arg:
                    self.error(d, "%s> directive requires additional arguments" % name)
                    return
                _, _, pos, _ = getword_conf(arg)
                rest = arg[pos:]
            n_before = len(self.errors)
            self.walk_children(d, self.derive(ctx, "in_dir", None))
            if len(self.errors) > n_before:
                return
            if lname != "<if" and not last_if[0]:
                self.error(d, "<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope")
                return
            last_if[0] = lname != "<else"
            if rest:
                self.error(d, "Multiple %s> arguments not supported." % name)
            return
        last_if[0] = False
        if lname in _DIR_SECTIONS:
            if not arg:
                self.error(d, "%s> directive requires additional arguments" % name)
                return
            if is_simple(arg):
                words = arg.split()
                rest = words[2:] if words[0] == b"~" else words[1:]
            else:
                path, _, pos, _ = getword_conf(arg)
                if path == b"~":
                    path, _, pos, _ = getword_conf(arg, pos)
                rest = arg[pos:]
            n_before = len(self.errors)
            self.walk_children(d, self.derive(ctx, "in_dir", None))
            if len(self.errors) > n_before:
                return
            if rest:
                self.error(d, "Multiple %s> arguments not (yet) supported." % name)
            return
        if lname == "<virtualhost":
            if not arg:
                self.error(d, "%s> directive requires additional arguments" % name)
                return
            self.walk_children(d, self.derive(ctx, "virtual", True))
            return
        if lname in _LIMIT_SECTIONS:
            self.walk_children(d, self.derive(ctx, "limited", True))
            return
        if lname in _AUTHZ_SECTIONS:
            self.walk_children(d, ctx)
            return
        # A section whose handler we do not model: check what is inside for
        # unknown names only.
        self.walk_children(d, self.derive(ctx, "modeled", False))


def walk(config, build=None):
    # type: (Config, Optional[str]) -> List[ConfigError]
    return Walker(config, build).run()
