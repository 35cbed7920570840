"""``--write-baseline FILE`` / ``--baseline FILE``.

Findings are matched on (rule, file relative to the baseline, directive
text), counted as a multiset; line numbers, the working directory and the
checkout's location do not matter.  A missing or invalid baseline is exit
2 naming the file.
"""

import json
import os
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jails
from cgidlint import baseline
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.lint import lint_path

MOD = jails.MODDIR
HEAD = "LoadModule mpm_event_module %s/mod_mpm_event.so\nLoadModule dir_module %s/mod_dir.so\n" % (MOD, MOD)


def cg004(word):
    return b"DirectoryIndex %s.html # %s\n" % (word, word)


def write_conf(root, body):
    """``root/conf/httpd.conf`` with a relative ServerRoot-free preamble
    (the tree works wherever it is copied)."""
    conf = os.path.join(str(root), "conf", "httpd.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "wb") as f:
        f.write(HEAD.encode() + body)
    return conf


def cli(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r


def reported(r):
    """The rules of the text report's findings."""
    return [line.split()[2] for line in r.stdout.splitlines() if ": warning " in line or ": error " in line]


def lines_of(r):
    """The line numbers of the text report's findings."""
    return [int(line.split()[0].split(":")[-3]) for line in r.stdout.splitlines()
            if ": warning " in line or ": error " in line]


def write_baseline(conf, path, *extra):
    r = cli(conf, "--write-baseline", path, *extra)
    assert r.exit_code == 0, r.output
    return r


# -------------------------------------------------------------- round trip

def test_round_trip_hides_everything_and_says_so(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a") + cg004(b"b"))
    bl = str(tmp_path / "cgidlint-baseline.json")
    r = write_baseline(conf, bl)
    assert "recorded 2 finding(s)" in r.stderr and r.stdout == ""
    doc = json.load(open(bl))
    assert doc["version"] == 1 and doc["tool"] == "cgidlint"
    assert [(e["rule"], e["file"], e["directive"]) for e in doc["findings"]] == [
        ("CG004", "conf/httpd.conf", "DirectoryIndex a.html # a"),
        ("CG004", "conf/httpd.conf", "DirectoryIndex b.html # b")]
    assert all("trailing comments" in e["message"] for e in doc["findings"])
    assert cli(conf, "--fail-on", "warning").exit_code == 1
    r = cli(conf, "--fail-on", "warning", "--baseline", bl)
    assert r.exit_code == 0 and reported(r) == []
    assert "2 finding(s) hidden by the baseline %s" % bl in r.stdout


def test_line_shifts_keep_matching_and_new_findings_are_reported(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a") + b"Listen 80\n" + cg004(b"b"))
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    write_conf(tmp_path, b"# a new comment\n\n\nListen 81\n" + cg004(b"a") + b"Listen 80\n\n" + cg004(b"b"))
    assert reported(cli(conf, "--baseline", bl)) == []
    write_conf(tmp_path, cg004(b"a") + cg004(b"new") + b"Listen 80\n" + cg004(b"b"))
    r = cli(conf, "--baseline", bl, "--fail-on", "warning")
    assert r.exit_code == 1 and reported(r) == ["CG004"]
    assert lines_of(r) == [4]  # the new line (after the 2-line preamble and line a)
    assert "2 finding(s) hidden" in r.stdout


def test_whitespace_changes_in_the_directive_keep_matching(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a"))
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    write_conf(tmp_path, b"  DirectoryIndex\ta.html   #  a\r\n")
    assert reported(cli(conf, "--baseline", bl)) == []
    write_conf(tmp_path, cg004(b"a").replace(b"a.html", b"a.htm"))
    assert reported(cli(conf, "--baseline", bl)) == ["CG004"]


@pytest.mark.parametrize("recorded_eol, checked_eol", [(b"\n", b"\r\n"), (b"\r\n", b"\n")])
def test_line_ending_conversion_keeps_matching(tmp_path, recorded_eol, checked_eol):
    """git's autocrlf may check the tree out with other line endings than
    the ones the baseline was written from: a continued directive and a
    Shift_JIS comment swallowing the next line still match."""
    body = (b"DirectoryIndex a.html \\\n    b.html # b\n"
            b"# \x95\x5c\nServerAdmin a@b\n" + cg004(b"c"))
    conf = write_conf(tmp_path, body.replace(b"\n", recorded_eol))
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    recorded = json.load(open(bl))["findings"]
    assert sorted(e["rule"] for e in recorded) == ["CG004", "CG004", "CG005"]
    assert "DirectoryIndex a.html b.html # b" in [e["directive"] for e in recorded]
    write_conf(tmp_path, body.replace(b"\n", checked_eol))
    r = cli(conf, "--baseline", bl, "--fail-on", "warning")
    assert reported(r) == [] and r.exit_code == 0 and "3 finding(s) hidden" in r.stdout


def test_matching_counts_identical_findings(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a") * 2)
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    write_conf(tmp_path, cg004(b"a") * 3)
    r = cli(conf, "--baseline", bl)
    assert reported(r) == ["CG004"] and "2 finding(s) hidden" in r.stdout


def test_rule_and_file_are_part_of_the_key(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a") + b"Include conf/extra.conf\n")
    (tmp_path / "conf" / "extra.conf").write_bytes(b"Listen 80\n")
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    (tmp_path / "conf" / "extra.conf").write_bytes(cg004(b"a"))  # same directive, other file
    r = cli(conf, "--baseline", bl)
    assert reported(r) == ["CG004"] and "extra.conf:1:" in r.stdout


# ---------------------------------------------------- paths and locations

def test_works_from_any_cwd_and_in_a_copied_checkout(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    conf = write_conf(repo, cg004(b"a"))
    monkeypatch.chdir(str(repo))
    write_baseline("conf/httpd.conf", "cgidlint-baseline.json")
    monkeypatch.chdir(str(tmp_path))
    assert reported(cli(conf, "--baseline", "repo/cgidlint-baseline.json")) == []
    clone = tmp_path / "ci" / "checkout"
    shutil.copytree(str(repo), str(clone))
    monkeypatch.chdir("/")
    r = cli(str(clone / "conf"), "--baseline", str(clone / "cgidlint-baseline.json"))
    assert reported(r) == [] and "1 finding(s) hidden" in r.stdout
    # the baseline names files relative to its own directory
    assert json.load(open(str(clone / "cgidlint-baseline.json")))["findings"][0]["file"] == "conf/httpd.conf"


def test_baseline_outside_the_tree_uses_relative_paths(tmp_path):
    conf = write_conf(tmp_path / "etc" / "httpd", cg004(b"a"))
    bl = str(tmp_path / "ci" / "baseline.json")
    os.makedirs(os.path.dirname(bl))
    write_baseline(conf, bl)
    assert json.load(open(bl))["findings"][0]["file"] == "../etc/httpd/conf/httpd.conf"
    assert reported(cli(conf, "--baseline", bl)) == []


def test_stdin_with_its_file_name_matches_the_file(tmp_path, monkeypatch):
    conf = write_conf(tmp_path, cg004(b"a"))
    monkeypatch.chdir(str(tmp_path))
    bl = os.path.join("ci", "b.json")
    os.makedirs("ci")
    write_baseline(conf, bl)
    r = CliRunner().invoke(main, ["-", "--stdin-filename", "conf/httpd.conf", "--baseline", bl],
                           input=open(conf, "rb").read())
    assert r.exit_code == 0 and "1 finding(s) hidden" in r.stdout


def test_cg101_of_a_jail_is_baselined(tmp_path):
    conf, _ = jails.build("A", tmp_path)
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    entry = json.load(open(bl))["findings"][0]
    assert entry["rule"] == "CG101" and entry["directive"].startswith("ScriptSock ")
    data = open(conf).read()
    with open(conf, "w") as f:
        f.write("# moved down\n\n" + data)
    r = cli(conf, "--baseline", bl)
    assert r.exit_code == 0 and reported(r) == []


def test_shift_jis_directive_text_round_trips(tmp_path):
    word = "表示".encode("shift_jis")
    conf = write_conf(tmp_path, b"DirectoryIndex index.html # " + word + b"\r\n")
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    json.load(open(bl, encoding="utf-8"))  # still valid UTF-8 JSON
    assert reported(cli(conf, "--baseline", bl)) == []
    write_conf(tmp_path, b"DirectoryIndex index.html # " + word + b"x\r\n")
    assert reported(cli(conf, "--baseline", bl)) == ["CG004"]


def test_json_report_lists_only_new_findings(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a"))
    bl = str(tmp_path / "b.json")
    write_baseline(conf, bl)
    write_conf(tmp_path, cg004(b"a") + cg004(b"b"))
    r = cli(conf, "--baseline", bl, "--format", "json")
    doc = json.loads(r.stdout)
    assert [f["line"] for f in doc["findings"]] == [4] and doc["summary"]["warnings"] == 1
    assert doc["summary"]["baselined"] == 1
    assert "1 finding(s) hidden by the baseline" in r.stderr


def test_rewriting_a_baseline_replaces_it(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a"))
    bl = tmp_path / "b.json"
    bl.write_text("old")
    os.chmod(str(bl), 0o640)
    write_baseline(conf, bl)
    assert len(json.load(open(str(bl)))["findings"]) == 1 and os.stat(str(bl)).st_mode & 0o777 == 0o640
    write_conf(tmp_path, b"Listen 80\n")
    write_baseline(conf, bl)
    assert json.load(open(str(bl)))["findings"] == []
    assert sorted(os.listdir(str(tmp_path))) == ["b.json", "conf"]  # no temporary files left


# ------------------------------------------------------------- bad input

@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read the baseline: No such file or directory"),
    (b"{", "invalid JSON"),
    (b"\xff\xfe", "invalid JSON"),
    (b"[]", "not a cgidlint baseline"),
    (b'{"version": 1, "tool": "ruff", "findings": []}', "not a cgidlint baseline"),
    (b'{"version": 2, "tool": "cgidlint", "findings": []}', "baseline version 2 is not supported"),
    (b'{"version": 1, "tool": "cgidlint", "findings": {}}', '"findings" must be a list'),
    (b'{"version": 1, "tool": "cgidlint", "findings": [3]}', "findings[0] is not an object"),
    (b'{"version": 1, "tool": "cgidlint", "findings": [{"rule": "CG004", "file": "x"}]}',
     'findings[0]: "directive" missing or not a string'),
])
def test_invalid_baseline_is_exit_2_naming_the_file(tmp_path, content, fragment):
    conf = write_conf(tmp_path, cg004(b"a"))
    bl = tmp_path / "b.json"
    if content is not None:
        bl.write_bytes(content)
    r = cli(conf, "--baseline", bl)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("cgidlint: error: %s: " % bl) and fragment in r.stderr
    assert "Traceback" not in r.output


def test_write_baseline_of_an_unreadable_config_is_exit_2_and_writes_nothing(tmp_path):
    bl = tmp_path / "b.json"
    r = cli(tmp_path / "missing.conf", "--write-baseline", bl)
    assert r.exit_code == 2 and not bl.exists()


def test_write_baseline_into_a_missing_directory_is_exit_2(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a"))
    r = cli(conf, "--write-baseline", tmp_path / "nope" / "b.json")
    assert r.exit_code == 2 and "nope/b.json: cannot write the baseline" in r.stderr


def test_baseline_and_write_baseline_together_is_a_usage_error(tmp_path):
    conf = write_conf(tmp_path, cg004(b"a"))
    r = cli(conf, "--baseline", tmp_path / "a.json", "--write-baseline", tmp_path / "b.json")
    assert r.exit_code == 2 and "cannot be combined" in r.stderr and not (tmp_path / "b.json").exists()


# ------------------------------------------------------------ property

DIRECTIVES = [cg004(w) for w in (b"a", b"b", b"a", b"c")] + [b"Listen 80\n", b"<Directory /srv>\n" + cg004(b"d") +
                                                               b"</Directory>\n"]
NOISE = st.one_of(st.just(b"\n"), st.just(b"   \t\n"),
                  # comments that are findings-free: no NUL (CG001), no final backslash (CG005)
                  st.binary(max_size=30).map(lambda b: b"# " + b.replace(b"\n", b" ").replace(b"\r", b" ")
                                             .replace(b"\x00", b" ") + b".\n")
                  .filter(lambda c: b"cgidlint" not in c.lower()))


def _hidden_and_new(conf_dir, body, known, bl):
    conf = write_conf(conf_dir, body)
    project, findings = lint_path(conf, Options(build="debian"))
    fresh, hidden = baseline.new_findings(findings, project, bl, known)
    texts = baseline.entries(fresh, project, os.path.dirname(bl))
    return hidden, sorted((e["rule"], e["file"], e["directive"]) for e in texts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recorded=st.lists(st.booleans(), min_size=len(DIRECTIVES), max_size=len(DIRECTIVES)),
       noise=st.lists(st.tuples(st.integers(0, len(DIRECTIVES)), NOISE), max_size=8))
def test_comment_and_blank_lines_never_change_what_a_baseline_hides(tmp_path, recorded, noise):
    """Record a baseline from some of the directives, then lint all of them
    with arbitrary comment and blank lines inserted between them: the same
    findings are hidden and the same ones are new as without the noise."""
    bl = str(tmp_path / "b.json")
    conf = write_conf(tmp_path, b"".join(d for d, keep in zip(DIRECTIVES, recorded) if keep))
    project, findings = lint_path(conf, Options(build="debian"))
    baseline.write(bl, findings, project)
    known = baseline.load(bl)
    plain = _hidden_and_new(tmp_path, b"".join(DIRECTIVES), known, bl)
    chunks = [[] for _ in range(len(DIRECTIVES) + 1)]
    for pos, line in noise:
        chunks[pos].append(line)
    noisy_body = b"".join(b"".join(chunks[i]) + d for i, d in enumerate(DIRECTIVES)) + b"".join(chunks[-1])
    assert _hidden_and_new(tmp_path, noisy_body, known, bl) == plain
    assert plain[0] == sum(1 for d, keep in zip(DIRECTIVES, recorded) if keep and b"#" in d)
