"""Each rule: a failing and a passing example, plus its documentation."""

import os

import pytest
from click.testing import CliRunner

import jails
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.lint import lint_path
from cgidlint.rules import registry

MOD = jails.MODDIR


def lint_text(tmp_path, body, name="httpd.conf", **opts):
    p = tmp_path / name
    head = "ServerRoot %s\nLoadModule mpm_event_module %s/mod_mpm_event.so\n" % (tmp_path, MOD)
    p.write_bytes(head.encode() + body)
    project, findings = lint_path(str(p), Options(build="debian", **opts))
    return findings


def rules_of(findings, severity=None):
    return [f.rule for f in findings if severity is None or f.severity == severity]


@pytest.mark.parametrize("code", list(registry()))
def test_every_rule_is_documented(code):
    rule = registry()[code]
    doc = rule.doc()
    for heading in ("## What it does", "## Why is this bad?", "## httpd says", "## Example", "## Fix"):
        assert heading in doc, (code, heading)
    assert rule.name and rule.summary and rule.severity in ("error", "warning", "info")
    r = CliRunner().invoke(main, ["explain", code])
    assert r.exit_code == 0 and rule.name in r.output


def test_cg001_fails_and_passes(tmp_path):
    assert "CG001" in rules_of(lint_text(tmp_path, b"ServerAdmin a@example.com # me\n"))
    assert "CG001" not in rules_of(lint_text(tmp_path, b"# me\nServerAdmin a@example.com\n"))


def test_cg001_reports_httpd_line_after_continuation(tmp_path):
    f = [f for f in lint_text(tmp_path, b"Define A one \\\n    two\n") if f.rule == "CG001"][0]
    assert f.line == 4  # 2 preamble lines + the last physical line of the directive
    assert "Define takes 1-2 arguments" in f.message


def test_cg002_fails_and_passes(tmp_path):
    assert "CG002" in rules_of(lint_text(tmp_path, b"Include nothing/*.conf\n"))
    assert "CG002" not in rules_of(lint_text(tmp_path, b"IncludeOptional nothing/*.conf\n"))


def test_cg003_fails_and_passes(tmp_path):
    assert "CG003" in rules_of(lint_text(tmp_path, b"Define A ${NOPE_NOT_SET_ANYWHERE}\n"))
    assert "CG003" not in rules_of(lint_text(tmp_path, b"Define B 1\nDefine A ${B}\n"))


def test_cg004_fails_and_passes(tmp_path):
    body = b"LoadModule dir_module %s/mod_dir.so\nDirectoryIndex index.html # default\n" % MOD.encode()
    assert "CG004" in rules_of(lint_text(tmp_path, body))
    body = b"LoadModule dir_module %s/mod_dir.so\n# default\nDirectoryIndex index.html\n" % MOD.encode()
    assert "CG004" not in rules_of(lint_text(tmp_path, body))


def test_cg005_sjis_comment_swallows_directive(tmp_path):
    bad = lint_text(tmp_path, b"# \x90\xdd\x92\xe8 \x95\x5c\nServerAdmin a@example.com\n")
    f = [f for f in bad if f.rule == "CG005"][0]
    assert f.severity == "error" and "Shift_JIS" in f.message and "ServerAdmin" in f.message
    good = lint_text(tmp_path, b"# \x90\xdd\x92\xe8 \x95\x5c\x81\x42\nServerAdmin a@example.com\n")
    assert "CG005" not in rules_of(good)


def _cgid_conf(tmp_path, sock, chroot):
    return jails.write_config(str(tmp_path / "conf" / "httpd.conf"), str(tmp_path), ["ScriptSock %s" % sock],
                              chroot=chroot)


