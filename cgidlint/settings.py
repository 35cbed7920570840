"""Project configuration: ``.cgidlint.toml`` or ``[tool.cgidlint]`` in pyproject.toml.

A CI gate wants the same answer on every run without repeating options, so
the settings of a repository live in a file next to it.  The file is found
upward from the working directory (the first directory holding
``.cgidlint.toml``, or a ``pyproject.toml`` with a ``[tool.cgidlint]`` table,
wins; ``.cgidlint.toml`` before ``pyproject.toml`` in the same directory), or
named with ``--config FILE``; ``--isolated`` ignores all files.

A command-line option replaces the file's value for that key (lists
included: ``-D X`` replaces ``defines``), as ruff does.  Invalid
configuration is a usage error naming the file and the key, never a
traceback.

Only the lint path reads this module; it needs a TOML reader, which is the
standard library's ``tomllib`` from Python 3.11 and the small ``tomli``
package before that.
"""

import os
import re
from typing import Dict, List, Optional, Tuple

CONFIG_NAMES = (".cgidlint.toml", "pyproject.toml")
FAIL_ON = ("error", "warning", "info", "never")

# key in the file -> (click parameter name, kind).  Kinds: "str", "path"
# (a host path, relative to the file's directory), "codes" (rule codes or
# prefixes), "strs" (a list of strings).
KEYS = {
    "select": ("select", "codes"),
    "ignore": ("ignore", "codes"),
    "fail-on": ("fail_on", "str"),
    "root": ("root", "path"),
    "runtime-dir": ("runtime_dir", "str"),
    "server-root": ("server_root", "str"),
    "build": ("build", "str"),
    "httpd": ("httpd", "path"),
    "defines": ("defines", "strs"),
    "shared-dirs": ("shared_dirs", "strs"),
    "baseline": ("baseline_file", "path"),
    "per-path-ignores": (None, "table"),
}

_TOOL_TABLE = re.compile(rb"(?m)^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*cgidlint[ \t]*\]")


class SettingsError(Exception):
    """Invalid configuration: reported with exit code 2."""


class Settings(object):
    """The values a configuration file sets, already checked."""

    def __init__(self, source=None, values=None, per_path_ignores=()):
        self.source = source                      # the file, or None when there is none
        self.values = dict(values or {})          # click parameter name -> value
        self.per_path_ignores = list(per_path_ignores)  # [(PathPattern, [codes])]

    @property
    def base_dir(self):
        return os.path.dirname(self.source) if self.source else os.getcwd()

    def defaults_for(self, param_names):
        """The values to use as defaults for a command with these parameters."""
        return {k: v for k, v in self.values.items() if k in param_names}

    def ignored_codes(self, file):
        """Rule codes (or prefixes) ignored for findings in ``file``."""
        if not self.per_path_ignores or not file:
            return []
        path = os.path.abspath(file)
        rel = os.path.relpath(path, self.base_dir).replace(os.sep, "/")
        codes = []
        for pattern, pcodes in self.per_path_ignores:
            if pattern.matches(path if pattern.absolute else rel):
                codes.extend(pcodes)
        return codes

    def filter(self, findings):
        """``findings`` without those that a per-path ignore covers."""
        if not self.per_path_ignores:
            return list(findings)
        from cgidlint.rules import code_selected
        return [f for f in findings if code_selected(f.rule, ignore=self.ignored_codes(f.file))]


class PathPattern(object):
    """A gitignore-like glob: ``*`` stays within a directory, ``**`` crosses
    them, and a pattern without ``/`` matches a file name at any depth.
    Relative patterns match paths relative to the settings file's directory
    (``../`` reaches beside it); absolute ones match absolute paths."""

    def __init__(self, text):
        self.text = text
        pattern = text[2:] if text.startswith("./") else text
        self.absolute = pattern.startswith("/")
        anchored = "/" in pattern.rstrip("/")
        body = _glob_to_regex(pattern.rstrip("/"))
        # A directory pattern covers everything below it.
        prefix = "" if anchored else "(?:.*/)?"
        self.regex = re.compile("^" + prefix + body + "(?:/.*)?$")

    def matches(self, rel_path):
        return bool(self.regex.match(rel_path))

    def __repr__(self):
        return "PathPattern(%r)" % self.text


