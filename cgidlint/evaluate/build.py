"""Build phase: read files into a directive tree with read-time semantics.

Follows config.c ``ap_build_config`` / ``ap_build_config_sub`` /
``ap_build_cont_config`` / ``ap_soak_end_container`` and the EXEC_ON_READ
handlers of core.c and mod_so (parser-spec.md §1.3, §1.6): ``${VAR}``
expansion, section nesting per file, ``Define``/``UnDefine``, ``ServerRoot``,
``DefaultRuntimeDir``, ``LoadModule``, ``Include``/``IncludeOptional`` and the
``<If*>`` conditionals, in file order.  The first build error stops reading,
exactly as httpd stops; false conditional bodies are kept as inactive nodes.
"""

import os
from typing import Dict, Iterable, List, Optional, Sequence

from cgidlint.evaluate import includes
from cgidlint.evaluate.fs import ConfigFS, ReadError
from cgidlint.evaluate.model import (CONDITIONAL, INCLUDE, PLAIN, SECTION, Config, ConfigError,
                                     Directive, to_str)
from cgidlint.evaluate.modules import available_command, builtin_modules, is_known_module, module_matches
from cgidlint.httpd_data import flags
from cgidlint.httpd_data.directives import DIRECTIVES
from cgidlint.parser.source import SourceFile, parse_bytes
from cgidlint.parser.tokens import all_words, getword_conf, resolve_env, split_words

MAX_INCLUDE_DEPTH = 128  # AP_MAX_INCLUDE_DEPTH

_CONDITIONALS = {"<ifmodule", "<ifdefine", "<iffile", "<ifdirective", "<ifsection", "<ifversion"}
_ARGC_TEXT = {
    "TAKE1": " takes one argument", "TAKE2": " takes two arguments", "TAKE12": " takes 1-2 arguments",
    "TAKE3": " takes three arguments", "TAKE23": " takes two or three arguments",
    "TAKE123": " takes one, two or three arguments", "TAKE13": " takes one or three arguments",
    "ITERATE": " requires at least one argument", "ITERATE2": " requires at least two arguments",
}


class BuildError(Exception):
    def __init__(self, message, source, line, column=1, code="CG001", phase="build"):
        Exception.__init__(self, message)
        self.message = message
        self.file = source.path if source is not None else None
        self.line = line
        self.column = column
        self.code = code
        self.phase = phase
        self.chain = []  # (file, line) of enclosing Include directives, outermost first


def argc_error(name, args_how, help_text, args):
    # type: (str, str, str, bytes) -> Optional[str]
    """invoke_cmd's argument-count check; None when the arguments fit."""
    # The words as invoke_cmd reads them with ap_getword_conf (an empty
    # quoted word counts as missing).
    words = all_words(args)

    def w(i):
        return words[i] if i < len(words) else b""

    def rest_after(k):
        # invoke_cmd's "*args != 0" after reading k words
        return len(words) > k

    bad = False
    if args_how == "NO_ARGS":
        return None if not args else name + " takes no arguments"
    if args_how == "TAKE1":
        bad = not w(0) or rest_after(1)
    elif args_how == "TAKE2":
        bad = not w(0) or not w(1) or rest_after(2)
    elif args_how == "TAKE12":
        bad = not w(0) or rest_after(2)
    elif args_how == "TAKE3":
        bad = not w(0) or not w(1) or not w(2) or rest_after(3)
    elif args_how == "TAKE23":
        bad = not w(0) or not w(1) or rest_after(3)
    elif args_how == "TAKE123":
        bad = not w(0) or rest_after(3)
    elif args_how == "TAKE13":
        bad = not w(0) or (len(words) == 2 and w(1)) or rest_after(3)
    elif args_how == "ITERATE":
        bad = not w(0)
    elif args_how == "ITERATE2":
        bad = not w(0) or len(words) < 2
    elif args_how == "FLAG":
        if w(0).lower() not in (b"on", b"off"):
            return name + " must be On or Off"
        return None
    else:
        return None
    if bad:
        return name + _ARGC_TEXT[args_how] + (", " + help_text if help_text else "")
    return None


