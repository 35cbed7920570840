"""``cgidlint fix PATH``: show (default) or apply (``--write``) verified fixes.

Exit codes: 0 nothing left to fix, 1 findings remain (at or above
``--fail-on``, or fixes not applied yet), 2 errors (unreadable config,
refused or unverified edits).
"""

import os
import sys

import click

from cgidlint.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, _fail, engine_options, make_options, run_lint


def _err(msg):
    click.echo("cgidlint fix: %s" % msg, err=True)


def _at_or_above(findings, fail_on):
    from cgidlint import report
    return report.exceeds(findings, fail_on)


def _unique_commands(plan):
    seen = set()
    out = []
    for f, cmds in plan.commands:
        fresh = [c for c in cmds if c not in seen]
        seen.update(fresh)
        if fresh:
            out.append((f, fresh))
    return out


def print_commands(plan, out):
    groups = _unique_commands(plan)
    if not groups:
        return
    lines = ["# filesystem changes (not made by cgidlint): review, then run as root"]
    for f, cmds in groups:
        lines.append("# %s %s:%s: %s" % (f.rule, f.file, f.line, f.fix.description))
        if f.fix.relies_on:
            lines.append("#   relies on: %s" % f.fix.relies_on)
        lines.extend(cmds)
    out.write(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))


def _selected(findings, select, ignore):
    """The findings of the rules --select/--ignore name (prefixes, as lint)."""
    from cgidlint.rules import code_selected, parse_codes
    want, drop = parse_codes(select), parse_codes(ignore)
    return [f for f in findings if code_selected(f.rule, want, drop)]


def verify_after(before, after, plan):
    """Problems with the result of a write: a claimed finding still there, or a new CG001."""
    problems = []
    # CG1xx findings are about the one cgid socket of the server: after an
    # insertion it may be reported in another file, so match on the rule.
    claimed = {(f.rule, None if f.rule.startswith("CG1") else f.file) for f in plan.applied}
    for f in after:
        if (f.rule, f.file) in claimed or (f.rule, None) in claimed:
            problems.append("%s still reported at %s:%s after the fix: %s" % (f.rule, f.file, f.line, f.message))
    n_before = len([f for f in before if f.rule == "CG001"])
    new001 = [f for f in after if f.rule == "CG001"]
    if len(new001) > n_before:
        problems.extend("new CG001 at %s:%s: %s" % (f.file, f.line, f.message) for f in new001)
    return problems


@click.command("fix")
@click.argument("path", type=click.Path())
@engine_options
@click.option("--write", is_flag=True, help="Apply the edits (default: print a unified diff, change nothing).")
@click.option("--unsafe", is_flag=True,
              help="Also apply edits not verified on the filesystem (config-only evidence).")
@click.option("--backup", default=None, metavar="SUFFIX", help="With --write, keep the old file as FILE+SUFFIX.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding at or above this severity remains.")
def fix_command(path, root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs, select,
                ignore, write, unsafe, backup, fail_on):
    """Fix the configuration at PATH: config edits verified on the filesystem.

    Prints a unified diff and changes nothing unless --write is given.
    Filesystem changes (bind mounts, directories, symlinks) are never made:
    they are printed as commands.
    """
    from cgidlint.fix.plan import allowed_roots, make_plan, unified_diff
    from cgidlint.fix.write import WriteRefused, atomic_write

    if backup is not None and (not backup or "/" in backup):
        _fail("--backup SUFFIX must be a non-empty file name suffix such as .orig")
    if write and path == "-":
        # The bytes came from stdin: writing them to --stdin-filename's path
        # would overwrite a file cgidlint never read.
        _fail("--write needs a file: a configuration read from stdin (PATH -) is only shown as a diff")
    options = make_options(root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs)
    # All rules run (CG001 before and after must be compared whatever is
    # selected); --select/--ignore limit which findings are fixed and counted.
    project, everything = run_lint(path, options, None, None)
    findings = _selected(everything, select, ignore)
    plan = make_plan(project, findings, unsafe=unsafe)
    out = click.get_binary_stream("stdout")
    for fp in plan.changes:
        out.write(unified_diff(fp.display, fp.old, fp.new))
    print_commands(plan, out)
    out.flush()
    for f in plan.needs_unsafe:
        _err("not applied (evidence %s, %s; use --unsafe): %s %s:%s: %s"
             % (f.evidence, f.fix.applicability, f.rule, f.file, f.line, f.fix.description))
    if plan.errors:
        for e in plan.errors:
            _err("refused: %s" % e)
        sys.exit(EXIT_ERROR)

    changes = plan.changes
    if not write:
        if changes:
            _err("%d file(s) would change; run with --write to apply" % len(changes))
        remaining = [f for f in findings if f not in plan.applied]
        sys.exit(EXIT_FINDINGS if changes or _at_or_above(remaining, fail_on) else EXIT_CLEAN)
    if not changes:
        sys.exit(EXIT_FINDINGS if _at_or_above(findings, fail_on) else EXIT_CLEAN)

    roots = allowed_roots(project)
    written = []
    try:
        for fp in changes:
            real = atomic_write(fp.display, fp.new, fp.old, roots, backup=backup, display=fp.display)
            written.append((fp, real))
            _err("wrote %s" % fp.display)
    except (WriteRefused, OSError) as e:
        _err("refused: %s" % e)
        _rollback(written)
        sys.exit(EXIT_ERROR)

    _, after_all = run_lint(path, options, None, None)
    after = _selected(after_all, select, ignore)
    problems = verify_after(everything, after_all, plan)
    if problems:
        for p in problems:
            _err("verification failed: %s" % p)
        _rollback(written)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if _at_or_above(after, fail_on) else EXIT_CLEAN)


def _rollback(written):
    from cgidlint.fix.write import WriteRefused, atomic_write
    for fp, real in reversed(written):
        try:
            atomic_write(real, fp.old, fp.new, (os.path.dirname(real),), display=fp.display)
            _err("restored %s" % fp.display)
        except (WriteRefused, OSError) as e:
            _err("could not restore %s: %s" % (fp.display, e))