def _glob_to_regex(glob):
    out = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = glob.find("]", i + 2)
            if j < 0:
                out.append(re.escape(c))
                i += 1
            else:
                inner = glob[i + 1:j]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def find_config_file(start):
    # type: (str) -> Optional[str]
    """The configuration file that applies in directory ``start``, or None."""
    d = os.path.abspath(start)
    while True:
        for name in CONFIG_NAMES:
            p = os.path.join(d, name)
            if os.path.isfile(p) and (name != "pyproject.toml" or _has_tool_table(p)):
                return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _has_tool_table(path):
    # A byte scan first: most pyproject.toml files are not ours, and on
    # Python < 3.11 without tomli they must not stop the lint.
    try:
        with open(path, "rb") as f:
            return bool(_TOOL_TABLE.search(f.read()))
    except (IOError, OSError):
        return False


def _toml_loads(text, path):
    try:
        import tomllib as toml  # novm  (Python >= 3.11)
    except ImportError:
        try:
            import tomli as toml
        except ImportError:
            raise SettingsError("%s: reading it needs the 'tomli' package on Python < 3.11 "
                                "(pip install tomli), or use --isolated" % path)
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as e:
        raise SettingsError("%s: invalid TOML: %s" % (path, e))


def load_settings(path):
    # type: (str) -> Settings
    """Read and check the configuration file at ``path``."""
    path = os.path.abspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError) as e:
        raise SettingsError("%s: cannot read configuration: %s" % (path, e.strerror or e))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SettingsError("%s: not UTF-8 (TOML files must be): byte %d" % (path, e.start))
    doc = _toml_loads(text, path)
    if os.path.basename(path) == "pyproject.toml":
        table = doc.get("tool", {}).get("cgidlint")
        where = "[tool.cgidlint]"
        if table is None:
            raise SettingsError("%s: no [tool.cgidlint] table" % path)
    else:
        table = doc
        where = os.path.basename(path)
    return _check(table, path, where)


def _check(table, path, where):
    if not isinstance(table, dict):
        raise SettingsError("%s: %s must be a table" % (path, where))
    base = os.path.dirname(path)
    values = {}  # type: Dict[str, object]
    per_path = []  # type: List[Tuple[PathPattern, List[str]]]
    for key, value in table.items():
        if key not in KEYS:
            hint = " (keys go at the top level of %s)" % where if key == "tool" else ""
            raise SettingsError("%s: unknown key '%s' in %s%s; known keys: %s"
                                % (path, key, where, hint, ", ".join(sorted(KEYS))))
        param, kind = KEYS[key]

        def bad(expected, key=key):
            return SettingsError("%s: %s: '%s' must be %s, not %r" % (path, where, key, expected, value))

        if kind == "table":
            if not isinstance(value, dict):
                raise bad("a table of path patterns to lists of rule codes")
            for pattern, codes in value.items():
                if not _is_str_list(codes):
                    raise SettingsError("%s: %s: per-path-ignores '%s' must be a list of rule codes, not %r"
                                        % (path, where, pattern, codes))
                per_path.append((PathPattern(pattern), _check_codes(codes, path, where,
                                                                    "per-path-ignores '%s'" % pattern)))
        elif kind == "codes":
            if not _is_str_list(value):
                raise bad("a list of rule codes")
            values[param] = ",".join(_check_codes(value, path, where, key))
        elif kind == "strs":
            if not _is_str_list(value):
                raise bad("a list of strings")
            values[param] = tuple(value)
        else:
            if not isinstance(value, str) or not value:
                raise bad("a non-empty string")
            if key == "fail-on" and value not in FAIL_ON:
                raise bad("one of %s" % ", ".join(FAIL_ON))
            if key == "build":
                from cgidlint.paths.runtime import BUILDS
                if value not in BUILDS:
                    raise bad("one of %s" % ", ".join(sorted(BUILDS)))
            if kind == "path" and (key != "httpd" or "/" in value):
                value = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
            values[param] = value
    return Settings(path, values, per_path)


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_codes(codes, path, where, key):
    from cgidlint.rules import registry
    known = list(registry())
    out = []
    for c in codes:
        code = c.strip().upper()
        if not code or not any(k.startswith(code) for k in known):
            raise SettingsError("%s: %s: '%s' names no rule: %r (see: cgidlint rules)" % (path, where, key, c))
        out.append(code)
    return out


def discover(config=None, isolated=False, cwd=None):
    # type: (Optional[str], bool, Optional[str]) -> Settings
    """The settings in force: ``--config FILE``, else the file found upward
    from ``cwd``, else none."""
    if isolated:
        return Settings()
    path = config or find_config_file(cwd or os.getcwd())
    return load_settings(path) if path else Settings()
