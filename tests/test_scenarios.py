"""Every scenario, through its whole lifecycle, on each backend.

One test per (backend, scenario).  The scenarios of one backend run together,
concurrently on distinct ports, in a session fixture (the ENOENT cases wait
~32 s for AH01257 each; in parallel the whole set takes about a minute), and
each test then checks its own scenario's steps.

A backend that cannot run here (not root, no docker, no image) skips its
tests, unless CGIDLINT_REQUIRE_SCENARIOS=1: then they fail (CI).

Environment:
  CGIDLINT_SCENARIO_BACKENDS  comma list, default "local,docker"
  CGIDLINT_SCENARIO_IMAGE     docker image, default "debian12"
  CGIDLINT_PORT_BASE          first local port (default 18100; docker +200)
  CGIDLINT_SCENARIO_LOG=FILE  also append every step line to FILE
  CGIDLINT_REFERENCE_FIX=1    apply each scenario's reference fix instead of
                              `cgidlint fix` (checks the scenarios themselves)
"""

import os
import subprocess
import sys

import pytest

from cgidlint.scenarios import model

REQUIRE = os.environ.get("CGIDLINT_REQUIRE_SCENARIOS") == "1"
BACKENDS = [b.strip() for b in os.environ.get("CGIDLINT_SCENARIO_BACKENDS", "local,docker").split(",") if b.strip()]
IMAGE = os.environ.get("CGIDLINT_SCENARIO_IMAGE", "debian12")
REFERENCE_FIX = os.environ.get("CGIDLINT_REFERENCE_FIX") == "1"
_BASE = int(os.environ.get("CGIDLINT_PORT_BASE", "18100"))
PORT_BASES = {"local": _BASE, "docker": _BASE + 200}

NAMES = model.scenario_names()


def test_every_scenario_loads():
    """scenario.toml files parse and name existing files (no backend needed)."""
    assert NAMES, "no scenarios found"
    for name in NAMES:
        s = model.load(name)
        assert s.title
        assert s.before.http is not None, "%s: [expect.before] needs http" % name
        if s.fix_apply:
            assert s.after.http == 200, "%s: after the fix the CGI must answer 200" % name


def test_required_scenarios_shipped():
    experiments = {model.load(n).experiment for n in NAMES}
    assert {"A", "A'", "B", "C", "D", "E", "F", "G"} <= experiments
    for name in ("cgi-prefork-unaffected", "socket-path-too-long", "external-socket-dir-missing",
                 "debian-layout", "rhel-layout", "original-report"):
        assert name in NAMES


def test_scenario_cli_import_is_light():
    """`cgidlint scenario` must not import docker/testinfra until it runs."""
    code = ("import sys, cgidlint.scenarios.cli; "
            "bad = [m for m in ('docker', 'testinfra') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


_results = {}


def _selected(session, backend):
    names = []
    for item in session.items:
        cs = getattr(item, "callspec", None)
        if cs and cs.params.get("backend") == backend and "scenario_name" in cs.params:
            names.append(cs.params["scenario_name"])
    return sorted(set(names))


def _run_backend(session, backend):
    if backend in _results:
        return _results[backend]
    from cgidlint.scenarios.backends import BackendUnavailable
    from cgidlint.scenarios.runner import report, run_scenarios
    scenarios = [model.load(n) for n in _selected(session, backend)]
    try:
        runs, seconds = run_scenarios(scenarios, backend, image=IMAGE if backend == "docker" else None,
                                      port_base=PORT_BASES.get(backend), reference_fix=REFERENCE_FIX)
        print(report(runs, seconds, backend))
        _results[backend] = ({r.s.name: r for r in runs}, None)
    except BackendUnavailable as exc:
        _results[backend] = (None, str(exc))
    return _results[backend]


@pytest.mark.scenario
@pytest.mark.parametrize("scenario_name", NAMES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_scenario(request, backend, scenario_name):
    runs, unavailable = _run_backend(request.session, backend)
    if unavailable:
        msg = "backend %s unavailable: %s" % (backend, unavailable)
        if REQUIRE:
            pytest.fail(msg + " (CGIDLINT_REQUIRE_SCENARIOS=1)")
        pytest.skip(msg)
    run = runs[scenario_name]
    if not run.ok:
        pytest.fail("scenario %s on %s failed:\n%s" % (
            scenario_name, backend, "\n".join(s.line() for s in run.steps)), pytrace=False)
