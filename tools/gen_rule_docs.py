#!/usr/bin/env python3
"""Write docs/rules/ from the rule docstrings, and check the examples in them.

    python3 tools/gen_rule_docs.py           # (re)write docs/rules/*.md
    python3 tools/gen_rule_docs.py --check   # exit 1 when docs/rules/ is stale
                                             # or an example misbehaves

The docstring of each rule class is its documentation (see
cgidlint/rules/base.py).  Its ``## Example`` section holds the failing
example and its ``Use instead:`` part the passing one, written as fenced
blocks that the checker runs:

- ```` ```apache ```` is a complete ``/etc/httpd/conf/httpd.conf``
  (``encoding=NAME`` after the language writes it in that encoding);
- ```` ```sh ```` prepares the filesystem, in a scratch directory standing
  for ``/`` (``mkdir``, ``ln -s``, ``chmod``, ``chown``, ``touch`` only);
- ```` ```console ```` holds the one ``$ cgidlint ... /etc/httpd`` command
  (default: ``cgidlint /etc/httpd``).

The passing example starts from the failing one: its ``sh`` commands run
after the failing example's, and it reuses the failing config and command
unless it has its own.  The failing example must report the rule (at its
documented severity) and nothing else; the passing one must report nothing.
"""

import argparse
import grp
import json
import os
import pwd
import re
import shlex
import shutil
import stat
import sys
import tempfile
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DOCS_DIR = os.path.join(REPO, "docs", "rules")
sys.path.insert(0, REPO)

REQUIRED_HEADINGS = ("## What it does", "## Why is this bad?", "## httpd says", "## Example", "## Fix")
USE_INSTEAD = "Use instead:"
# "Use instead:" may carry a remark: "Use instead (when ...):".
_USE_INSTEAD_LINE = re.compile(r"^Use instead\b[^:]*:[ \t]*$", re.M)
CONFIG_PATH = "/etc/httpd/conf/httpd.conf"
LINT_TARGET = "/etc/httpd"

_FENCE = re.compile(r"^```([A-Za-z0-9_-]*)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


class ExampleError(Exception):
    """A rule's documentation cannot be checked as written."""


class Example(object):
    """One documented configuration: what to create, what to run."""

    def __init__(self, config, setup, args):
        self.config = config    # bytes of /etc/httpd/conf/httpd.conf
        self.setup = setup      # sh command lines, run in order
        self.args = args        # cgidlint options before the path


def sections(doc):
    """``## Heading`` -> body, in order (text before the first heading under "")."""
    out = OrderedDict()
    current = ""
    out[current] = []
    for line in doc.splitlines():
        if line.startswith("## "):
            current = line.strip()
            out[current] = []
        else:
            out[current].append(line)
    return OrderedDict((k, "\n".join(v).strip("\n")) for k, v in out.items())


def missing_headings(doc):
    present = sections(doc)
    missing = [h for h in REQUIRED_HEADINGS if h not in present]
    if not _USE_INSTEAD_LINE.search(present.get("## Example", "")):
        missing.append(USE_INSTEAD)
    return missing


def _fences(text):
    """(language, attributes, body) of each fenced block in ``text``."""
    for m in _FENCE.finditer(text):
        attrs = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
        yield m.group(1), attrs, m.group(3)


def _parse_part(code, part, text, base):
    config, setup, args = None, list(base.setup) if base else [], list(base.args) if base else None
    commands = 0
    for lang, attrs, body in _fences(text):
        if lang == "apache":
            if config is not None:
                raise ExampleError("%s: %s has more than one ```apache block" % (code, part))
            try:
                config = body.encode(attrs.get("encoding", "utf-8"))
            except (LookupError, UnicodeError) as e:
                raise ExampleError("%s: %s: cannot encode the config: %s" % (code, part, e))
        elif lang == "sh":
            setup.extend(l.strip() for l in body.splitlines() if l.strip() and not l.strip().startswith("#"))
        elif lang == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    args = _command_args(code, part, line[2:])
                    commands += 1
    if commands > 1:
        raise ExampleError("%s: %s has more than one $ cgidlint command" % (code, part))
    if config is None:
        if base is None:
            raise ExampleError("%s: %s has no ```apache block (the failing config)" % (code, part))
        config = base.config
    return Example(config, setup, args if args is not None else [])


def _command_args(code, part, line):
    words = shlex.split(line)
    if words[:1] != ["cgidlint"] or words[-1:] != [LINT_TARGET]:
        raise ExampleError("%s: %s: the command must be `cgidlint [OPTIONS] %s`, not %r"
                           % (code, part, LINT_TARGET, line))
    words = words[1:-1]
    return words[1:] if words[:1] == ["lint"] else words


def examples(rule):
    """(failing, passing) Examples of ``rule``, from its docstring."""
    doc = rule.doc()
    body = sections(doc).get("## Example", "")
    split = _USE_INSTEAD_LINE.search(body)
    if split is None:
        raise ExampleError("%s: no ## Example section with a %r part" % (rule.code, USE_INSTEAD))
    failing_text, passing_text = body[:split.start()], body[split.end():]
    failing = _parse_part(rule.code, "## Example", failing_text, None)
    passing = _parse_part(rule.code, USE_INSTEAD, passing_text, failing)
    return failing, passing


# -- the filesystem an example runs in --------------------------------------

def _in_tree(root, path):
    if not path.startswith("/"):
        raise ExampleError("paths in ```sh blocks are absolute (the scratch directory stands for /): %r" % path)
    return os.path.join(root, os.path.normpath(path).lstrip("/"))


# Octal modes, or "who" (explicit, so no umask applies) op perms.
_SYMBOLIC_MODE = re.compile(r"^([ugoa]+)([-+=])([rwxt]+)$")
_WHO = {"u": 0o0700, "g": 0o0070, "o": 0o0007, "a": 0o0777}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111}


