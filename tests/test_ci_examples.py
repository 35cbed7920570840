"""The pre-commit hook and the CI examples (docs/ci.md) do what they say.

The commands in them are run, as written, on a copy of the bundled example
host (whose etc/httpd reports CG101).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CI_DOC = os.path.join(REPO, "docs", "ci.md")
WORKFLOW = os.path.join(REPO, "docs", "examples", "github-workflow.yml")
GITLAB = os.path.join(REPO, "docs", "examples", "gitlab-ci.yml")


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


@pytest.fixture
def example_repo(tmp_path):
    """A checkout whose etc/httpd is the bundled example (and whose var/ is its jail)."""
    root = tmp_path / "repo"
    shutil.copytree(os.path.join(REPO, "examples", "host"), str(root), symlinks=True)
    return str(root)


def run_command(line, cwd, env_extra=None):
    """Run a documented ``cgidlint ...`` line with this checkout's cgidlint."""
    words = shlex.split(line)
    assert words[0] == "cgidlint", line
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "cgidlint"] + words[1:], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


def sarif_rules(path):
    with open(path, encoding="utf-8") as f:
        return [r["ruleId"] for r in json.load(f)["runs"][0]["results"]]


# -- pre-commit ------------------------------------------------------------

def hook():
    hooks = load_yaml(os.path.join(REPO, ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == ["cgidlint"]
    return hooks[0]


def test_hook_runs_the_installed_command_once_per_commit():
    h = hook()
    assert h["language"] == "python" and h["pass_filenames"] is False
    with open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8") as f:
        scripts = re.search(r"(?ms)^\[project\.scripts\]\n(.*?)^\[", f.read()).group(1)
    assert re.search(r'^%s = "cgidlint\.cli:main"$' % re.escape(h["entry"]), scripts, re.M)


@pytest.mark.parametrize("path, linted", [
    ("etc/httpd/conf/httpd.conf", True),
    ("conf.d/ssl.conf", True),
    ("apache2/mods-available/cgid.load", True),
    ("apache2/envvars", True),
    (".cgidlint.toml", True),
    ("etc/httpd/.cgidlint.toml", True),
    ("README.md", False),
    ("conf.d/ssl.conf.orig", False),
    ("scripts/envvars.sh", False),
    ("notenvvars", False),
])
def test_hook_triggers_on_config_files(path, linted):
    # pre-commit matches `files` with Python's re.search on the repository path.
    assert bool(re.search(hook()["files"], path)) is linted


def test_hook_default_args_lint_the_repository_top(tmp_path):
    (tmp_path / "httpd.conf").write_text("ServerAdmin admin@example.com\n")
    r = run_command(" ".join(["cgidlint"] + hook()["args"]), str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "httpd.conf").write_text("ServerAdmin admin@example.com # me\n")
    r = run_command(" ".join(["cgidlint"] + hook()["args"]), str(tmp_path))
    assert r.returncode == 1 and "CG001" in r.stdout


def _yaml_blocks(markdown):
    return [yaml.safe_load(m) for m in re.findall(r"(?ms)^```yaml\n(.*?)^```", markdown)]


def test_documented_pre_commit_configs_use_the_hook(example_repo):
    configs = [b for b in _yaml_blocks(read(CI_DOC)) if isinstance(b, dict) and "repos" in b]
    assert len(configs) == 2
    for config in configs:
        for repo in config["repos"]:
            for h in repo["hooks"]:
                assert h["id"] == hook()["id"]
    args = configs[0]["repos"][0]["hooks"][0]["args"]
    r = run_command(" ".join(["cgidlint"] + args), example_repo)
    assert r.returncode == 1 and "CG101" in r.stdout


# -- GitHub Actions and GitLab CI ------------------------------------------

def test_ci_doc_shows_the_example_files_verbatim():
    doc = read(CI_DOC)
    for path in (WORKFLOW, GITLAB):
        assert "```yaml\n" + read(path) + "```" in doc, path
    assert all(b is not None for b in _yaml_blocks(doc))


def _steps():
    wf = load_yaml(WORKFLOW)
    job = wf["jobs"]["cgidlint"]
    assert job["permissions"]["security-events"] == "write"
    return job["steps"]


def test_workflow_sets_up_python_and_uploads_the_sarif_it_writes():
    steps = _steps()
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    upload = steps[uses.index("github/codeql-action/upload-sarif")]
    sarif_step = [s for s in steps if "--format sarif" in s.get("run", "")][0]
    words = shlex.split(sarif_step["run"])
    assert words[words.index("-o") + 1] == upload["with"]["sarif_file"]
    # both must run after the gating step failed on findings
    for step in (sarif_step, upload):
        assert "!cancelled()" in step["if"]
    assert steps.index(sarif_step) < steps.index(upload)


def test_workflow_commands_behave_as_documented(example_repo):
    runs = [s["run"] for s in _steps() if "run" in s]
    assert runs[0] == "python -m pip install cgidlint"
    gate, sarif = runs[1:]
    r = run_command(gate, example_repo, {"GITHUB_ACTIONS": "true"})
    assert r.returncode == 1
    assert r.stdout.startswith("::error file=etc/httpd/conf/httpd.conf,line=18,")
    r = run_command(sarif, example_repo, {"GITHUB_ACTIONS": "true"})
    assert r.returncode == 0, r.stderr
    assert sarif_rules(os.path.join(example_repo, "cgidlint.sarif")) == ["CG101"]


def test_gitlab_job_gates_on_text_and_keeps_sarif(example_repo):
    job = load_yaml(GITLAB)["cgidlint"]
    script = job["script"]
    assert script[0] == "python -m pip install cgidlint"
    sarif, gate = script[1:]
    r = run_command(sarif, example_repo)
    assert r.returncode == 0, r.stderr
    out = shlex.split(sarif)[shlex.split(sarif).index("-o") + 1]
    assert out in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always"
    assert sarif_rules(os.path.join(example_repo, out)) == ["CG101"]
    r = run_command(gate, example_repo)
    assert r.returncode == 1 and "error CG101" in r.stdout