class Reader(object):
    """Sequential access to a file's logical lines, shared by nested readers
    (conditionals read their body from the same position, as httpd does).
    Lines are handed out by index into ``source.texts``."""

    __slots__ = ("source", "texts", "i", "stop")

    def __init__(self, source):
        self.source = source
        self.texts = source.texts
        self.i = 0
        # Reading stops, with httpd's error, at a line over the length limit.
        self.stop = source.too_long_at if source.too_long_at is not None else len(self.texts)

    def next(self):
        # type: () -> Optional[int]
        i = self.i
        if i >= self.stop:
            self.check_end()
            return None
        self.i = i + 1
        return i

    def check_end(self):
        """At ``stop``: EOF, or the line httpd cannot read."""
        if self.i < len(self.texts):
            line = self.source.line_number(self.i)
            raise BuildError("Error reading %s at line %d: Line too long" % (self.source.path, line),
                             self.source, line, phase="read")


# What a directive name does when read (see Builder._describe).
_PLAIN, _EXEC, _OPEN, _CLOSE = 0, 1, 2, 3


# <IfVersion> without --httpd: the release the directive table was measured on.
DEFAULT_HTTPD_VERSION = (2, 4, 71)


class Builder(object):
    def __init__(self, fs, defines=(), env=None, build=None, server_root="/", pre_directives=(),
                 httpd_version=DEFAULT_HTTPD_VERSION):
        self.fs = fs                      # type: ConfigFS
        self.env = dict(env or {})        # type: Dict[bytes, bytes]
        self.config = Config()
        self.config.defines = list(defines)
        self.config.server_root = server_root
        self.config.read_root = fs.read_root
        self.builtin = builtin_modules(build)
        self.loaded = set(self.builtin)
        self.loaded_order = []            # LoadModule'd symbols, in order
        self.include_depth = 0
        self.sources = {}                 # path -> SourceFile (parse once)
        self.pre_directives = list(pre_directives)
        self.httpd_version = httpd_version
        # False when the tree is a copy away from its real location: then a
        # runtime directory missing here says nothing about the server.
        self.live = True
        self._names = {}  # name as written -> _describe(); cleared when a module loads
        self._seq = 0     # active directives read so far
        self.env_lookups = {}  # type: Dict[bytes, Optional[bytes]]
        self.config._index = {}

    # -- lookups ---------------------------------------------------------
    def lookup_var(self, name):
        # type: (bytes) -> Optional[bytes]
        v = self.config.variables.get(to_str(name).lower())
        if v is not None:
            return v
        v = self.env.get(name)
        self.env_lookups[name] = v  # what the result depends on (cgidlint.cache)
        return v

    def command(self, lname):
        """The table entry if the command exists in a module loaded so far."""
        return available_command(lname, self.loaded)

    def module_loaded(self, name):
        return any(module_matches(sym, name) for sym in self.loaded)

    def server_root_relative(self, path):
        # type: (str) -> str
        if path.startswith("/"):
            return os.path.normpath(path) if path != "/" else "/"
        return os.path.normpath(os.path.join(self.config.server_root, path))

    # -- files -----------------------------------------------------------
    def source(self, path):
        # type: (str) -> SourceFile
        src = self.sources.get(path)
        if src is None:
            data = self.fs.read(path)
            src = parse_bytes(data, path)
            self.sources[path] = src
            self.config.files.append(src)
        return src

    def read_main(self, path):
        # type: (str) -> Config
        cfg = self.config
        cfg.main_file = path
        try:
            if self.pre_directives:
                pre = parse_bytes(b"\n".join(self.pre_directives) + b"\n", "<-C>")
                self.build_file(pre, cfg.root)
            try:
                src = self.source(path)
            except ReadError as e:
                raise BuildError(str(e), None, 0, phase="read")
            self.build_file(src, cfg.root)
        except BuildError as e:
            cfg.errors.append(ConfigError(e.code, e.message, e.file, e.line, e.column, e.phase, e.chain))
        cfg.modules = sorted(self.builtin) + self.loaded_order
        return cfg

    def build_file(self, src, parent):
        # type: (SourceFile, Directive) -> None
        stack = []  # open sections in this file
        self.read_block(Reader(src), parent, stack)
        if stack:
            msg = "\n".join("%s:%d: %s> was not closed." % (src.path, d.line, d.name)
                            for d in reversed(stack))
            raise BuildError(msg, src, stack[0].line)

    def read_block(self, reader, parent, stack, end_tag=None):
        # type: (Reader, Directive, List[Directive], Optional[bytes]) -> Optional[int]
        """Build lines until EOF, or (``end_tag``) until the first raw line
        ``</end_tag`` seen while nothing opened inside is still open, whose
        index is returned.

        The loop handles plain directives and sections itself (nearly every
        line of a large tree); anything else goes through ``build_line``.
        """
        src = reader.source
        texts = reader.texts
        names = self._names
        stop = reader.stop
        i = reader.i
        cur = stack[-1] if stack else parent
        seq = self._seq
        while i < stop:
            text = texts[i]
            idx = i  # the node keeps this int object: none made for it
            i += 1
            if not text:
                continue
            first = text[0]
            if first == 0x23:  # '#'
                continue
            if first == 0x3C and end_tag is not None and not stack and text[:2] == b"</" \
                    and text[2:].lower() == end_tag:
                reader.i = i
                self._seq = seq
                return idx
            if first == 0x22 or first == 0x27 or b"${" in text:
                parts = info = None
            else:
                parts = text.split(None, 1)
                info = names.get(parts[0])
                if info is None:
                    info = names[parts[0]] = self._describe(_unescape_name(parts[0]))
                what = info[3]
                if what == _CLOSE:
                    name = info[0]
                    if stack and name[-1:] == ">" and name[2:-1].lower() == cur.name[1:].lower():
                        stack.pop().close_index = idx
                        cur = stack[-1] if stack else parent
                        continue
                elif what != _EXEC:
                    args = parts[1] if len(parts) > 1 else b""
                    if info[4] and not args:
                        args = b">"
                    node = Directive(info[0], args, src, idx, cur, info[6], True, info[5], info[1], seq)
                    seq += 1
                    cur.children.append(node)
                    info[7].append(node)
                    if what == _OPEN:
                        stack.append(node)
                        cur = node
                    continue
            # Read-time directives, quotes, ${} (and a closing tag httpd
            # rejects): the general path.
            reader.i = i
            self._seq = seq
            self.build_line(reader, idx, text, parent, stack, parts, info)
            i = reader.i
            seq = self._seq
            cur = stack[-1] if stack else parent
        reader.i = i
        self._seq = seq
        reader.check_end()
        return None

    def _describe(self, name_b):
        """(name, lname, table entry, what it does, takes "<...>" args,
        known, node kind, index list) for an unescaped directive name, with
        the loaded modules as they are now.  The name is the table's
        spelling when the directive is known."""
        angle = False
        if name_b[1:2] != b"/":
            if name_b[-1:] == b">":
                name_b = name_b[:-1]
            angle = name_b[:1] == b"<"
        name = to_str(name_b)
        lname = name.lower()
        entry = self.command(lname)
        if entry is not None and entry[2] & flags.EXEC_ON_READ:
            what = _EXEC
        elif name_b[:1] == b"<":
            what = _CLOSE if name_b[1:2] == b"/" else _OPEN
        else:
            what = _PLAIN
        if entry is not None:
            name = entry[0]  # canonical spelling
        # the index list of the name: its nodes are appended as they are read
        same = self.config._index.setdefault(lname, []) if what != _CLOSE else None
        return name, lname, entry, what, angle, entry is not None, SECTION if what == _OPEN else PLAIN, same

    def _add(self, node, cur):
        """Attach an active node read from the configuration."""
        node.seq = self._seq
        self._seq += 1
        cur.children.append(node)
        index = self.config._index
        same = index.get(node.lname)
        if same is None:
            index[node.lname] = [node]
        else:
            same.append(node)

    def build_line(self, reader, i, text, parent, stack, parts=None, info=None):
        # type: (Reader, int, bytes, Directive, List[Directive], Optional[list], Optional[tuple]) -> None
        """One logical line (not blank, not a comment): ``parts``/``info``
        are the split line and its name's description when the caller has
        them (unquoted name, no ``${}``)."""
        src = reader.source
        undefined = ()
        if parts is None:
            if b"${" in text:
                # Comments are recognised before expansion (config.c), so an
                # expansion may produce anything, even nothing.
                text, undefined = resolve_env(text, self.lookup_var)
                text = text.lstrip()
                if not text:
                    return
            first = text[0]
            if first != 0x22 and first != 0x27:
                # Unquoted name: runs to whitespace, only "\\" is an escape.
                parts = text.split(None, 1)
                info = self._names.get(parts[0])
                if info is None:
                    info = self._names[parts[0]] = self._describe(_unescape_name(parts[0]))
                args = parts[1] if len(parts) > 1 else b""
            else:
                name_b, _, pos, _ = getword_conf(text)
                if not name_b:
                    return
                info = self._describe(name_b)
                args = text[pos:]
        else:
            args = parts[1] if len(parts) > 1 else b""
        name, lname, entry, what, angle = info[:5]
        if angle and not args:
            args = b">"
        cur = stack[-1] if stack else parent
        if undefined:
            for u in undefined:
                self.config.warnings.append(ConfigError(
                    "CG003", "Config variable ${%s} is not defined" % to_str(u), src.path, src.line_number(i),
                    src.line_at(i).column, severity="warning"))
        if what == _CLOSE:
            if not stack:
                raise BuildError("%s without matching <%s section" % (name, name[2:]), src, src.line_number(i),
                                 src.line_at(i).column)
            if not name.endswith(">"):
                raise BuildError("%s> directive missing closing '>'" % name, src, src.line_number(i),
                                 src.line_at(i).column)
            opened = stack[-1]
            if name[2:-1].lower() != opened.name[1:].lower():
                raise BuildError("Expected </%s> but saw %s" % (opened.name[1:], name), src, src.line_number(i),
                                 src.line_at(i).column)
            opened.close_index = i
            stack.pop()
            return
        known = entry is not None
        kind = SECTION if what == _OPEN else PLAIN
        node = Directive(name, args, src, i, cur, kind, True, known, lname)
        if undefined:
            node.undefined_vars = [to_str(u) for u in undefined]
        self._add(node, cur)
        if what == _EXEC:
            self.execute_now(entry, node, reader)
        elif what == _OPEN:
            stack.append(node)

    # -- EXEC_ON_READ ----------------------------------------------------
    def execute_now(self, entry, node, reader):
        # type: (tuple, Directive, Reader) -> None
        lname = node.lname
        src = reader.source
        line = node.line
        if entry[1] != "RAW_ARGS":
            err = argc_error(entry[0], entry[1], entry[5], node.args)
            if err:
                raise BuildError(err, src, line, node.column)
        if lname in _CONDITIONALS:
            node.kind = CONDITIONAL
            node.children = []
            self.conditional(node, reader)
            return
        words = split_words(node.args)
        if lname == "define":
            name = to_str(words[0])
            if ":" in name:
                raise BuildError("Variable name must not contain ':'", src, line, node.column)
            if name not in self.config.defines:
                self.config.defines.append(name)
            if len(words) > 1 and words[1]:
                self.config.variables[name.lower()] = words[1]
        elif lname == "undefine":
            name = to_str(words[0])
            if ":" in name:
                raise BuildError("Variable name must not contain ':'", src, line, node.column)
            while name in self.config.defines:
                self.config.defines.remove(name)
            self.config.variables.pop(name.lower(), None)
        elif lname == "serverroot":
            path = self.server_root_relative(to_str(words[0]))
            if not self.fs.is_dir(path):
                raise BuildError("ServerRoot must be a valid directory", src, line, node.column)
            self.config.server_root = path
            self.config.server_root_directive = node
        elif lname == "defaultruntimedir":
            path = self.server_root_relative(to_str(words[0]))
            if not self.fs.is_dir(path):
                msg = "DefaultRuntimeDir must be a valid directory, absolute or relative to ServerRoot"
                if self.live:
                    raise BuildError(msg, src, line, node.column)
                self.config.warnings.append(ConfigError(
                    "CG001", msg + " (%s is not on this machine; the config tree is a copy, so this is "
                    "config-only)" % path, src.path, line, node.column, severity="warning"))
            self.config.runtime_dir = path
            self.config.runtime_dir_directive = node
        elif lname == "loadmodule":
            sym = to_str(words[0])
            if sym not in self.loaded:
                self.loaded.add(sym)
                self._names.clear()
                self.loaded_order.append(sym)
                self.config.module_lines[sym] = node
                if not is_known_module(sym):
                    self.config.unknown_modules.append(sym)
        elif lname in ("include", "includeoptional"):
            node.kind = INCLUDE
            node.children = []
            node.targets = []
            self.include(node, reader, optional=lname == "includeoptional")
        elif lname in ("<macro",):
            # mod_macro keeps the body for later ``Use``; we keep it inactive.
            node.kind = CONDITIONAL
            node.children = []
            node.condition_true = False
            self.soak(node, reader, keep=True)

    def include(self, node, reader, optional):
        src = reader.source
        self.include_depth += 1
        try:
            if self.include_depth > MAX_INCLUDE_DEPTH:
                raise BuildError("Exceeded maximum include depth of %d, There appears to be a recursion."
                                 % MAX_INCLUDE_DEPTH, src, node.line, node.column, code="CG002")
            pattern = self.server_root_relative(node.arg(0) or "")
            try:
                for path in includes.expand(self.fs, pattern, optional):
                    node.targets.append(path)
                    try:
                        child_src = self.source(path)
                    except ReadError as e:
                        raise BuildError(str(e), src, node.line, node.column, code="CG002")
                    try:
                        self.build_file(child_src, node)
                    except BuildError as e:
                        e.chain.insert(0, (src.path, node.line))
                        raise
            except includes.IncludeError as e:
                raise BuildError(str(e), src, node.line, node.column, code="CG002")
        finally:
            self.include_depth -= 1

    def conditional(self, node, reader):
        # type: (Directive, Reader) -> None
        src = reader.source
        raw = node.args
        gt = raw.rfind(b">")
        if gt == -1:
            raise BuildError("%s> directive missing closing '>'" % node.name, src, node.line, node.column)
        raw = raw[:gt]
        negate = raw[:1] == b"!"
        if negate:
            raw = raw[1:]
        word, _, _, _ = getword_conf(raw)
        if not word:
            raise BuildError("%s> directive requires additional arguments" % node.name, src, node.line, node.column)
        result = self.test_condition(node.lname, to_str(word), raw)
        node.condition_true = bool(result) != negate
        if node.condition_true:
            self.cont_config(node, reader)
        else:
            self.soak(node, reader, keep=True)

    def test_condition(self, lname, word, raw):
        if lname == "<ifmodule":
            return self.module_loaded(word)
        if lname == "<ifdefine":
            return word in self.config.defines
        if lname == "<iffile":
            return self.fs.exists(self.server_root_relative(word))
        if lname == "<ifdirective":
            return self.command(word.lower()) is not None
        if lname == "<ifsection":
            return self.command("<" + word.lower()) is not None
        if lname == "<ifversion":
            return _version_matches(to_str(raw), self.httpd_version)
        return False

    def cont_config(self, node, reader):
        """A true conditional's body: parsed normally, ended by the first raw
        line equal to ``</Name>`` while nothing opened inside is still open;
        EOF ends it silently."""
        bracket = node.name[1:].lower().encode("ascii", "replace") + b">"
        node.close_index = self.read_block(reader, node, [], bracket)

    def soak(self, node, reader, keep=False):
        """A false conditional's body (``ap_soak_end_container``): raw lines,
        first word only, no expansion and no comment rule."""
        src = reader.source
        texts = reader.texts
        name = node.name
        nested = [name]
        while True:
            i = reader.next()
            if i is None:
                raise BuildError("Expected </%s> before end of configuration" % nested[-1][1:], src, node.line,
                                 node.column)
            text = texts[i]
            word, _, pos, _ = getword_conf(text)
            if keep and word and word[:1] != b"#":
                self._keep_inactive(node, i, word, text[pos:])
            if word[:1] != b"<":
                continue
            if word[1:2] == b"/":
                closing = to_str(word[:-1])
                if closing[2:].lower() != nested[-1][1:].lower():
                    raise BuildError("Expected </%s> but saw %s>" % (nested[-1][1:], closing), src, node.line,
                                     node.column)
                nested.pop()
                if not nested:
                    node.close_index = i
                    return
            else:
                opened = to_str(word)
                if not text[pos:] and opened.endswith(">"):
                    opened = opened[:-1]
                nested.append(opened)

    def _keep_inactive(self, node, i, word, args):
        """Record a soaked line as an inactive node, nested by tags."""
        # Inactive bodies are flat lists under the conditional; nesting is
        # recovered from names when needed.  Keeping them flat keeps soaking
        # as cheap as httpd's.
        name = to_str(word)
        if name[:2] == "</":
            return
        if name.endswith(">") and name[:1] == "<" and not args:
            name = name[:-1]
        entry = DIRECTIVES.get(name.lower())
        d = Directive(entry[0] if entry else name, args, node.source, i, node,
                      kind=SECTION if name[:1] == "<" else PLAIN, active=False, known=entry is not None)
        node.children.append(d)