def _new_mode(spec, old):
    if re.match(r"^[0-7]{3,4}$", spec):
        return int(spec, 8)
    m = _SYMBOLIC_MODE.match(spec)
    if not m:
        raise ExampleError("unsupported chmod mode %r (octal, or [ugoa]+[-+=][rwxt]+)" % spec)
    who_letters, op, perms = m.groups()
    who = 0
    for c in who_letters:
        who |= _WHO[c]
    bits = 0
    for c in perms:
        bits |= _PERM.get(c, 0)
    bits &= who
    if "t" in perms and ("o" in who_letters or "a" in who_letters):
        bits |= stat.S_ISVTX
    if op == "+":
        return old | bits
    if op == "-":
        return old & ~bits
    # "=" also clears the special bits of the classes it sets.
    cleared = who
    for letters, special in (("ua", stat.S_ISUID), ("ga", stat.S_ISGID), ("oa", stat.S_ISVTX)):
        if any(c in who_letters for c in letters):
            cleared |= special
    return (old & ~cleared) | bits


def _run_setup_line(root, line):
    words = shlex.split(line)
    cmd, rest = words[0], words[1:]
    if cmd == "mkdir":
        mode, paths = None, []
        while rest:
            w = rest.pop(0)
            if w == "-p":
                continue
            if w == "-m":
                mode = int(rest.pop(0), 8)
            else:
                paths.append(w)
        for p in paths:
            target = _in_tree(root, p)
            os.makedirs(target, exist_ok=True)
            os.chmod(target, 0o755 if mode is None else mode)
    elif cmd == "ln" and rest[:1] == ["-s"] and len(rest) == 3:
        # The target is kept as written: cgidlint resolves it inside the tree.
        os.symlink(rest[1], _in_tree(root, rest[2]))
    elif cmd == "chmod" and len(rest) >= 2:
        for p in rest[1:]:
            target = _in_tree(root, p)
            os.chmod(target, _new_mode(rest[0], stat.S_IMODE(os.lstat(target).st_mode)))
    elif cmd == "chown" and len(rest) >= 2:
        user, _, group = rest[0].partition(":")
        uid = pwd.getpwnam(user).pw_uid
        gid = grp.getgrnam(group).gr_gid if group else -1
        for p in rest[1:]:
            os.lchown(_in_tree(root, p), uid, gid)
    elif cmd == "touch":
        for p in rest:
            open(_in_tree(root, p), "ab").close()
    else:
        raise ExampleError("unsupported command in a ```sh block: %r (supported: mkdir, ln -s, chmod, chown, touch)"
                           % line)