def test_cg104_too_long_in_shared_dir_is_a_warning(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    J = str(tmp_path / "jail")
    # 103 bytes + ".<7-digit pid>": only the pid part is cut, the directory
    # stays the same (shared), so CGI still works: a warning.
    base = str(tmp_path / "x")
    long_dir = base + "d" * (103 - len("/cgisock") - len(base))
    os.makedirs(jails.in_jail(J, long_dir))
    os.symlink(jails.in_jail(J, long_dir), long_dir)  # shared (experiment F)
    conf = _cgid_conf(tmp_path, long_dir + "/cgisock", J)
    _, findings = lint_path(conf, Options(build="debian"))
    f = [f for f in findings if f.rule == "CG104"]
    assert f and f[0].severity == "warning" and "AH01254" in f[0].predicts
    assert "CG101" not in rules_of(findings)


def test_cg104_cut_into_a_missing_directory_is_an_error(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    J = str(tmp_path / "jail")
    long_dir = str(tmp_path / ("d" * 90) / ("e" * 40))
    os.makedirs(jails.in_jail(J, long_dir))
    os.makedirs(os.path.dirname(long_dir))
    os.symlink(jails.in_jail(J, long_dir), long_dir)
    conf = _cgid_conf(tmp_path, long_dir + "/cgisock", J)
    _, findings = lint_path(conf, Options(build="debian"))
    assert [f.severity for f in findings if f.rule == "CG104"] == ["error"]


def test_cg104_short_path_passes(tmp_path):
    conf = _cgid_conf(tmp_path, "/run/c/cgisock", "/nonexistent")
    _, findings = lint_path(conf, Options(build="debian"))
    assert "CG104" not in rules_of(findings)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_cg105_world_writable_socket_dir(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    J = str(tmp_path / "jail")
    d = str(tmp_path / "sock")
    os.makedirs(jails.in_jail(J, d))
    os.symlink(jails.in_jail(J, d), d)
    conf = _cgid_conf(tmp_path, d + "/cgisock", J)
    _, findings = lint_path(conf, Options(build="debian"))
    assert "CG105" not in rules_of(findings)
    os.chmod(jails.in_jail(J, d), 0o777)
    _, findings = lint_path(conf, Options(build="debian"))
    assert "CG105" in rules_of(findings)


def test_cli_exit_codes_and_errors(tmp_path):
    runner = CliRunner()
    good = tmp_path / "good.conf"
    good.write_text("Define A 1\n")
    assert runner.invoke(main, [str(good)]).exit_code == 0
    bad = tmp_path / "bad.conf"
    bad.write_text("<Directory /tmp>\n")
    r = runner.invoke(main, [str(bad)])
    assert r.exit_code == 1 and "was not closed" in r.output
    assert runner.invoke(main, ["--fail-on", "never", str(bad)]).exit_code == 0
    r = runner.invoke(main, [str(tmp_path / "missing.conf")])
    assert r.exit_code == 2 and "Traceback" not in r.output and "missing.conf" in r.output
    fifo = tmp_path / "fifo.conf"
    os.mkfifo(str(fifo))
    r = runner.invoke(main, [str(fifo)])
    assert r.exit_code == 2 and "not a regular file" in r.output
    r = runner.invoke(main, ["lint", "--format", "nope", str(good)])
    assert r.exit_code == 2


def test_directory_argument_finds_main_config(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "httpd.conf").write_text("Define A 1\n")
    r = CliRunner().invoke(main, [str(tmp_path)])
    assert r.exit_code == 0, r.output


def test_bundled_example_reports_cg101_with_bind_mount():
    here = os.path.dirname(os.path.abspath(__file__))
    r = CliRunner().invoke(main, ["--format", "json", os.path.join(here, "..", "examples", "host", "etc", "httpd")])
    assert r.exit_code == 1
    assert '"CG101"' in r.output and "mount --bind" in r.output


@pytest.mark.parametrize("path", [p for p in __import__("test_parser").CORPUS_FILES])
def test_corpus_never_crashes_the_cli(path):
    r = CliRunner().invoke(main, ["--format", "json", path])
    assert r.exit_code in (0, 1), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
