"""``# cgidlint: disable=CODE -- reason`` comments and CG901/CG902/CG903.

A suppression silences exactly the directive directly below its comment
block, or (disable-file) its whole file; it needs a reason; one that
silences nothing, or cannot be read, is itself a finding.  Checked on
logical lines as httpd reads them (CRLF, Shift_JIS, backslash
continuation), through lint, the CLI and ``cgidlint fix``.
"""

import os
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import jails
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.lint import lint_path
from cgidlint.rules import registry
from cgidlint.suppress import META_CODES, parse_comment
from jails import classic_jail

MOD = jails.MODDIR
HEAD = "LoadModule mpm_event_module %s/mod_mpm_event.so\nLoadModule dir_module %s/mod_dir.so\n" % (MOD, MOD)
HEAD_LINES = 3  # ServerRoot + HEAD
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "host")


def write_conf(tmp_path, body, name="httpd.conf", eol=b"\n"):
    p = tmp_path / name
    text = ("ServerRoot %s\n" % tmp_path).encode() + HEAD.encode() + body
    p.write_bytes(text.replace(b"\n", eol))
    return str(p)


def lint(tmp_path, body, select=None, ignore=None, eol=b"\n", **opts):
    conf = write_conf(tmp_path, body, eol=eol)
    _, findings = lint_path(conf, Options(build="debian", **opts), select, ignore)
    return findings


def at(findings, rule=None):
    """(rule, line) pairs, relative to the end of the preamble."""
    return sorted((f.rule, f.line - HEAD_LINES) for f in findings if rule is None or f.rule == rule)


def cg004(word):
    return b"DirectoryIndex %s.html # %s\n" % (word, word)


# ------------------------------------------------------------------ scope

def test_suppression_silences_exactly_the_directive_below(tmp_path):
    body = b"# cgidlint: disable=CG004 -- index names come from the deploy script\n" + cg004(b"a") + cg004(b"b")
    assert at(lint(tmp_path, body)) == [("CG004", 3)]
    # without the comment both are reported: the suppression is what hid line 2
    assert at(lint(tmp_path, cg004(b"a") + cg004(b"b"))) == [("CG004", 1), ("CG004", 2)]


def test_blank_line_breaks_the_block_and_the_suppression_is_unused(tmp_path):
    body = b"# cgidlint: disable=CG004 -- reason\n\n" + cg004(b"a")
    findings = lint(tmp_path, body)
    assert at(findings) == [("CG004", 3), ("CG902", 1)]
    assert "not directly above a directive" in [f for f in findings if f.rule == "CG902"][0].message


def test_every_suppression_in_the_comment_block_applies(tmp_path):
    body = (b"# cgidlint: disable=CG003 -- ${DOCROOT_INDEX} comes from the unit's Environment=\n"
            b"# an ordinary comment between them keeps the block\n"
            b"# cgidlint: disable=CG004 -- reason two\n"
            b"DirectoryIndex ${NOPE_NOT_SET_ANYWHERE} # x\n")
    assert at(lint(tmp_path, body)) == []
    unsuppressed = at(lint(tmp_path, body.replace(b"# cgidlint: disable=CG003", b"# not a suppression")))
    assert unsuppressed == [("CG003", 4)]


def test_one_comment_may_name_several_codes(tmp_path):
    body = b"# cgidlint: disable=CG003, CG004 -- both known\nDirectoryIndex ${NOPE_NOT_SET_ANYWHERE} # x\n"
    assert at(lint(tmp_path, body)) == []
    body = b"# cgidlint: disable=CG003 CG004 -- space separated\nDirectoryIndex ${NOPE_NOT_SET_ANYWHERE} # x\n"
    assert at(lint(tmp_path, body)) == []


def test_section_opener_suppression_does_not_cover_the_section(tmp_path):
    body = b"# cgidlint: disable=CG004 -- reason\n<Directory /srv>\n    " + cg004(b"a") + b"</Directory>\n"
    assert at(lint(tmp_path, body)) == [("CG004", 3), ("CG902", 1)]


def test_multi_line_directive_is_covered_on_every_physical_line(tmp_path):
    # CG001 is reported on the last physical line of a continued directive
    body = b"# cgidlint: disable=CG001 -- reason\nDefine A one \\\n    two\n"
    assert at(lint(tmp_path, body)) == []
    assert at(lint(tmp_path, body[body.index(b"\n") + 1:])) == [("CG001", 2)]


def test_disable_file_covers_its_file_only(tmp_path):
    (tmp_path / "extra.conf").write_bytes(cg004(b"x"))
    body = cg004(b"a") + b"Include extra.conf\n" + cg004(b"b") + b"# cgidlint: disable-file=CG004 -- legacy vhost\n"
    findings = lint(tmp_path, body)
    assert [(f.rule, os.path.basename(f.file)) for f in findings] == [("CG004", "extra.conf")]


def test_disable_file_that_silences_nothing_is_unused(tmp_path):
    findings = lint(tmp_path, b"# cgidlint: disable-file=CG003 -- nothing\n" + cg004(b"a"))
    assert at(findings) == [("CG004", 2), ("CG902", 1)]
    assert "no CG003 finding in this file" in [f.message for f in findings if f.rule == "CG902"][0]


def test_unused_suppression_names_the_codes_that_silenced_nothing(tmp_path):
    body = b"# cgidlint: disable=CG003,CG004 -- reason\n" + cg004(b"a") + b"# cgidlint: disable=CG004 -- r\nListen 80\n"
    findings = lint(tmp_path, body)
    assert at(findings) == [("CG902", 1), ("CG902", 3)]
    messages = [f.message for f in findings]
    assert "no CG003 finding on the directive at line %d" % (HEAD_LINES + 2) in messages[0]
    assert "CG004" not in messages[0] and "CG004" in messages[1]


def test_suppression_in_a_false_branch_is_not_reported_unused(tmp_path):
    body = b"<IfDefine PRODUCTION>\n# cgidlint: disable=CG004 -- reason\n" + cg004(b"a") + b"</IfDefine>\n"
    assert at(lint(tmp_path, body)) == []
    assert at(lint(tmp_path, body, defines=["PRODUCTION"])) == []
    assert at(lint(tmp_path, body.replace(b"# cgidlint", b"# not"), defines=["PRODUCTION"])) == [("CG004", 3)]


# ----------------------------------------------------------------- reasons

def meta_message(tmp_path, comment, code):
    """The message of the one ``code`` finding about ``comment`` placed
    above a CG004 line, which it must leave reported."""
    findings = lint(tmp_path, comment + b"\n" + cg004(b"a"))
    assert at(findings) == [("CG004", 2), (code, 1)]
    return [f.message for f in findings if f.rule == code][0]


@pytest.mark.parametrize("comment, hint", [
    (b"# cgidlint: disable=CG004", "add one after ' -- '"),
    (b"# cgidlint: disable=CG004 --", "add one after ' -- '"),
    (b"# cgidlint: disable=CG004 --   \t", "add one after ' -- '"),
    (b"# cgidlint: disable=CG004 the deploy script checks it", "the reason must follow ' -- '"),
    (b"# cgidlint: disable-file=CG004", "add one after ' -- '"),
])
def test_suppression_without_reason_silences_nothing(tmp_path, comment, hint):
    assert hint in meta_message(tmp_path, comment, "CG901")


def test_reason_may_hold_dashes_and_any_bytes(tmp_path):
    reason = "ソケットは systemd の cgid-jail.mount が -- 共有する".encode("shift_jis")
    assert at(lint(tmp_path, b"# cgidlint: disable=CG004 -- " + reason + b"\n" + cg004(b"a"))) == []


# ----------------------------------------------------------------- invalid

@pytest.mark.parametrize("comment, fragment", [
    (b"# cgidlint: disabel=CG004 -- r", "unknown keyword 'disabel' (did you mean 'disable='?)"),
    (b"# cgidlint: disable CG004 -- r", "expected '=' after 'disable'"),
    (b"# cgidlint disable=CG004 -- r", "missing ':' after 'cgidlint'"),
    (b"# cgidlint:", "expected 'disable=' or 'disable-file='"),
    (b"# cgidlint: disable= -- r", "no rule code"),
    (b"# cgidlint: disable=CG999 -- r", "unknown rule code CG999"),
    (b"# cgidlint: disable=CG00 -- r", "CG00 is a prefix: suppressions take exact rule codes (CG001, CG002"),
    (b"# cgidlint: disable=all -- r", "'all' is not accepted"),
    (b"# cgidlint: disable=CG902 -- r", "use --ignore CG902"),
])
def test_invalid_suppression_is_reported_and_silences_nothing(tmp_path, comment, fragment):
    assert fragment in meta_message(tmp_path, comment, "CG903")


def test_valid_codes_apply_next_to_an_invalid_one(tmp_path):
    findings = lint(tmp_path, b"# cgidlint: disable=CG004,CG1O1 -- reason\n" + cg004(b"a"))
    assert at(findings) == [("CG903", 1)]


def test_keyword_and_codes_are_case_and_whitespace_tolerant(tmp_path):
    body = b"\t#CGIDLINT :  Disable =  cg004 ,  --reason\n" + cg004(b"a")
    assert at(lint(tmp_path, body)) == []


def test_other_comments_mentioning_cgidlint_are_left_alone(tmp_path):
    body = b"# cgidlint runs in CI on this file\n# see cgidlint: docs\n" + cg004(b"a")
    assert at(lint(tmp_path, body)) == [("CG004", 3)]


def test_meta_findings_cannot_be_suppressed_in_the_file(tmp_path):
    body = b"# cgidlint: disable-file=CG902 -- r\n# cgidlint: disable=CG003 -- r\n" + cg004(b"a")
    findings = lint(tmp_path, body)
    assert at(findings) == [("CG004", 3), ("CG902", 2), ("CG903", 1)]


# --------------------------------------------------- how httpd reads lines

def test_crlf_file_with_shift_jis_comments(tmp_path):
    sjis = "# 既定のページ\n".encode("shift_jis")
    body = (sjis + b"# cgidlint: disable=CG004 -- " + "移行中".encode("shift_jis") + b"\n" + cg004(b"a") +
            sjis + cg004(b"b"))
    findings = lint(tmp_path, body, eol=b"\r\n")
    assert at(findings) == [("CG004", 5)]
    with open(findings[0].file, "rb") as f:
        assert f.read().count(b"\r\n") == HEAD_LINES + 5


def test_suppression_comment_ending_in_backslash_swallows_the_next_line(tmp_path):
    # httpd joins line 2 into the comment (CG005): that DirectoryIndex does
    # not exist, and the suppression belongs to the next directive, line 3.
    body = b"# cgidlint: disable=CG004 -- reason \\\n" + cg004(b"a") + cg004(b"b") + cg004(b"c")
    assert at(lint(tmp_path, body)) == [("CG004", 4), ("CG005", 1)]


def test_shift_jis_reason_ending_in_0x5c_swallows_the_directive(tmp_path):
    reason = "設定 表".encode("shift_jis")
    assert reason.endswith(b"\x5c")
    body = b"# cgidlint: disable=CG004 -- " + reason + b"\n" + cg004(b"a") + b"Listen 80\n"
    findings = lint(tmp_path, body)
    assert at(findings) == [("CG005", 1), ("CG902", 1)]
    assert "Shift_JIS" in [f.message for f in findings if f.rule == "CG005"][0]


def test_a_comment_continued_into_a_suppression_is_not_one(tmp_path):
    body = b"# long comment \\\n# cgidlint: disable=CG004 -- reason\n" + cg004(b"a")
    assert at(lint(tmp_path, body)) == [("CG004", 3), ("CG005", 1)]


# -------------------------------------------------------- rule selection

def test_select_keeps_suppressions_working_without_meta_findings(tmp_path):
    body = b"# cgidlint: disable=CG004 -- r\n" + cg004(b"a") + b"# cgidlint: disable=CG003\n" + cg004(b"b")
    assert at(lint(tmp_path, body, select=["CG004"])) == [("CG004", 4)]
    assert at(lint(tmp_path, body)) == [("CG004", 4), ("CG901", 3)]


def test_suppression_of_a_rule_that_did_not_run_is_not_unused(tmp_path):
    body = b"# cgidlint: disable=CG003 -- r\n# cgidlint: disable=CG004 -- r\nListen 80\n"
    assert at(lint(tmp_path, body, select=["CG004", "CG9"])) == [("CG902", 2)]
    assert at(lint(tmp_path, body, ignore=["CG003", "CG004"])) == []
    assert at(lint(tmp_path, body, ignore=["CG902"])) == []


def test_cgid_suppressions_are_not_unused_after_a_syntax_error(tmp_path):
    # after CG001 the CG1xx rules do not run, so they cannot be "unused"
    body = b"# cgidlint: disable=CG101 -- r\nLoadModule cgid_module %s/mod_cgid.so\n<Directory /srv>\n" % MOD.encode()
    assert at(lint(tmp_path, body)) == [("CG001", 3)]
    assert at(lint(tmp_path, body + b"</Directory>\n")) == [("CG902", 1)]


# ------------------------------------------------------------- real jails

def test_cg101_in_a_jailed_tree_is_suppressed_through_the_host_path(tmp_path):
    host = str(tmp_path / "host")
    shutil.copytree(EXAMPLE, host, symlinks=True)
    conf = os.path.join(host, "etc/httpd/conf/httpd.conf")
    _, before = lint_path(os.path.join(host, "etc/httpd"))
    assert [f.rule for f in before] == ["CG101"]
    data = open(conf, "rb").read()
    sock = b"    ScriptSock /var/run/cgid/cgisock\n"
    with open(conf, "wb") as f:
        f.write(data.replace(sock, b"    # cgidlint: disable=CG101 -- bind-mounted by cgid-jail.mount\n" + sock))
    project, after = lint_path(os.path.join(host, "etc/httpd"))
    assert project.fs.read_root != "/" and after == []