def needs_root(example):
    """Whether the example's setup changes ownership (only root can)."""
    return any(shlex.split(l)[0] == "chown" for l in example.setup)


def build_tree(example, root):
    """Create the example's filesystem and config under ``root`` (standing for /)."""
    os.chmod(root, 0o755)
    for line in example.setup:
        try:
            _run_setup_line(root, line)
        except ExampleError:
            raise
        except (OSError, KeyError, IndexError, ValueError) as e:
            raise ExampleError("```sh line %r failed: %s" % (line, e))
    config = _in_tree(root, CONFIG_PATH)
    if not os.path.isdir(os.path.dirname(config)):
        os.makedirs(os.path.dirname(config))
    with open(config, "wb") as f:
        f.write(example.config)
    return _in_tree(root, LINT_TARGET)


def lint_example(example):
    """The findings (JSON dicts) of ``cgidlint --isolated --format json [args] /etc/httpd`` on the example."""
    from click.testing import CliRunner

    from cgidlint.cli import main
    root = tempfile.mkdtemp(prefix="cgidlint-doc-")
    try:
        target = build_tree(example, root)
        # --isolated: a settings file around the working directory must not change the verdict.
        result = CliRunner().invoke(main, ["lint", "--isolated", "--format", "json"] + example.args + [target])
        if result.exit_code not in (0, 1):
            raise ExampleError("cgidlint exited %s: %s" % (result.exit_code, result.output.strip()))
        return json.loads(result.output)["findings"]
    finally:
        shutil.rmtree(root)


def _describe(findings):
    return "; ".join("%s %s %s" % (f["rule"], f["severity"], f["message"]) for f in findings) or "nothing"


def check_failing(rule, example):
    """Problems with the failing example (empty when it behaves as documented)."""
    findings = lint_example(example)
    ours = [f for f in findings if f["rule"] == rule.code]
    problems = []
    if not any(f["severity"] == rule.severity for f in ours):
        problems.append("%s: the failing example does not report %s at severity %s (reported: %s)"
                        % (rule.code, rule.code, rule.severity, _describe(findings)))
    others = [f for f in findings if f["rule"] != rule.code]
    if others:
        problems.append("%s: the failing example also reports other rules: %s" % (rule.code, _describe(others)))
    return problems


def check_passing(rule, example):
    findings = lint_example(example)
    if findings:
        return ["%s: the passing example (Use instead) reports %s" % (rule.code, _describe(findings))]
    return []


# -- rendering -------------------------------------------------------------

def _module_path(rule):
    return "cgidlint/rules/%s.py" % rule.__module__.rsplit(".", 1)[-1]


def render(rule):
    return "\n".join([
        "<!-- Generated by tools/gen_rule_docs.py from %s; edit the docstring there. -->" % _module_path(rule),
        "# %s %s" % (rule.code, rule.name),
        "",
        "**Severity:** %s  " % rule.severity,
        "**Summary:** %s" % rule.summary,
        "",
        rule.doc(),
        "",
        "---",
        "[All rules](README.md) · the examples above are checked by the test suite "
        "([how](README.md#how-the-examples-are-checked)) · `cgidlint explain %s` prints the same text"
        % rule.code,
        "",
    ])