def _unescape_name(word):
    """An unquoted word as ``ap_getword_conf`` returns it: only ``\\\\``
    is an escape."""
    return word.replace(b"\\\\", b"\\") if b"\\" in word else word


def _version_matches(raw, version):
    """mod_version's ``<IfVersion [[!]op] version>`` test."""
    words = raw.split()
    if not words:
        return False
    op = "="
    if len(words) >= 2:
        op, target = words[0], words[1]
    else:
        target = words[0]
    neg = op.startswith("!")
    if neg:
        op = op[1:]
    if op in ("~",) or (target.startswith("/") and target.endswith("/")):
        import re
        pat = target.strip("/")
        try:
            res = re.search(pat, "%d.%d.%d" % version) is not None
        except re.error:
            res = False
        return res != neg
    try:
        parts = tuple(int(x) for x in target.split("."))
    except ValueError:
        return False
    v = tuple(version[:len(parts)])
    res = {"=": v == parts, "==": v == parts, "<": v < parts, "<=": v <= parts, ">": v > parts,
           ">=": v >= parts}.get(op, False)
    return res != neg


def read_config(path, fs=None, defines=(), env=None, build=None, server_root=None, pre_directives=()):
    # type: (str, Optional[ConfigFS], Iterable[str], Optional[Dict[bytes, bytes]], Optional[str], Optional[str], Sequence[bytes]) -> Config
    """Read ``path`` (a server-view path) and everything it includes."""
    fs = fs or ConfigFS("/")
    b = Builder(fs, defines=defines, env=env, build=build,
                server_root=server_root or os.path.dirname(path) or "/", pre_directives=pre_directives)
    return b.read_main(path)
