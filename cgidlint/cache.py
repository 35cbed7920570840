"""A cache of evaluated configurations, for re-runs on an unchanged tree.

What is cached: the outcome of the build and walk phases (the directive
tree, its errors and warnings, the Define table, the loaded modules ...),
which is a function of

* the code that computes it (a hash of the parser/evaluate sources),
* what the engine decided before reading (the Builder's arguments: read
  root and mounts, main file, ServerRoot, build, -D, -C, copy or live), and
* every question the build asked of the outside world, recorded while it
  ran: the bytes of each file it read (by SHA-256), each directory listing
  an Include expanded, each ``is_dir``/``exists`` test (ServerRoot,
  ``<IfFile>``, IncludeOptional), each ``${VAR}`` looked up in the
  environment.

An entry is used only when every recorded question, asked again, gets the
same answer: the build is deterministic given those answers, so it would
compute the same result.  Time stamps are never trusted (an edit within the
file system's time granularity keeps mtime), so a hit still reads and
hashes every file; it saves the parsing, building and walking.  The rules
always run afresh: they look at the live filesystem (socket directories,
permissions, users).

Where: ``$XDG_CACHE_HOME/cgidlint`` (when absolute) or
``~/.cache/cgidlint`` (no cache without a home), one file per
(tree, options), created 0700 (not used when it is writable by others or is
someone else's symlink) and replaced atomically (rename), so
concurrent runs never see half a file; the 32 most recently written are
kept.  Entries are ``marshal`` data (only
plain values: no code runs on load, unlike pickle) behind a SHA-256 of
their content: a truncated, corrupt or foreign file is ignored and
rewritten.  Deleting the directory at any time is safe.
"""

import hashlib
import marshal
import os
import stat
import sys
from array import array
from itertools import compress, count, repeat
from operator import attrgetter, is_not
from typing import Optional

from cgidlint import __version__

FORMAT = b"cgidlint-cache-1\n"
MAX_ENTRIES = 32  # entries kept (one per linted tree and set of options)
# Modules whose code decides what the build and walk produce.
_CODE = ("cgidlint.cache", "cgidlint.parser.source", "cgidlint.parser.tokens", "cgidlint.evaluate.build",
         "cgidlint.evaluate.walk", "cgidlint.evaluate.model", "cgidlint.evaluate.includes",
         "cgidlint.evaluate.fs", "cgidlint.evaluate.modules", "cgidlint.httpd_data.directives",
         "cgidlint.httpd_data.flags", "cgidlint.paths.jail")
_KINDS = ("plain", "section", "conditional", "include")

_code_digest = None


def cache_dir():
    # type: () -> Optional[str]
    """Where entries live, or None when there is no absolute place for
    them: a relative XDG_CACHE_HOME is invalid (XDG spec) and ignored, and a
    user without a home (HOME unset, no passwd entry: expanduser leaves '~')
    gets no cache rather than one in the working directory."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
    return os.path.join(base, "cgidlint")


def _is_entry_name(name):
    """Names this module writes: entries (a SHA-256 in hex) and the
    temporary files they are written to."""
    if name.startswith(".tmp-"):
        return True
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def code_digest():
    """A hash of the sources of the modules in _CODE (read through their
    loaders, so a zipapp works too); None when one cannot be read."""
    global _code_digest
    if _code_digest is None:
        import importlib
        h = hashlib.sha256(__version__.encode())
        for name in _CODE:
            module = importlib.import_module(name)
            try:
                h.update(module.__loader__.get_data(module.__file__))
            except (AttributeError, OSError, TypeError):
                return None
        _code_digest = h.hexdigest()
    return _code_digest


# -- recording what the build asks --------------------------------------------

class RecordingFS(object):
    """A ConfigFS that notes every question and its answer."""

    def __init__(self, fs):
        self.fs = fs
        self.read_root = fs.read_root
        self.questions = []   # (what, path, answer)
        self.data = {}        # path -> bytes read (for the entry's sources)

    def host_path(self, path):
        return self.fs.host_path(path)

    def view_path(self, host_path):
        return self.fs.view_path(host_path)

    def read(self, path):
        from cgidlint.evaluate.fs import ReadError
        try:
            data = self.fs.read(path)
        except ReadError as e:
            self.questions.append(("read", path, ("error", str(e))))
            raise
        self.questions.append(("read", path, hashlib.sha256(data).digest()))
        self.data[path] = data
        return data

    def is_dir(self, path):
        answer = self.fs.is_dir(path)
        self.questions.append(("is_dir", path, answer))
        return answer

    def exists(self, path):
        answer = self.fs.exists(path)
        self.questions.append(("exists", path, answer))
        return answer

    def listdir(self, path):
        try:
            entries = self.fs.listdir(path)
        except OSError as e:
            self.questions.append(("listdir", path, ("error", e.errno)))
            raise
        self.questions.append(("listdir", path, _listing(entries)))
        return entries


def _listing(entries):
    """What includes.py uses of a directory: names, which are directories
    and which are symlinks (not following links)."""
    out = []
    for e in entries:
        try:
            kind = (e.is_dir(follow_symlinks=False), e.is_symlink())
        except OSError:
            kind = None
        out.append((e.name, kind))
    out.sort()
    return out


def _answer_again(fs, what, path, data):
    """The answer the live filesystem gives now (``data`` collects file bytes)."""
    from cgidlint.evaluate.fs import ReadError
    if what == "read":
        try:
            content = fs.read(path)
        except ReadError as e:
            return ("error", str(e))
        data[path] = content
        return hashlib.sha256(content).digest()
    if what == "is_dir":
        return fs.is_dir(path)
    if what == "exists":
        return fs.exists(path)
    if what == "listdir":
        try:
            return _listing(fs.listdir(path))
        except OSError as e:
            return ("error", e.errno)
    raise ValueError(what)


# -- the evaluated configuration as plain values ------------------------------

def _error_values(e):
    return (e.code, e.message, e.file, e.line, e.column, e.phase, [tuple(c) for c in e.chain], e.severity)


def _error(values):
    from cgidlint.evaluate.model import ConfigError
    code, message, file, line, column, phase, chain, severity = values
    return ConfigError(code, message, file, line, column, phase, [tuple(c) for c in chain], severity)


def _preorder(root):
    """Every node under ``root`` (inactive ones too) in file order, and the
    number of each one's parent (root 0, nodes from 1 in that order)."""
    nodes = []
    parents = array("q")
    stack = [(iter(root.children), 0)]
    while stack:
        children, parent_no = stack[-1]
        for d in children:
            nodes.append(d)
            parents.append(parent_no)
            if d.children:
                stack.append((iter(d.children), len(nodes)))
                break
        else:
            stack.pop()
    return nodes, parents


