"""The experiments of chroot-model.md built as temporary jails: each gets the
verdict the experiment table implies."""

import json
import os

import pytest
from click.testing import CliRunner

import jails
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.lint import lint_path

# experiment -> the CG1xx rules that must fire (and no other CG1xx error)
EXPECTED = {
    "A": {"CG101"},
    "A'": {"CG102"},
    "B": {"CG101"},
    "C": set(),
    "D": set(),
    "F": set(),
    "G": {"CG103"},
    "E": set(),
}

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="bind mounts and chown need root")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_experiment_verdict(experiment, name):
    if name in ("D", "G") and os.geteuid() != 0:
        pytest.skip("needs root for bind mounts")
    conf = experiment(name)
    project, findings = lint_path(conf, Options(build="debian"))
    assert not project.errors, project.errors
    got = {f.rule for f in findings if f.rule.startswith("CG1") and f.severity == "error"}
    if name == "A'":
        assert "CG102" in got  # the daemon cannot bind; CG101 may accompany it
    else:
        assert got == EXPECTED[name], [f.message for f in findings]
    for f in findings:
        if f.rule.startswith("CG1"):
            assert f.evidence == "filesystem"


def test_experiment_E_is_external_chroot_with_no_cg101(experiment):
    conf = experiment("E")
    project, findings = lint_path(conf, Options(build="debian"))
    assert project.root_inferred and project.fs.read_root.endswith("jail")
    assert not [f for f in findings if f.rule == "CG101"]
    # the same with an explicit --root
    jail = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(conf))))
    project, findings = lint_path(conf, Options(root=jail, build="debian"))
    assert not [f for f in findings if f.rule.startswith("CG1")]


def test_E_with_socket_dir_missing_is_cg102(experiment):
    conf = experiment("E")
    jail = conf.split("/etc/httpd/")[0]
    os.rmdir(os.path.join(jail, "var/run/cgid"))
    _, findings = lint_path(conf, Options(root=jail, build="debian"))
    assert [f.rule for f in findings if f.severity == "error"] == ["CG102"]


def test_A_fix_is_filesystem_commands_and_B_too(experiment):
    conf = experiment("A")
    _, findings = lint_path(conf, Options())
    f = [f for f in findings if f.rule == "CG101"][0]
    assert f.fix is not None and not f.fix.edits
    assert any(c.startswith("mount --bind") for c in f.fix.commands)
    assert any("/etc/fstab" in c for c in f.fix.commands)
    assert f.line == 8  # the ScriptSock line


def test_classic_fix_when_runtime_dir_is_shared(experiment, tmp_path):
    """The original report: absolute ScriptSock fails, runtime dir shared: fix is `ScriptSock cgisock`."""
    conf = experiment("A")
    T = str(tmp_path)
    J = os.path.join(T, "jail")
    rd = os.path.join(J, "run")          # C-style shared runtime dir
    os.makedirs(rd)
    link = jails.in_jail(J, J)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("/", link)
    jails.write_config(conf, T, ["DefaultRuntimeDir %s" % rd, "ScriptSock %s/run/cgid/cgisock" % T], chroot=J)
    _, findings = lint_path(conf, Options())
    f = [f for f in findings if f.rule == "CG101"][0]
    assert [e.replace_with for e in f.fix.edits] == ["ScriptSock cgisock"]
    assert f.fix.edits[0].line == 9 and f.fix.edits[0].action == "replace"


def test_config_only_when_jail_is_absent(tmp_path):
    conf = jails.write_config(str(tmp_path / "conf" / "httpd.conf"), str(tmp_path),
                              ["ScriptSock /var/run/cgid/cgisock"], chroot="/nonexistent-jail")
    _, findings = lint_path(conf, Options())
    f = [f for f in findings if f.rule == "CG101"]
    assert f and f[0].evidence == "config-only" and "config-only" in f[0].message
    _, findings = lint_path(conf, Options(shared_dirs=["/var/run/cgid"]))
    assert not [f for f in findings if f.rule == "CG101"]


def test_prefork_mod_cgi_is_not_affected(tmp_path):
    p = tmp_path / "httpd.conf"
    p.write_text("ServerRoot %s\nLoadModule mpm_prefork_module %s/mod_mpm_prefork.so\n"
                 "LoadModule cgi_module %s/mod_cgi.so\nChrootDir /nonexistent\nScriptAlias /c/ /c/\n"
                 % (tmp_path, jails.MODDIR, jails.MODDIR))
    _, findings = lint_path(str(p), Options())
    assert not [f for f in findings if f.rule.startswith("CG1")]


def test_json_contract(experiment):
    conf = experiment("A")
    r = CliRunner().invoke(main, ["--format", "json", conf])
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["version"] == 1
    f = [f for f in doc["findings"] if f["rule"] == "CG101"][0]
    for key in ("rule", "name", "severity", "file", "line", "column", "message", "predicts", "evidence", "fix"):
        assert key in f
    assert f["name"] == "scriptsock-split-view" and f["evidence"] == "filesystem"
    assert set(doc["summary"]) >= {"errors", "warnings", "files"}
    assert "AH01257" in f["predicts"]
