"""Report formats: text with colour rules, SARIF 2.1.0 (validated against the
official schema), GitHub workflow commands, --output.

SARIF is validated for freshly produced output from several rules (the
example host, a multi-rule config, fixes with edits and related locations),
and its fixes are checked to rewrite the file exactly as ``cgidlint fix``.
"""

import base64
import json
import os
import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import jails
from cgidlint import report
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.findings import Finding, Fix
from cgidlint.fix.apply import apply_edits
from cgidlint.lint import lint_path
from cgidlint.report import github, sarif
from cgidlint.report.common import Sources
from cgidlint.rules import registry
from shared import SHARED
from jails import classic_jail

jsonschema = pytest.importorskip("jsonschema")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_HOST_CONF = os.path.join(REPO, "examples", "host", "etc", "httpd")
EXAMPLE_SARIF = os.path.join(REPO, "docs", "examples", "cgidlint.sarif")
SCHEMA_PATH = os.path.join(SHARED, "data", "sarif-schema-2.1.0.json")
if not os.path.isfile(SCHEMA_PATH):
    SCHEMA_PATH = "/work/shared/data/sarif-schema-2.1.0.json"

# RFC 3986 URI or relative reference: only these characters, % only as %HH.
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
ANSI = "\033["
# A config with findings of several rules: CG003, CG004 (after a non-ASCII
# name: byte and code point columns differ), CG005 twice (one after a
# Shift_JIS comment ending in 0x5C), CG002.
MULTI_RULE_CONF = (b"ServerRoot %s\n"
                   b"LoadModule mpm_event_module " + jails.MODDIR.encode() + b"/mod_mpm_event.so\n"
                   b"LoadModule dir_module " + jails.MODDIR.encode() + b"/mod_dir.so\n"
                   b"ServerName ${CGIDLINT_TEST_UNDEFINED}\n"
                   b"  DirectoryIndex caf\xc3\xa9.html # comment\n"
                   b"# note \\\n"
                   b"ServerAdmin a@b\n"
                   b"# \x95\x5c\r\n"
                   b"Include missing/*.conf\n"
                   b"Include missing.conf\n")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """The outer CI's GitHub Actions or colour settings must not leak in."""
    for name in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    return jsonschema.Draft4Validator(schema)


def uris(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uri":
                yield v
            else:
                for u in uris(v):
                    yield u
    elif isinstance(node, list):
        for v in node:
            for u in uris(v):
                yield u


def assert_valid_sarif(validator, log):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join("%s: %s" % (list(e.path), e.message) for e in errors[:5])
    # the schema's "format": "uri" is not checked by jsonschema without an
    # optional package: check it here
    for u in uris(log):
        assert URI_CHARS.match(u), u


def invoke(args, env=None):
    r = CliRunner().invoke(main, args, env=env)
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r


def cli_sarif(args, env=None):
    r = invoke(["lint", "--format", "sarif"] + list(args), env=env)
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)


def multi_rule_conf(tmp_path):
    p = tmp_path / "httpd.conf"
    p.write_bytes(MULTI_RULE_CONF.replace(b"%s", str(tmp_path).encode(), 1))
    return str(p)


def insertion_jail(tmp_path):
    """ScriptSock missing, the default socket dir not shared, a shared
    directory declared: the fix inserts a ScriptSock line into the
    <IfModule mod_cgid.c> block."""
    conf, _, _ = classic_jail(tmp_path)
    jail = str(tmp_path / "jail")
    jails.write_config(conf, str(tmp_path), ["DefaultRuntimeDir %s/run" % tmp_path, "<IfModule mod_cgid.c>",
                                             "</IfModule>"], chroot=jail)
    return conf, os.path.join(jail, "run")


def results(log):
    return log["runs"][0]["results"]


# ---------------------------------------------------------------- SARIF