# Directive attributes that live in __dict__ (class-level defaults) and
# are part of the evaluation; Directive._words is a cache of ``words``.
EXTRA_ATTRIBUTES = ("close_index", "condition_true", "targets", "undefined_vars")


def dump_config(config, walk_errors):
    """``config`` and the walk's errors as marshal-able values.  Nodes are
    stored by column (numbers as packed arrays), taken out with C-level
    maps: writing and loading stay cheap next to the lint itself."""
    from cgidlint.evaluate.model import Directive
    nodes, parents = _preorder(config.root)
    files = [src.path for src in config.files]
    file_no = dict(zip(map(id, config.files), count()))
    unread = []  # sources that are not files (the -C directives): kept whole
    for src in dict.fromkeys(map(_source, nodes)):
        if id(src) not in file_no:
            file_no[id(src)] = -1 - len(unread)
            unread.append((src.path, src.data))
    kinds = {k: i for i, k in enumerate(_KINDS)}
    sources = array("q", map(file_no.__getitem__, map(id, map(_source, nodes))))
    indexes = array("q", map(_index, nodes))
    # The attributes a few nodes set beyond their slots (read through
    # getattr: asking for __dict__ would give every node one).
    extras = {}
    for attr in EXTRA_ATTRIBUTES:
        default = getattr(Directive, attr)
        values = list(map(attrgetter(attr), nodes))
        for n in compress(count(1), map(is_not, values, repeat(default))):
            extras.setdefault(n, {})[attr] = values[n - 1]

    def ref(d):
        return nodes.index(d) + 1 if d is not None else -1  # a handful of nodes

    fields = dict(config.__dict__)
    for k in ("root", "files", "errors", "warnings", "_index", "server_root_directive", "runtime_dir_directive",
              "module_lines"):
        fields.pop(k)
    return {"files": files, "unread": unread, "fields": fields,
            "nodes": (parents.tobytes(), sources.tobytes(), indexes.tobytes(),
                      bytes(map(kinds.__getitem__, map(_kind, nodes))), bytes(map(_active, nodes)),
                      bytes(map(_known, nodes)), list(map(_name, nodes)), list(map(_lname, nodes)),
                      list(map(_args, nodes)), extras),
            "errors": [_error_values(e) for e in config.errors],
            "warnings": [_error_values(e) for e in config.warnings],
            "server_root_directive": ref(config.server_root_directive),
            "runtime_dir_directive": ref(config.runtime_dir_directive),
            "module_lines": {k: ref(v) for k, v in config.module_lines.items()},
            "walk_errors": [_error_values(e) for e in walk_errors]}


_source, _index, _kind, _active, _known, _name, _lname, _args = (
    attrgetter(a) for a in ("source", "index", "kind", "active", "known", "name", "lname", "args"))


def _longs(raw):
    a = array("q")
    a.frombytes(raw)
    return a