def render_index(rules):
    lines = [
        "<!-- Generated by tools/gen_rule_docs.py from the rule docstrings. -->",
        "# cgidlint rules",
        "",
        "| Code | Name | Severity | Summary |",
        "| --- | --- | --- | --- |",
    ]
    for rule in rules:
        lines.append("| [%s](%s.md) | %s | %s | %s |" % (rule.code, rule.code, rule.name, rule.severity,
                                                        rule.summary.replace("|", "\\|")))
    lines += [
        "",
        "`cgidlint rules` lists them, `cgidlint explain CODE` prints one page, and",
        "`--select`/`--ignore` take codes or prefixes (`CG1` is every ScriptSock rule).",
        "",
        "## How the examples are checked",
        "",
        "Every page has a failing example (`## Example`) and a passing one",
        "(`Use instead:`), and `tests/test_rule_docs.py` runs both:",
        "",
        "- an `apache` block is a complete `%s`;" % CONFIG_PATH,
        "- `sh` blocks build the filesystem it is checked against, in a scratch",
        "  directory that stands for `/` (so `/var/chroot` in the example is",
        "  `<scratch>/var/chroot`; cgidlint finds the tree from `ServerRoot`);",
        "- a `console` block shows the command, `cgidlint [OPTIONS] %s`" % LINT_TARGET,
        "  (without one: `cgidlint %s`), run with `--isolated` so that no" % LINT_TARGET,
        "  settings file changes the verdict.",
        "",
        "The passing example starts from the failing one: its `sh` commands run",
        "after the failing example's, and it keeps the failing config or command",
        "unless it shows its own.  The failing example must report its rule at the",
        "rule's severity and nothing else; the passing example must report nothing.",
        "",
        "These pages are generated from the rule docstrings in `cgidlint/rules/`:",
        "edit the docstring, then run `python3 tools/gen_rule_docs.py`",
        "(`--check` verifies the pages and runs the examples without writing).",
        "",
    ]
    return "\n".join(lines)


def expected_files(rules=None):
    """docs/rules/ file name -> content, as generated from the registry."""
    if rules is None:
        from cgidlint.rules import registry
        rules = list(registry().values())
    out = OrderedDict()
    out["README.md"] = render_index(rules)
    for rule in rules:
        out["%s.md" % rule.code] = render(rule)
    return out


def stale_files(docs_dir=DOCS_DIR):
    """Names of files in ``docs_dir`` that differ from what would be generated
    (missing, out of date, or a page for a rule that no longer exists)."""
    expected = expected_files()
    stale = []
    for name, text in expected.items():
        path = os.path.join(docs_dir, name)
        try:
            with open(path, "rb") as f:
                current = f.read().decode("utf-8")
        except (IOError, OSError):
            current = None
        if current != text:
            stale.append(name)
    if os.path.isdir(docs_dir):
        stale += sorted(n for n in os.listdir(docs_dir) if n.endswith(".md") and n not in expected)
    return stale


def write(docs_dir=DOCS_DIR):
    expected = expected_files()
    if not os.path.isdir(docs_dir):
        os.makedirs(docs_dir)
    for name in os.listdir(docs_dir):
        if re.match(r"^CG\d+\.md$", name) and name not in expected:
            os.remove(os.path.join(docs_dir, name))
    for name, text in expected.items():
        with open(os.path.join(docs_dir, name), "wb") as f:
            f.write(text.encode("utf-8"))
    return list(expected)


def check_all():
    """Every problem with the rule docs: stale pages, missing headings, misbehaving examples."""
    from cgidlint.rules import registry
    problems = ["docs/rules/%s is out of date: run python3 tools/gen_rule_docs.py" % n for n in stale_files()]
    for rule in registry().values():
        missing = missing_headings(rule.doc())
        if missing:
            problems.append("%s: the docstring lacks %s" % (rule.code, ", ".join(missing)))
            continue
        try:
            failing, passing = examples(rule)
            problems += check_failing(rule, failing)
            if needs_root(passing) and os.geteuid() != 0:
                problems.append("%s: the passing example needs root (chown); not checked" % rule.code)
            else:
                problems += check_passing(rule, passing)
        except ExampleError as e:
            problems.append(str(e))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a page is stale or an example misbehaves")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_all()
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for name in write():
        print(os.path.join("docs", "rules", name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