def test_example_host_sarif_is_valid_and_complete(validator, monkeypatch):
    monkeypatch.chdir(REPO)
    log = cli_sarif([EXAMPLE_HOST_CONF])
    assert_valid_sarif(validator, log)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cgidlint" and driver["version"] and driver["informationUri"].startswith("https://")
    [r] = results(log)
    assert r["ruleId"] == "CG101" and r["level"] == "error"
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "examples/host/etc/httpd/conf/httpd.conf", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 18, "startColumn": 5}
    assert loc["contextRegion"]["snippet"]["text"].strip().startswith("ScriptSock ")
    [rel] = r["relatedLocations"]
    assert rel["physicalLocation"]["artifactLocation"]["uri"] == "examples/host/var/chroot/var/run/cgid"
    assert rel["message"]["text"] == "jail-side socket directory"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file://%s/" % REPO


def test_checked_in_example_is_valid_and_current(validator, monkeypatch):
    """docs/examples/cgidlint.sarif validates and says what cgidlint says now."""
    with open(EXAMPLE_SARIF) as f:
        checked_in = json.load(f)
    assert_valid_sarif(validator, checked_in)
    monkeypatch.chdir(REPO)
    fresh = cli_sarif([EXAMPLE_HOST_CONF])

    def gist(log):
        return [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 r["locations"][0]["physicalLocation"]["region"], r["partialFingerprints"]) for r in results(log)]

    assert gist(fresh) == gist(checked_in)
    assert [r["id"] for r in fresh["runs"][0]["tool"]["driver"]["rules"]] == \
        [r["id"] for r in checked_in["runs"][0]["tool"]["driver"]["rules"]]


def test_every_rule_is_described(validator):
    log = sarif.sarif_log([], None, REPO)
    assert_valid_sarif(validator, log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(registry())
    for descriptor, rule in zip(rules, registry().values()):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["markdown"] == rule.doc() and "## What it does" in descriptor["help"]["text"]
        assert descriptor["fullDescription"]["text"] and "##" not in descriptor["fullDescription"]["text"]
        assert descriptor["helpUri"] == "https://github.com/cgidlint/cgidlint/blob/main/docs/rules/%s.md" % rule.code
        assert descriptor["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning",
                                                                "info": "note"}[rule.severity]


def test_multi_rule_results(validator, tmp_path, monkeypatch):
    conf = multi_rule_conf(tmp_path)
    monkeypatch.chdir(tmp_path)
    log = cli_sarif([conf])
    assert_valid_sarif(validator, log)
    _, findings = lint_path(conf, Options())
    rs = results(log)
    assert [r["ruleId"] for r in rs] == [f.rule for f in findings]
    assert {"CG002", "CG003", "CG004", "CG005"} <= {r["ruleId"] for r in rs}
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for r, f in zip(rs, findings):
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == {"error": "error", "warning": "warning", "info": "note"}[f.severity]
        assert r["message"]["text"] == f.message
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "httpd.conf", "uriBaseId": "%SRCROOT%"}
        assert loc["region"]["startLine"] == f.line
    # CG004 points at "#" after "café.html": byte column 29, code point 28
    [cg004] = [(r, f) for r, f in zip(rs, findings) if f.rule == "CG004"]
    assert cg004[1].column == 29 and cg004[0]["locations"][0]["physicalLocation"]["region"]["startColumn"] == 28
    line = cg004[0]["locations"][0]["physicalLocation"]["contextRegion"]["snippet"]["text"]
    assert line[28 - 1] == "#"


def test_char_column():
    assert sarif.char_column(b"  abc", 3) == 3
    assert sarif.char_column("é é #".encode(), 7) == 5
    assert sarif.char_column(b"\x95\x5c #", 4) == 4   # not UTF-8: bytes are kept
    assert sarif.char_column(None, 9) == 9


def test_paths_outside_the_base_are_absolute_file_uris(validator, tmp_path, monkeypatch):
    spaced = tmp_path / "x y"
    spaced.mkdir()
    conf = multi_rule_conf(spaced)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    log = cli_sarif([conf])
    assert_valid_sarif(validator, log)
    for r in results(log):
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert loc == {"uri": "file://%s" % conf.replace(" ", "%20")}