def load_config(values, data):
    """The (Config, walk errors) ``dump_config`` described; ``data`` maps
    each file path to its bytes."""
    from cgidlint.evaluate.model import Config, Directive
    from cgidlint.parser.source import parse_bytes
    config = Config()
    config.__dict__.update(values["fields"])
    config.files = [parse_bytes(data[path], path) for path in values["files"]]
    # index >= 0: a file read; < 0: a source kept whole, from the end
    files = config.files + [parse_bytes(text, path) for path, text in reversed(values["unread"])]
    parents, sources, indexes, kinds, actives, knowns, names, lnames, args, extras = values["nodes"]
    all_nodes = [config.root]
    append = all_nodes.append
    index = {}
    seq = 0
    for parent_no, file_no, line_index, kind, active, known, name, lname, arg in zip(
            _longs(parents), _longs(sources), _longs(indexes), kinds, actives, knowns, names, lnames, args):
        parent = all_nodes[parent_no]
        d = Directive(name, arg, files[file_no], line_index, parent, _KINDS[kind], active == 1, known == 1, lname,
                      seq)
        if active:
            seq += 1
            same = index.get(lname)
            if same is None:
                index[lname] = [d]
            else:
                same.append(d)
        parent.children.append(d)
        append(d)
    for n, extra in extras.items():
        all_nodes[n].__dict__.update(extra)

    def node(i):
        return all_nodes[i] if i >= 0 else None

    config._index = index
    config.errors = [_error(e) for e in values["errors"]]
    config.warnings = [_error(e) for e in values["warnings"]]
    config.server_root_directive = node(values["server_root_directive"])
    config.runtime_dir_directive = node(values["runtime_dir_directive"])
    config.module_lines = {k: node(v) for k, v in values["module_lines"].items()}
    return config, [_error(e) for e in values["walk_errors"]]


# -- the store ----------------------------------------------------------------

class Store(object):
    """One directory of entries; every failure to use it is a miss."""

    def __init__(self, directory):
        self.directory = directory

    @classmethod
    def open(cls, directory=None):
        # type: (Optional[str]) -> Optional[Store]
        """The store, or None when the directory cannot be made ours alone."""
        directory = directory or cache_dir()
        if directory is None:
            return None
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            link = os.lstat(directory)
            st = os.stat(directory)
        except OSError:
            return None
        if stat.S_ISLNK(link.st_mode) and link.st_uid != os.getuid():
            return None  # someone else's link could lead to any directory of ours
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None  # someone else could plant entries
        if code_digest() is None:
            return None
        return cls(directory)

    @staticmethod
    def key(inputs):
        """The entry name for the builder's inputs (a repr of plain values)."""
        h = hashlib.sha256(FORMAT)
        h.update(code_digest().encode())
        h.update(repr(sys.version_info[:2]).encode())  # marshal and the interpreter that wrote it
        h.update(repr(inputs).encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def path(self, key):
        return os.path.join(self.directory, key)

    def prune(self):
        """Drop the least recently written entries beyond MAX_ENTRIES
        (entries of older cgidlint versions or of trees no longer linted);
        files this module did not name are left alone."""
        keep = MAX_ENTRIES
        try:
            entries = [e for e in os.scandir(self.directory)
                       if _is_entry_name(e.name) and e.is_file(follow_symlinks=False)]
            entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
            for e in entries[keep:]:
                os.unlink(e.path)
        except OSError:
            pass

    def lookup(self, key, fs, env):
        """(Config, walk errors) when the entry for ``key`` is still right
        for the filesystem ``fs`` and environment ``env``, else None."""
        try:
            with open(self.path(key), "rb") as f:
                raw = f.read()
        except OSError:
            return None
        head = len(FORMAT)
        if raw[:head] != FORMAT or hashlib.sha256(memoryview(raw)[head + 32:]).digest() != raw[head:head + 32]:
            return None
        try:
            stored_key, questions, env_lookups, values = marshal.loads(memoryview(raw)[head + 32:])
        except (EOFError, ValueError, TypeError):
            return None
        del raw
        if stored_key != key:
            return None
        for name, value in env_lookups:
            if env.get(name) != value:
                return None
        data = {}
        for what, path, answer in questions:
            try:
                if _answer_again(fs, what, path, data) != answer:
                    return None
            except (OSError, ValueError):
                return None
        try:
            return load_config(values, data)
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def save(self, key, recording, env_lookups, config, walk_errors):
        """Write the entry; a failure (disk full, read-only ...) is ignored."""
        try:
            payload = marshal.dumps((key, recording.questions, sorted(env_lookups.items()),
                                     dump_config(config, walk_errors)))
        except ValueError:
            return  # something not plain in the tree: do not cache it
        import tempfile  # only when writing
        target = self.path(key)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(FORMAT + hashlib.sha256(payload).digest() + payload)
                os.replace(tmp, target)
                self.prune()
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass

