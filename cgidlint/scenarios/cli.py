"""``cgidlint scenario list`` / ``cgidlint scenario run``.

The main CLI mounts ``scenario_group``; it can also run on its own:
``python3 -m cgidlint.scenarios.cli run --all``.  Importing this module is
cheap: docker and testinfra are imported only when a scenario runs.
"""

import sys

import click

from . import model


@click.group(name="scenario")
def scenario_group():
    """Reproduce AH01257 with real httpd (local chroot or containers) and prove the fix."""


@scenario_group.command(name="list")
@click.option("-v", "--verbose", is_flag=True, help="Also print what each scenario shows.")
def list_cmd(verbose):
    """List the scenarios under scenarios/."""
    try:
        scenarios = model.load_all()
    except model.ScenarioError as exc:
        raise click.ClickException(str(exc))
    for s in scenarios:
        rules = ",".join(s.lint_rules) or "no finding"
        click.echo("%-34s %-10s %-6s %s" % (s.name, rules, s.mode if s.mode != "chrootdir" else "", s.title))
        if verbose and s.shows:
            for line in s.shows.splitlines():
                click.echo("    " + line)


@scenario_group.command(name="run")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Run every scenario.")
@click.option("--backend", type=click.Choice(["local", "docker"]), default="local", show_default=True)
@click.option("--image", type=click.Choice(["debian12", "centos7", "rocky9"]), default=None,
              help="Docker image (docker backend; default debian12).")
@click.option("--keep", is_flag=True, help="Leave the environment up for inspection (no destroy).")
@click.option("-j", "--jobs", type=int, default=None, help="Scenarios run in parallel (default: all).")
@click.option("--port-base", type=int, default=None,
              help="First port; scenario i listens on base+i (default 18080 or $CGIDLINT_PORT_BASE).")
@click.option("--reference-fix", is_flag=True,
              help="Apply the scenario's own reference fix instead of `cgidlint fix` (checks the scenario itself).")
def run_cmd(names, all_, backend, image, keep, jobs, port_base, reference_fix):
    """Run scenarios through their whole lifecycle.

    create, start (broken), verify the failure, cgidlint reports the expected
    rule, cgidlint fix --write (+ the printed commands when the scenario says
    so), restart, verify 200 and the CGI's output, destroy.  Exit 1 when any
    expectation is not met, 3 when the backend cannot run here.
    """
    from .backends import BackendUnavailable
    from .runner import report, run_scenarios

    if image and backend != "docker":
        raise click.UsageError("--image applies to --backend docker")
    try:
        if all_:
            scenarios = model.load_all()
        elif names:
            scenarios = [model.load(n) for n in names]
        else:
            raise click.UsageError("name one or more scenarios, or --all (see `cgidlint scenario list`)")
    except model.ScenarioError as exc:
        raise click.ClickException(str(exc))
    try:
        runs, seconds = run_scenarios(scenarios, backend, image=image, keep=keep, jobs=jobs,
                                      port_base=port_base, reference_fix=reference_fix)
    except BackendUnavailable as exc:
        click.echo("backend %s unavailable: %s" % (backend, exc), err=True)
        sys.exit(3)
    click.echo(report(runs, seconds, backend + (":" + (image or "debian12") if backend == "docker" else "")))
    sys.exit(0 if all(r.ok for r in runs) else 1)


def main():  # python3 -m cgidlint.scenarios.cli
    scenario_group(prog_name="cgidlint scenario")


if __name__ == "__main__":
    main()