def test_base_is_github_workspace_when_set(tmp_path, monkeypatch):
    sub = tmp_path / "conf"
    sub.mkdir()
    conf = multi_rule_conf(sub)
    monkeypatch.chdir(sub)
    log = cli_sarif([conf], env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert results(log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "conf/httpd.conf"


def test_fix_edits_as_replacements_match_cgidlint_fix(validator, tmp_path, monkeypatch):
    """The classic fix (ScriptSock cgisock) in an included CRLF file with a
    tab indent: applying the SARIF replacements gives the bytes cgidlint fix writes."""
    conf, extra, sock = classic_jail(tmp_path)
    old = ("# extra\r\n\t%s\r\n" % sock).encode()
    with open(extra, "wb") as f:
        f.write(old)
    monkeypatch.chdir(tmp_path)
    log = cli_sarif([conf])
    assert_valid_sarif(validator, log)
    project, findings = lint_path(conf, Options())
    [f] = [f for f in findings if f.fix is not None and f.fix.edits]
    [r] = [r for r in results(log) if r["ruleId"] == f.rule]
    [change] = r["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "conf/extra.conf", "uriBaseId": "%SRCROOT%"}
    assert apply_replacements(old, change["replacements"]) == b"# extra\r\n\tScriptSock cgisock\r\n"
    assert apply_replacements(old, change["replacements"]) == \
        apply_edits(Sources(project).get(extra), f.fix.edits)
    assert r["fixes"][0]["description"]["text"] == f.fix.description


def test_insertion_fix_as_replacement(validator, tmp_path, monkeypatch):
    conf, shared = insertion_jail(tmp_path)
    old = open(conf, "rb").read()
    monkeypatch.chdir(tmp_path)
    log = cli_sarif([conf, "--shared-dir", shared])
    assert_valid_sarif(validator, log)
    [r] = [r for r in results(log) if "fixes" in r]
    [change] = r["fixes"][0]["artifactChanges"]
    assert apply_replacements(old, change["replacements"]) == old.replace(
        b"<IfModule mod_cgid.c>\n", b"<IfModule mod_cgid.c>\n    ScriptSock %s/cgisock\n" % shared.encode())


def test_replacement_bytes_that_are_not_utf8_are_base64():
    assert sarif.replacement_content("ScriptSock é\n".encode()) == {"text": "ScriptSock é\n"}
    assert sarif.replacement_content(b"ScriptSock \x95\x5c\n") == {"binary": "U2NyaXB0U29jayCVXAo="}


def test_fix_without_edits_has_no_sarif_fix_but_keeps_commands(validator, monkeypatch):
    monkeypatch.chdir(REPO)
    [r] = results(cli_sarif([EXAMPLE_HOST_CONF]))
    assert "fixes" not in r
    assert any(c.startswith("mount --bind") for c in r["properties"]["fix"]["commands"])


def apply_replacements(data, replacements):
    out, pos = [], 0
    for rep in sorted(replacements, key=lambda x: x["deletedRegion"]["byteOffset"]):
        start = rep["deletedRegion"]["byteOffset"]
        out.append(data[pos:start])
        content = rep["insertedContent"]
        out.append(content["text"].encode("utf-8") if "text" in content else base64.b64decode(content["binary"]))
        pos = start + rep["deletedRegion"]["byteLength"]
    out.append(data[pos:])
    return b"".join(out)


def fingerprints(conf, cwd):
    project, findings = lint_path(conf, Options())
    log = sarif.sarif_log(findings, project, cwd)
    return sorted((r["ruleId"], r["partialFingerprints"]["cgidlint/v1"]) for r in results(log))


def test_fingerprints_survive_line_moves_and_tell_findings_apart(tmp_path):
    conf = multi_rule_conf(tmp_path)
    before = fingerprints(conf, str(tmp_path))
    data = open(conf, "rb").read()
    head, rest = data.split(b"ServerName", 1)
    with open(conf, "wb") as f:
        f.write(head + b"\n\n# moved down\n" + b"ServerName" + rest)
    after = fingerprints(conf, str(tmp_path))
    assert before == after and len(before) == 5
    assert len({fp for _, fp in before}) == len(before)


def test_identical_findings_get_distinct_fingerprints(tmp_path):
    p = tmp_path / "httpd.conf"
    p.write_bytes(b"ServerRoot %s\nServerName ${CGIDLINT_U}\nServerName ${CGIDLINT_U}\n" % str(tmp_path).encode())
    project, findings = lint_path(str(p), Options())
    rs = results(sarif.sarif_log(findings, project, str(tmp_path)))
    prints = [r["partialFingerprints"]["cgidlint/v1"] for r in rs if r["ruleId"] == "CG003"]
    assert len(prints) == 2 and len(set(prints)) == 2
    assert {p.split(":")[0] for p in prints} == {prints[0].split(":")[0]}


def test_info_is_note_and_result_without_file(validator):
    f = Finding("CG101", "scriptsock-split-view", "info", None, 0, 0, "no file")
    log = sarif.sarif_log([f], None, REPO)
    assert_valid_sarif(validator, log)
    [r] = results(log)
    assert r["level"] == "note" and "locations" not in r


# ---------------------------------------------------------------- github


def parse_annotation(line):
    m = re.match(r"^::(error|warning|notice) ([^:]*)::(.*)$", line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


def unescape(s):
    return re.sub(r"%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}
                  [m.group(1)], s)


@given(st.text())
def test_github_escaping_round_trips(s):
    data, prop = github.escape_data(s), github.escape_property(s)
    assert unescape(data) == s and unescape(prop) == s
    assert not set("\r\n") & set(data)
    assert not set("\r\n:,") & set(prop)


def test_github_one_line_per_finding(tmp_path, monkeypatch):
    conf = multi_rule_conf(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = invoke(["lint", "--format", "github", conf])
    assert r.exit_code == 1
    _, findings = lint_path(conf, Options())
    lines = r.output.splitlines()
    assert len(lines) == len(findings) + 1 and not lines[-1].startswith("::")
    for line, f in zip(lines, findings):
        command, props, message = parse_annotation(line)
        assert command == {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        assert props == {"file": "httpd.conf", "line": str(f.line), "col": str(f.column),
                         "title": "%s %s" % (f.rule, f.name)}
        assert message.split("\nfix: ")[0] == f.message


def test_github_severity_commands_and_escaping():
    fs = [Finding("CG003", "undefined-variable", "warning", "/x/a,b:c.conf", 3, 1, "50% done\r\nnext"),
          Finding("CG104", "scriptsock-too-long", "info", "/x/y.conf", 1, 1, "fyi",
                  fix=Fix("do this")),
          Finding("CG001", "syntax-error", "error", "/x/z.conf", 0, 0, "unreadable")]
    lines = github.to_github(fs, None, "/elsewhere").splitlines()
    parsed = [parse_annotation(l) for l in lines[:3]]
    assert [p[0] for p in parsed] == ["warning", "notice", "error"]
    assert parsed[0][1]["file"] == "/x/a,b:c.conf" and parsed[0][2] == "50% done\r\nnext"
    assert parsed[1][2] == "fyi\nfix: do this"
    assert "line" not in parsed[2][1] and parsed[2][1]["file"] == "/x/z.conf"


def test_github_format_is_automatic_in_actions(tmp_path, monkeypatch):
    conf = multi_rule_conf(tmp_path)
    monkeypatch.chdir(tmp_path)
    auto = invoke([conf], env={"GITHUB_ACTIONS": "true"}).output
    assert auto.startswith("::") and auto == invoke([conf, "--format", "github"]).output
    assert not invoke([conf, "--format", "text"], env={"GITHUB_ACTIONS": "true"}).output.startswith("::")
    assert not invoke([conf], env={"GITHUB_ACTIONS": "false"}).output.startswith("::")
    assert json.loads(invoke([conf, "--format", "json"], env={"GITHUB_ACTIONS": "true"}).output)["version"] == 1


def test_github_paths_relative_to_workspace(tmp_path, monkeypatch):
    sub = tmp_path / "etc"
    sub.mkdir()
    conf = multi_rule_conf(sub)
    monkeypatch.chdir(sub)
    out = invoke([conf], env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}).output
    assert parse_annotation(out.splitlines()[0])[1]["file"] == "etc/httpd.conf"
    other = tmp_path / "other"
    other.mkdir()
    out = invoke([conf], env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(other)}).output
    assert parse_annotation(out.splitlines()[0])[1]["file"] == conf


# ---------------------------------------------------------------- text, colour


@pytest.mark.parametrize("choice, env, tty, expected", [
    ("always", {"NO_COLOR": "1"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": "0"}, False, False),
    ("auto", {"FORCE_COLOR": ""}, True, True),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),
    ("auto", {}, True, True),
    ("auto", {}, False, False),
])
def test_use_color(choice, env, tty, expected):
    assert report.use_color(choice, env, tty) is expected


@pytest.mark.parametrize("args, env, coloured", [
    ([], {}, False),                                   # CliRunner's stdout is not a terminal
    (["--color", "always"], {}, True),
    (["--color", "always"], {"NO_COLOR": "1"}, True),
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"FORCE_COLOR": "0"}, False),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),
    (["--color", "auto"], {"NO_COLOR": "1"}, False),
])
def test_cli_colour(args, env, coloured, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    r = invoke([EXAMPLE_HOST_CONF] + args, env=env)
    assert r.exit_code == 1
    assert (ANSI in r.output) is coloured
    assert re.sub(r"\033\[[0-9;]*m", "", r.output) == invoke([EXAMPLE_HOST_CONF, "--color", "never"]).output


def test_colour_only_in_text():
    for fmt in ("json", "sarif", "github"):
        assert ANSI not in invoke([EXAMPLE_HOST_CONF, "--format", fmt, "--color", "always"]).output


def test_render_rejects_unknown_format():
    with pytest.raises(ValueError):
        report.render("xml", [], None)


# ---------------------------------------------------------------- --output


def test_output_file(validator, tmp_path):
    out = tmp_path / "report.sarif"
    r = invoke([EXAMPLE_HOST_CONF, "--format", "sarif", "-o", str(out)], env={"FORCE_COLOR": "1"})
    assert r.exit_code == 1 and r.output == ""
    assert_valid_sarif(validator, json.loads(out.read_text()))
    r = invoke([EXAMPLE_HOST_CONF, "--output", str(out)])
    assert ANSI not in out.read_text() and out.read_text().endswith("1 error(s), 0 warning(s) in 4 file(s)\n")


@pytest.mark.parametrize("args, env, coloured", [
    ([], {"FORCE_COLOR": "1"}, False),     # FORCE_COLOR is for logs and pipes, not a report file
    (["--color", "auto"], {"FORCE_COLOR": "1"}, False),
    (["--color", "always"], {}, True),     # asked for explicitly
    (["--color", "always"], {"NO_COLOR": "1"}, True),
])
def test_output_file_colour(tmp_path, args, env, coloured):
    out = tmp_path / "report.txt"
    r = invoke([EXAMPLE_HOST_CONF, "-o", str(out)] + args, env=env)
    assert r.exit_code == 1 and r.output == ""
    assert (ANSI in out.read_text()) is coloured


def test_output_to_unwritable_place_is_exit_2(tmp_path):
    r = invoke([EXAMPLE_HOST_CONF, "-o", str(tmp_path / "missing-dir" / "r.txt")])
    assert r.exit_code == 2 and "--output" in r.output and "Traceback" not in r.output



# ---------------------------------------------------------------- bytes that are not UTF-8

# Shift_JIS in a variable name and an Include target: the messages carry
# bytes that are not UTF-8 (surrogate-escaped in the findings).
SHIFT_JIS_CONF = (b"ServerRoot %s\r\n"
                  b"ServerName ${CGIDLINT_\x95\x5c}\r\n"
                  b"Include \x95\x5c.conf\r\n")


@pytest.mark.parametrize("to_file", [False, True])
def test_json_and_sarif_are_utf8_whatever_the_config_bytes(validator, tmp_path, monkeypatch, to_file):
    conf = tmp_path / "httpd.conf"
    conf.write_bytes(SHIFT_JIS_CONF.replace(b"%s", str(tmp_path).encode(), 1))
    monkeypatch.chdir(tmp_path)
    docs = {}
    for fmt in ("json", "sarif"):
        out = tmp_path / ("report." + fmt)
        r = invoke(["lint", "--format", fmt, str(conf)] + (["-o", str(out)] if to_file else []))
        assert r.exit_code == 1
        raw = out.read_bytes() if to_file else r.stdout_bytes
        docs[fmt] = json.loads(raw.decode("utf-8"))   # strict: a JSON text is UTF-8
    assert_valid_sarif(validator, docs["sarif"])
    # JSON is for programs: the bytes survive, as \udcXX escapes (as in a baseline)
    messages = [f["message"] for f in docs["json"]["findings"]]
    assert any("${CGIDLINT_\udc95\\}" in m for m in messages), messages
    assert any(("/\udc95\\.conf" in m) for m in messages), messages
    # SARIF is for viewers: only valid Unicode, the undecodable byte shown as U+FFFD
    texts = [r["message"]["text"] for r in results(docs["sarif"])]
    assert any("${CGIDLINT_\ufffd\\}" in t for t in texts), texts


# ---------------------------------------------------------------- continued directives

# httpd reports a directive continued with "\" on its last physical line;
# its column counts from the start of its first one.
CONTINUED_CONF = (b"ServerRoot %s\n"
                  b"  ServerName \\\n"
                  b"       ${CGIDLINT_TEST_UNDEFINED}\n"
                  b"Listen 80\n")


def continued_conf(tmp_path):
    p = tmp_path / "httpd.conf"
    p.write_bytes(CONTINUED_CONF.replace(b"%s", str(tmp_path).encode(), 1))
    return str(p)


def test_sarif_region_of_a_continued_directive_spans_its_lines(validator, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = cli_sarif([continued_conf(tmp_path)])
    assert_valid_sarif(validator, log)
    [r] = [r for r in results(log) if r["ruleId"] == "CG003"]
    loc = r["locations"][0]["physicalLocation"]
    # the column (3, "ServerName") is on line 2: a region on line 3 at
    # column 3 would point into the blanks before ${...}
    assert loc["region"] == {"startLine": 2, "startColumn": 3, "endLine": 3}
    assert loc["contextRegion"] == {"startLine": 2, "endLine": 3, "snippet": {
        "text": "  ServerName \\\n       ${CGIDLINT_TEST_UNDEFINED}"}}


def test_github_annotation_of_a_continued_directive_spans_its_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = invoke(["--format", "github", continued_conf(tmp_path)]).output
    [props] = [parse_annotation(l)[1] for l in out.splitlines() if "CG003" in l]
    assert (props["line"], props["endLine"], props["col"]) == ("2", "3", "3")


def test_fingerprint_without_a_line_does_not_depend_on_the_checkout_location():
    """A finding without a directive is fingerprinted by its message, which
    names host paths: the same repository checked out in two places must
    give the same fingerprint (code scanning matches alerts by it)."""
    def fingerprint(checkout, missing="jail/run/cgid"):
        f = Finding("CG102", "scriptsock-dir-missing", "error", checkout + "/etc/httpd/conf/httpd.conf", 0, 0,
                    "the socket directory %s/%s does not exist" % (checkout, missing))
        [r] = results(sarif.sarif_log([f], None, checkout))
        return r["partialFingerprints"]["cgidlint/v1"]

    assert fingerprint("/home/runner/work/x/x") == fingerprint("/tmp/y")
    assert fingerprint("/tmp/y") != fingerprint("/tmp/y", "jail/run/other")
