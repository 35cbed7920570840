"""PATH ``-``: one config file read from stdin as bytes.

The stdin file is read as if it lived at ``--stdin-filename`` (default
``<stdin>`` in the working directory): ServerRoot inference, relative
Includes and jail inference follow from that path; reports name it as
given; ``fix --write`` never writes it.
"""

import json
import os

import pytest
from click.testing import CliRunner

import jails
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.lint import lint_path
from jails import classic_jail

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_CONF = os.path.join(REPO, "examples", "host", "etc", "httpd", "conf", "httpd.conf")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


def invoke(args, data):
    r = CliRunner().invoke(main, args, input=data)
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r


def as_json(r):
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)["findings"]


def essentials(findings, file_name=None):
    return [(f["rule"], f["file"] if file_name is None else file_name, f["line"], f["column"], f["message"])
            for f in findings]


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("command", [[], ["lint"]])
def test_stdin_with_filename_lints_like_the_file(command):
    """The example host piped in under its own name: same findings (jail and
    ServerRoot inferred from the name), reported under the name given."""
    rel = os.path.relpath(EXAMPLE_CONF)
    from_file = as_json(invoke(["--format", "json", EXAMPLE_CONF], None))
    from_stdin = as_json(invoke(command + ["-", "--stdin-filename", rel, "--format", "json"], read(EXAMPLE_CONF)))
    assert [f["rule"] for f in from_file] == ["CG101"]
    assert essentials(from_stdin) == essentials(from_file, rel)


def test_default_name_is_stdin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke(["-", "--format", "json"], b"ServerRoot %s\n<Directory /x>\n" % str(tmp_path).encode())
    findings = as_json(r)
    assert [(f["rule"], f["file"], f["line"]) for f in findings] == [("CG001", "<stdin>", 2)]
    assert r.exit_code == 1
    text = invoke(["-"], b"ServerRoot %s\n<Directory /x>\n" % str(tmp_path).encode()).output
    assert text.startswith("<stdin>:2:1: error CG001")


def test_relative_include_resolves_from_server_root(tmp_path, monkeypatch):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "bad.conf").write_bytes(b"# ok\n</Directory>\n")
    monkeypatch.chdir("/")
    r = invoke(["-", "--format", "json"], b"ServerRoot %s\nInclude conf.d/*.conf\n" % str(tmp_path).encode())
    [f] = as_json(r)
    assert f["rule"] == "CG001" and f["file"] == str(tmp_path / "conf.d" / "bad.conf") and f["line"] == 2


def test_without_server_root_the_tree_is_where_the_filename_says(tmp_path):
    """conf/httpd.conf layout: ServerRoot is the parent of conf/, so
    ``Include conf.d/x.conf`` is <tree>/conf.d/x.conf."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "x.conf").write_bytes(b"ServerName ${CGIDLINT_STDIN_UNDEFINED}\n")
    name = str(tmp_path / "conf" / "httpd.conf")   # need not exist
    r = invoke(["-", "--stdin-filename", name, "--format", "json"], b"Include conf.d/x.conf\n")
    findings = as_json(r)
    assert [(f["rule"], f["file"]) for f in findings] == [("CG003", str(tmp_path / "conf.d" / "x.conf"))]
    # the same bytes under a name elsewhere: the include is missing there
    other = tmp_path / "other"
    other.mkdir()
    r = invoke(["-", "--stdin-filename", str(other / "httpd.conf"), "--format", "json"], b"Include conf.d/x.conf\n")
    assert [f["rule"] for f in as_json(r)] == ["CG002"]


def test_stdin_overrides_the_file_on_disk(tmp_path):
    """An editor's unsaved buffer: the piped bytes are linted, not the file,
    and neither run's result is reused for the other (no cache mixes them)."""
    conf = tmp_path / "httpd.conf"
    conf.write_bytes(b"ServerRoot %s\n" % str(tmp_path).encode())
    assert invoke([str(conf)], None).exit_code == 0
    r = invoke(["-", "--stdin-filename", str(conf), "--format", "json"],
               b"ServerRoot %s\n<Directory /x>\n" % str(tmp_path).encode())
    assert [(f["rule"], f["file"]) for f in as_json(r)] == [("CG001", str(conf))]
    assert invoke([str(conf)], None).exit_code == 0


def test_bytes_survive_shift_jis_and_crlf(tmp_path):
    """Bytes, not text: a Shift_JIS comment ending in 0x5C swallows the next
    line exactly as when the file is read from disk."""
    data = (b"ServerRoot %s\r\n" % str(tmp_path).encode()) + b"# \x95\x5c\r\nInclude missing.conf\r\n"
    conf = tmp_path / "httpd.conf"
    conf.write_bytes(data)
    from_file = as_json(invoke(["--format", "json", str(conf)], None))
    from_stdin = as_json(invoke(["-", "--stdin-filename", str(conf), "--format", "json"], data))
    assert [f["rule"] for f in from_stdin] == ["CG005"]
    assert from_stdin == from_file


def test_jail_is_inferred_from_the_filename(tmp_path):
    conf, _ = jails.build("E", tmp_path)
    project, findings = lint_path("-", Options(stdin_data=read(conf), stdin_filename=conf, build="debian"))
    assert project.root_inferred and project.fs.read_root == str(tmp_path / "jail")
    on_disk = lint_path(conf, Options(build="debian"))[1]
    assert [(f.rule, f.line) for f in findings] == [(f.rule, f.line) for f in on_disk]


def test_empty_stdin_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke(["-"], b"")
    assert r.exit_code == 0 and "Traceback" not in r.output


def test_sarif_names_stdin_as_a_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke(["-", "--format", "sarif"], b"ServerRoot %s\n<Directory /x>\n" % str(tmp_path).encode())
    [res] = json.loads(r.output)["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%"}
    assert loc["contextRegion"]["snippet"]["text"] == "<Directory /x>"


def test_fix_on_stdin_shows_the_diff_and_never_writes(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "wb") as f:
        f.write(b"\n")
    old = read(conf)
    piped = old + ("%s\n" % sock).encode()     # the stdin version has the broken ScriptSock
    r = invoke(["fix", "-", "--stdin-filename", conf], piped)
    assert r.exit_code == 1, r.output
    assert b"+ScriptSock cgisock" in r.stdout_bytes and b"-" + sock.encode() in r.stdout_bytes
    assert read(conf) == old
    r = invoke(["fix", "-", "--stdin-filename", conf, "--write"], piped)
    assert r.exit_code == 2 and "stdin" in r.output
    assert read(conf) == old and read(extra) == b"\n"
