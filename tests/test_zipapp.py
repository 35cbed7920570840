"""cgidlint.pyz (tools/build_zipapp.py): one file, no install step, Python >= 3.8.

Built once per run and run with the system python3 where neither cgidlint
nor click is importable (``-I -S``: no environment, no site-packages), it
must report exactly what the installed command reports.
"""

import glob
import json
import os
import subprocess
import sys
import zipfile

import pytest

import cgidlint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import build_zipapp  # noqa: E402

EXAMPLE = os.path.join("examples", "host", "etc", "httpd")
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ISOLATED = ["-I", "-S"]


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("zipapp") / "cgidlint.pyz")
    build_zipapp.build(path)
    return path


def run(cmd, cwd=REPO):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def run_pyz(pyz, args, python=SYSTEM_PYTHON, cwd=REPO):
    return run([python] + ISOLATED + [pyz] + list(args), cwd)


def run_installed(args, cwd=REPO):
    return run([sys.executable, "-m", "cgidlint"] + list(args), cwd)


def test_isolated_python_cannot_import_cgidlint_or_click():
    for module in ("click", "cgidlint"):
        r = run([SYSTEM_PYTHON] + ISOLATED + ["-c", "import %s" % module])
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr, module


def test_lints_the_bundled_example_like_the_installed_command(pyz):
    pyz_run = run_pyz(pyz, ["--format", "json", EXAMPLE])
    installed = run_installed(["--format", "json", EXAMPLE])
    assert pyz_run.returncode == installed.returncode == 1, pyz_run.stderr
    report = json.loads(pyz_run.stdout)
    assert [f["rule"] for f in report["findings"]] == ["CG101"]
    assert report == json.loads(installed.stdout)


def test_text_output_and_exit_code_match(pyz):
    pyz_run = run_pyz(pyz, [EXAMPLE])
    installed = run_installed([EXAMPLE])
    assert (pyz_run.returncode, pyz_run.stdout) == (installed.returncode, installed.stdout)


def test_version_and_explain(pyz):
    r = run_pyz(pyz, ["--version"])
    assert r.returncode == 0 and r.stdout.strip().endswith(cgidlint.__version__)
    r = run_pyz(pyz, ["explain", "CG101"])
    assert r.returncode == 0 and r.stdout == run_installed(["explain", "CG101"]).stdout
    assert "## Why is this bad?" in r.stdout


def test_bad_input_is_a_usage_error_without_traceback(pyz):
    r = run_pyz(pyz, [os.path.join("examples", "no-such-dir")])
    assert r.returncode == 2 and "no-such-dir" in r.stderr and "Traceback" not in r.stderr


def test_scenarios_are_not_bundled_and_say_so(pyz):
    r = run_pyz(pyz, ["scenario", "list"])
    assert r.returncode == 2
    assert "cgidlint.pyz does not include the scenarios" in r.stderr and "Traceback" not in r.stderr


def _python(version):
    """An interpreter for ``version`` ("3.8") that really runs, or None."""
    roots = [os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))]
    candidates = ["python" + version] + sorted(
        glob.glob(os.path.join(roots[0], "versions", version + ".*", "bin", "python" + version)))
    for exe in candidates:
        try:
            r = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0 and r.stdout.decode().strip() == version:
            return exe
    return None


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.12", "3.13"])
def test_runs_on_every_supported_python(pyz, version, tmp_path):
    python = _python(version)
    if python is None:
        pytest.skip("no python%s on this machine (vermin -t=3.8- checks the source)" % version)
    r = run_pyz(pyz, ["--format", "json", EXAMPLE], python)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout) == json.loads(run_installed(["--format", "json", EXAMPLE]).stdout)
    # Before 3.11 the settings file is read with the vendored tomli.
    (tmp_path / ".cgidlint.toml").write_text('ignore = ["CG101"]\n')
    r = run_pyz(pyz, [os.path.join(REPO, EXAMPLE)], python, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7"])
def test_too_old_python_gets_a_usage_error(pyz, version):
    python = _python(version)
    if python is None:
        pytest.skip("no python%s on this machine" % version)
    # -I is newer than some of these: the same isolation spelled out.
    r = run([python, "-E", "-s", "-S", pyz, "--version"])
    assert r.returncode == 2 and "needs Python >= 3.8" in r.stderr and "Traceback" not in r.stderr


def test_archive_contents(pyz):
    with open(pyz, "rb") as f:
        assert f.readline() == b"#!/usr/bin/env python3\n"
    assert os.access(pyz, os.X_OK)
    with zipfile.ZipFile(pyz) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert set(i.date_time for i in infos) == {build_zipapp.FIXED_DATE}
    assert "__main__.py" in names and "cgidlint/cli.py" in names and "click/core.py" in names
    assert "tomli/__init__.py" in names
    assert [n for n in names if n.startswith("cgidlint/scenarios/")] == ["cgidlint/scenarios/__init__.py"]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so"))]
    # every source module of the package is there, except the scenarios
    package = os.path.join(REPO, "cgidlint")
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "scenarios")]
        for name in filenames:
            if name.endswith(".py"):
                arcname = os.path.relpath(os.path.join(dirpath, name), REPO).replace(os.sep, "/")
                assert arcname in names


def test_build_is_reproducible(tmp_path):
    first, second = str(tmp_path / "first.pyz"), str(tmp_path / "second.pyz")
    build_zipapp.build(first)
    build_zipapp.build(second)
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def test_command_line_builds_to_the_given_path(tmp_path):
    out = str(tmp_path / "sub" / "x.pyz")
    r = run([sys.executable, os.path.join(REPO, "tools", "build_zipapp.py"), "-o", out])
    assert r.returncode == 0, r.stderr
    assert "click-" in r.stdout and os.path.isfile(out)
    assert not os.path.exists(out + ".tmp")
