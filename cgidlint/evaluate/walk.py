"""Walk phase: the checks httpd makes when it runs each directive's handler.

config.c ``ap_walk_config_sub`` / ``invoke_cmd`` and core.c
``ap_check_cmd_context`` and the section handlers (parser-spec.md §1.5):
unknown names, "not allowed here", argument counts, context errors and the
section argument rules.  httpd stops at the first walk error; we report
every one we find, in file order, so the first is the one httpd prints.
"""

from typing import List, Optional

from cgidlint.evaluate.build import argc_error
from cgidlint.evaluate.model import CONDITIONAL, INCLUDE, SECTION, Config, ConfigError, Directive, httpd_escape
from cgidlint.evaluate.modules import available_command, builtin_modules
from cgidlint.httpd_data import flags
from cgidlint.httpd_data.directives import DIRECTIVES
from cgidlint.parser.tokens import getword_conf

SERVER_OVERRIDE = (flags.RSRC_CONF | flags.OR_ALL) & ~(flags.OR_AUTHCFG | flags.OR_LIMIT)
DIR_OVERRIDE = flags.OR_ALL | flags.ACCESS_CONF

_DIR_SECTIONS = {"<directory", "<directorymatch", "<location", "<locationmatch", "<files", "<filesmatch",
                 "<proxy", "<proxymatch"}
_IF_SECTIONS = {"<if", "<elseif", "<else"}
_LIMIT_SECTIONS = {"<limit", "<limitexcept"}
_AUTHZ_SECTIONS = {"<requireall", "<requireany", "<requirenone"}


class _Context(object):
    __slots__ = ("override", "virtual", "path", "limited", "modeled", "parents")

    def __init__(self, override, virtual=False, path=None, limited=False, modeled=True, parents=()):
        self.override = override
        self.virtual = virtual
        self.path = path
        self.limited = limited
        self.modeled = modeled
        self.parents = parents  # enclosing section names, innermost first

    def child(self, **kw):
        c = _Context(self.override, self.virtual, self.path, self.limited, self.modeled, self.parents)
        for k, v in kw.items():
            setattr(c, k, v)
        return c


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

    def command(self, lname):
        return available_command(lname, self.loaded, assume_loaded=self.fragment)

    def error(self, d, message, code="CG001", severity="error"):
        self.errors.append(ConfigError(code, message, d.file, d.line, d.column, phase="walk",
                                       severity=severity))

    def run(self):
        # type: () -> List[ConfigError]
        self.walk_children(self.config.root, _Context(SERVER_OVERRIDE))
        return self.errors

    def walk_children(self, node, ctx):
        if node.kind == SECTION and node.parent is not None:
            ctx = ctx.child(parents=(node.name,) + ctx.parents)
        last_if = [False]
        self._walk_list(node.children, ctx, last_if)

    def _walk_list(self, children, ctx, last_if):
        for d in children:
            if not d.active:
                continue
            if d.kind in (CONDITIONAL, INCLUDE):
                if d.kind == CONDITIONAL and not d.condition_true:
                    continue
                self._walk_list(d.children, ctx, last_if)
                continue
            self.walk_one(d, ctx, last_if)

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

    def walk_section(self, d, entry, ctx, last_if):
        lname = d.lname
        name = entry[0]
        if entry[3] and ctx.modeled:
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
            self.walk_children(d, ctx.child(override=DIR_OVERRIDE, path="*If"))
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
            path, _, pos, _ = getword_conf(arg)
            if path == b"~":
                path, _, pos, _ = getword_conf(arg, pos)
            rest = arg[pos:]
            n_before = len(self.errors)
            self.walk_children(d, ctx.child(override=DIR_OVERRIDE, path=path))
            if len(self.errors) > n_before:
                return
            if rest:
                self.error(d, "Multiple %s> arguments not (yet) supported." % name)
            return
        if lname == "<virtualhost":
            if not arg:
                self.error(d, "%s> directive requires additional arguments" % name)
                return
            self.walk_children(d, ctx.child(virtual=True))
            return
        if lname in _LIMIT_SECTIONS:
            self.walk_children(d, ctx.child(limited=True))
            return
        if lname in _AUTHZ_SECTIONS:
            self.walk_children(d, ctx)
            return
        # A section whose handler we do not model: check what is inside for
        # unknown names only.
        self.walk_children(d, ctx.child(modeled=False))


def walk(config, build=None):
    # type: (Config, Optional[str]) -> List[ConfigError]
    return Walker(config, build).run()