def test_cg101_suppressed_in_a_chrootdir_jail(tmp_path):
    conf, _ = jails.build("A", tmp_path)
    assert "CG101" in [f.rule for f in lint_path(conf)[1]]
    data = open(conf).read().replace("ScriptSock", "# cgidlint: disable=CG101 -- reason\nScriptSock")
    with open(conf, "w") as f:
        f.write(data)
    assert "CG101" not in [f.rule for f in lint_path(conf)[1]]


def test_fix_leaves_suppressed_findings_alone(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "w") as f:
        f.write(sock + "\n")
    r = CliRunner().invoke(main, ["fix", conf])
    assert r.exit_code == 1 and b"+ScriptSock cgisock" in r.stdout_bytes
    data = "# cgidlint: disable=CG101 -- the socket path is pinned\n%s\n" % sock
    with open(extra, "w") as f:
        f.write(data)
    r = CliRunner().invoke(main, ["fix", conf, "--write"])
    assert r.exit_code == 0 and r.stdout_bytes == b""
    assert open(extra).read() == data


def test_cli_exit_code_follows_the_suppressions(tmp_path):
    conf = write_conf(tmp_path, b"# cgidlint: disable=CG004 -- r\n" + cg004(b"a"))
    r = CliRunner().invoke(main, [conf, "--fail-on", "warning"])
    assert r.exit_code == 0, r.output
    conf = write_conf(tmp_path, b"# cgidlint: disable=CG004\n" + cg004(b"a"))
    r = CliRunner().invoke(main, [conf, "--fail-on", "warning"])
    assert r.exit_code == 1 and "CG901" in r.output and "CG004" in r.output


# -------------------------------------------------------------- the parser

def test_meta_rules_are_registered_and_report_nothing_from_check():
    reg = registry()
    for code in META_CODES:
        assert reg[code].severity == "warning" and list(reg[code]().check(None)) == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_parse_comment_never_raises(tail):
    parsed = parse_comment(b"# cgidlint:" + tail, list(registry()))
    assert parsed is not None
    assert set(parsed.active_codes) <= set(registry()) - set(META_CODES)
    if any(code == "CG901" for code, _ in parsed.problems):
        assert parsed.active_codes == []


@settings(max_examples=200, deadline=None)
@given(codes=st.lists(st.sampled_from(["CG001", "cg004", "CG101", "cg105"]), min_size=1, max_size=4),
       sep=st.sampled_from([",", ", ", " ", " ,\t"]),
       reason=st.binary(min_size=1, max_size=40).filter(lambda b: b.strip() and b"\n" not in b))
def test_well_formed_suppressions_parse_to_their_codes(codes, sep, reason):
    text = b"# cgidlint: disable=" + sep.join(codes).encode() + b" -- " + reason
    parsed = parse_comment(text, list(registry()))
    want = []
    for c in codes:
        if c.upper() not in want:
            want.append(c.upper())
    assert parsed.active_codes == want and parsed.problems == []


# ------------------------------------------------------------ prefilter

def test_head_split_by_a_continuation_still_suppresses(tmp_path):
    # "#\" joins the next physical line: httpd (and the suppression reader)
    # see one comment "#cgidlint: disable=...", although the bytes never
    # hold "# cgidlint" on one line.
    body = b"#\\\ncgidlint: disable=CG004 -- joined comment\n" + cg004(b"a")
    assert at(lint(tmp_path, body, ignore=["CG005"])) == []
    assert at(lint(tmp_path, cg004(b"a"))) == [("CG004", 1)]


def test_paths_naming_cgidlint_do_not_make_every_line_read(tmp_path, monkeypatch):
    from cgidlint.parser import source
    reads = []
    original = source.SourceFile.lines.fget
    monkeypatch.setattr(source.SourceFile, "lines",
                        property(lambda self: reads.append(self.path) or original(self)))
    body = b"".join(b"DocumentRoot /srv/cgidlint-%d\n" % i for i in range(3))
    assert lint(tmp_path, body) == []
    assert reads == []
    # a real suppression comment is still found
    body += b"# cgidlint: disable=CG004 -- generated\n" + cg004(b"a")
    assert at(lint(tmp_path, body)) == []
    assert reads
