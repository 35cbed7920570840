"""The ``cgidlint`` command.

``cgidlint PATH`` is ``cgidlint lint PATH``.  Exit codes: 0 nothing at or
above ``--fail-on``, 1 findings at or above it, 2 usage error or unreadable
configuration (with a message naming the file, never a traceback).
"""

import os
import sys

import click

from cgidlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SETTINGS_KEY = "cgidlint.settings"
STDIN_FILENAME_KEY = "cgidlint.stdin_filename"
NO_CACHE_KEY = "cgidlint.no_cache"


class DefaultLintGroup(click.Group):
    """A group where an unknown first word means ``lint``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint"] + list(args)
        elif not args:
            args = ["lint"]
        return super(DefaultLintGroup, self).parse_args(ctx, args)

    def main(self, args=None, *more, **kw):
        global _WHOLE_PROCESS
        # No args: run as the program (tests pass theirs), which exits when
        # this returns, so what a lint builds may stay until then.
        _WHOLE_PROCESS = args is None
        return super(DefaultLintGroup, self).main(args, *more, **kw)


_WHOLE_PROCESS = False


def _fail(message):
    click.echo("cgidlint: error: %s" % message, err=True)
    sys.exit(EXIT_ERROR)


def _settings_callback(ctx, param, value):
    """Load the configuration file once both --config and --isolated are
    known; eager, so its values become the defaults of the other options
    (which the command line then overrides)."""
    seen = ctx.meta.setdefault("cgidlint.settings_args", {})
    seen[param.name] = value
    if len(seen) < 2:
        return value
    from cgidlint.settings import SettingsError, discover
    try:
        settings = discover(seen["config_file"], seen["isolated"])
    except SettingsError as e:
        _fail(str(e))
    ctx.meta[SETTINGS_KEY] = settings
    defaults = dict(ctx.default_map or {})
    defaults.update(settings.defaults_for({p.name for p in ctx.command.params}))
    ctx.default_map = defaults
    return value


def _stdin_filename_callback(ctx, param, value):
    ctx.meta[STDIN_FILENAME_KEY] = value
    return value


def _no_cache_callback(ctx, param, value):
    ctx.meta[NO_CACHE_KEY] = value
    return value


def read_stdin_config(path, options):
    """PATH ``-``: the config's bytes come from stdin (read once, so a second
    lint of the same options sees the same bytes)."""
    if path != "-" or options.stdin_data is not None:
        return
    ctx = click.get_current_context(silent=True)
    options.stdin_filename = ctx.meta.get(STDIN_FILENAME_KEY) if ctx is not None else None
    options.stdin_data = click.get_binary_stream("stdin").read()


def current_settings():
    """The settings of the running command (none outside a command)."""
    from cgidlint.settings import Settings
    ctx = click.get_current_context(silent=True)
    settings = ctx.meta.get(SETTINGS_KEY) if ctx is not None else None
    return settings if settings is not None else Settings()


def engine_options(f):
    """Options shared by lint and fix (how to read the configuration)."""
    opts = [
        click.option("--root", type=click.Path(file_okay=False), default=None,
                     help="The jail the whole server runs in (external chroot). Inferred when the config lives "
                          "inside a jail."),
        click.option("-D", "defines", multiple=True, metavar="NAME", help="Define NAME, as httpd -D NAME."),
        click.option("-C", "pre_directives", multiple=True, metavar="DIRECTIVE",
                     help="Process DIRECTIVE before the config, as httpd -C."),
        click.option("--httpd", "httpd", default=None, metavar="BINARY",
                     help="Read the build's compiled defaults from BINARY -V."),
        click.option("--runtime-dir", default=None, metavar="DIR",
                     help="The build's compiled runtime directory (DEFAULT_REL_RUNTIMEDIR)."),
        click.option("--server-root", default=None, metavar="DIR", help="ServerRoot when the config sets none (httpd -d)."),
        click.option("--build", default=None, metavar="KEY",
                     help="httpd build: source, el7, el8, el9, fedora, debian, alpine (default: from the layout)."),
        click.option("--shared-dir", "shared_dirs", multiple=True, metavar="DIR",
                     help="A host directory bind-mounted into the jail at the same path (for config-only checks)."),
        click.option("--select", default=None, metavar="CODES", help="Comma-separated rule codes or prefixes to run."),
        click.option("--ignore", default=None, metavar="CODES", help="Comma-separated rule codes or prefixes to skip."),
        click.option("--stdin-filename", metavar="NAME", expose_value=False, callback=_stdin_filename_callback,
                     help="With PATH -, the name of the config read from stdin: reports use it, and its Includes "
                          "and ServerRoot are worked out as if the file were there (default: <stdin> in the "
                          "working directory)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     is_eager=True, expose_value=False, callback=_settings_callback,
                     help="Read settings from FILE (.cgidlint.toml, or pyproject.toml's [tool.cgidlint]) "
                          "instead of the one found upward from the working directory."),
        click.option("--isolated", is_flag=True, is_eager=True, expose_value=False, callback=_settings_callback,
                     help="Ignore all configuration files."),
        click.option("--no-cache", is_flag=True, expose_value=False, callback=_no_cache_callback,
                     help="Neither use nor write the cache of evaluated configurations (in $XDG_CACHE_HOME/cgidlint "
                          "or ~/.cache/cgidlint; safe to delete)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def make_options(root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs):
    from cgidlint.engine import Options
    ctx = click.get_current_context(silent=True)
    no_cache = bool(ctx is not None and ctx.meta.get(NO_CACHE_KEY))
    return Options(root=root, defines=defines, httpd=httpd, runtime_dir=runtime_dir, server_root=server_root,
                   build=build, shared_dirs=shared_dirs, pre_directives=pre_directives, cache=not no_cache)


def run_lint(path, options, select, ignore):
    from cgidlint.engine import UsageError, gc_paused
    from cgidlint.lint import lint_path
    from cgidlint.rules import parse_codes
    read_stdin_config(path, options)
    try:
        # The rules too walk every line; a process that exits after this
        # need not collect (nor free) the tree at all.
        with gc_paused(keep=_WHOLE_PROCESS):
            project, findings = lint_path(path, options, parse_codes(select), parse_codes(ignore))
    except UsageError as e:
        _fail(str(e))
    except Exception as e:  # a bug must not turn into a traceback for users
        if os.environ.get("CGIDLINT_DEBUG"):
            raise
        _fail("internal error while reading %s: %s: %s (set CGIDLINT_DEBUG=1 for details)"
              % (path, type(e).__name__, e))
    # per-path-ignores from the configuration file act like --ignore for
    # the files they name.
    return project, current_settings().filter(findings)


@click.group(cls=DefaultLintGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cgidlint")
def main():
    """Find and fix Apache httpd 2.4 configurations that break under chroot.

    cgidlint PATH lints PATH (a config file, or a directory holding
    conf/httpd.conf, httpd.conf or apache2.conf).
    """


@main.command()
@click.argument("path", type=click.Path())
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default=None,
              help="Report format (default: github when GITHUB_ACTIONS=true, else text).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text report; auto: only on a terminal, honouring NO_COLOR and FORCE_COLOR.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write the report to FILE instead of stdout (e.g. a SARIF file to upload).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding at or above this severity is reported.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Report only findings not recorded in FILE (see --write-baseline).")
@click.option("--write-baseline", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Record the current findings in FILE (matched later by rule, file and directive text, not by "
                   "line number) and exit 0.")
def lint(path, root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs, select, ignore,
         fmt, color, output, fail_on, baseline_file, write_baseline):
    """Lint the configuration at PATH (- reads one config file from stdin)."""
    from cgidlint import report
    known = read_baseline(baseline_file, write_baseline)
    options = make_options(root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs)
    project, findings = run_lint(path, options, select, ignore)
    report.name_stdin(findings, project)
    if write_baseline:
        record_baseline(write_baseline, findings, project)
    hidden = 0
    if known is not None:
        from cgidlint.baseline import new_findings
        findings, hidden = new_findings(findings, project, baseline_file, known)
    fmt = fmt or report.default_format(os.environ)
    colored = report.use_color(color, os.environ, output is None and sys.stdout.isatty(),
                               to_file=output is not None)
    text = report.render(fmt, findings, project, color=colored, baselined=hidden)
    if hidden:
        note = "%d finding(s) hidden by the baseline %s" % (hidden, baseline_file)
        if fmt == "text":
            text += "\n" + note
        else:
            click.echo("cgidlint: %s" % note, err=True)
    if output is None:
        click.echo(text, color=colored)
    else:
        write_report(output, text)
    sys.exit(EXIT_FINDINGS if report.exceeds(findings, fail_on) else EXIT_CLEAN)


def read_baseline(path, write_path):
    """The recorded findings of --baseline FILE (None without it)."""
    if path is None:
        return None
    if write_path is not None:
        if current_settings().values.get("baseline_file") == path:
            return None     # the configured baseline is being rewritten
        _fail("--baseline and --write-baseline cannot be combined (to refresh a baseline, write it again)")
    from cgidlint.baseline import BaselineError, load
    try:
        return load(path)
    except BaselineError as e:
        _fail(str(e))


def record_baseline(path, findings, project):
    """--write-baseline FILE: record the findings and exit 0."""
    from cgidlint.baseline import BaselineError, write
    try:
        n = write(path, findings, project)
    except BaselineError as e:
        _fail(str(e))
    click.echo("cgidlint: recorded %d finding(s) in %s" % (n, path), err=True)
    sys.exit(EXIT_CLEAN)


def write_report(path, text):
    try:
        with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as f:
            f.write(text + "\n")
    except OSError as e:
        _fail("--output %s: %s" % (path, e.strerror or e))


@main.command()
@click.argument("code")
def explain(code):
    """Print rule CODE's documentation (CG101), or what httpd log ID CODE means and which rules predict it.

    CODE is a rule code (CG101), an httpd error-log ID (AH01257, 01257)
    or the name of a message without one (libgcc_s, end-of-script).
    """
    from cgidlint import logcodes
    from cgidlint.rules import get, registry
    rule = get(code)
    if rule is not None:
        ids = logcodes.rule_log_ids_text(rule.code)
        click.echo("%s %s (%s)\n\n%s%s" % (rule.code, rule.name, rule.severity, rule.doc(),
                                            "\n\n" + ids if ids else ""))
        return
    entry = logcodes.lookup(code)
    planned = logcodes.catalogue_text(code)
    if entry is None and planned is None:
        _fail("unknown rule or log ID %s. Rules: %s (cgidlint rules). Log IDs: %s"
              % (code, ", ".join(registry()), ", ".join(logcodes.known_ids())))
    click.echo(logcodes.explain_text(entry, registry()) if entry is not None else planned)


@main.command()
@click.argument("error_log", metavar="ERROR_LOG", type=click.Path(allow_dash=True))
@click.argument("config_path", metavar="[CONFIG]", required=False, type=click.Path())
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--since-last-start", is_flag=True,
              help="Only the lines of the server's last run (from its last logged stop or restart on).")
def diagnose(error_log, config_path, root, defines, pre_directives, httpd, runtime_dir, server_root, build,
             shared_dirs, select, ignore, fmt, since_last_start):
    """Explain the chroot and mod_cgid failures in an httpd error log.

    ERROR_LOG is read line by line (- for stdin).  With CONFIG, the
    configuration is linted too and each failure points at the directive
    responsible.  Exit 0: no known failure in the log; 1: at least one;
    2: unreadable log or configuration.
    """
    import json
    from cgidlint import diagnose as diagnosis
    from cgidlint.rules import registry
    if error_log == "-" and config_path == "-":
        _fail("the error log and CONFIG cannot both come from stdin")
    try:
        diag = diagnosis.read_log_path(error_log, since_last_start, stdin=click.get_binary_stream("stdin"))
    except diagnosis.LogError as e:
        _fail(str(e))
    if config_path is not None:
        options = make_options(root, defines, pre_directives, httpd, runtime_dir, server_root, build, shared_dirs)
        project, findings = run_lint(config_path, options, select, ignore)
        diagnosis.attach_config(diag, project, findings)
    if fmt == "json":
        from cgidlint.report.common import escape_surrogates
        # findings quote config bytes that need not be UTF-8 (Shift_JIS paths)
        click.echo(escape_surrogates(json.dumps(diagnosis.to_dict(diag, registry()), indent=2, ensure_ascii=False)))
    else:
        click.echo(diagnosis.to_text(diag, registry()))
    sys.exit(diagnosis.exit_code(diag))


@main.command("rules")
def list_rules():
    """List all rules."""
    from cgidlint.rules import registry
    for code, rule in registry().items():
        click.echo("%s  %-32s %-8s %s" % (code, rule.name, rule.severity, rule.summary))


def _mount_optional_commands():
    """Commands that live in modules with heavier dependencies are imported
    only when used, so ``cgidlint PATH`` stays fast."""
    try:
        from cgidlint.fix.cli import fix_command  # noqa: F401
        main.add_command(fix_command, "fix")
    except ImportError:
        pass

    @main.command("scenario", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                                "help_option_names": []})
    @click.pass_context
    def scenario(ctx):
        """Reproduce AH01257 and its fix with real httpd (needs cgidlint[scenarios])."""
        try:
            from cgidlint.scenarios.cli import scenario_group
        except ImportError as e:
            _fail("scenarios need the extra dependencies: pip install 'cgidlint[scenarios]' (%s)" % e)
        scenario_group.main(args=ctx.args, prog_name="cgidlint scenario", standalone_mode=True)


_mount_optional_commands()
