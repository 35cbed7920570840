"""cgidlint fix: byte-exact edits, safe writes, verified outcomes.

* apply layer: CRLF, tabs, Shift_JIS bytes, continuation lines, missing
  final newline, insertion into blocks, refusals;
* properties (hypothesis): a ScriptSock line injected anywhere into every
  corpus file (and into an included file of a real jail) is the only line
  the diff touches;
* writes: atomic (interrupted before the rename, even by SIGKILL, leaves the
  original), mode/owner kept, symlinks out of the tree refused, files that
  changed since they were read refused, backups;
* CLI: dry run vs --write, exit codes, --select, idempotence, corpus no-op;
* scenario (real httpd under ChrootDir, local backend): after the fix, or
  after running the printed filesystem commands, the CGI answers 200.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jails
from jails import classic_jail
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.findings import Edit, Finding, Fix
from cgidlint.fix import write as fixwrite
from cgidlint.fix.apply import FixConflict, apply_edits, apply_planned, resolve
from cgidlint.fix.plan import changed_old_lines, make_plan, unified_diff
from cgidlint.lint import lint_path
from cgidlint.parser.source import parse_bytes

from shared import CORPUS


def corpus_files():
    out = []
    for d, dirs, files in os.walk(CORPUS):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.join(d, f))
    return out


def sock_edit(line, new="ScriptSock cgisock", old="ScriptSock /x/cgisock", file="f.conf"):
    return Edit(file, line, new, "replace", original=old)


def apply(data, *edits):
    return apply_edits(parse_bytes(data, "f.conf"), list(edits))


def touched(old, new):
    return changed_old_lines(unified_diff("f.conf", old, new))


# ---------------------------------------------------------------- apply layer

def test_replace_keeps_crlf_indent_and_trailing_blanks():
    data = b"A 1\r\n\t  ScriptSock /x/cgisock \t\r\nB 2\r\n"
    new = apply(data, sock_edit(2))
    assert new == b"A 1\r\n\t  ScriptSock cgisock \t\r\nB 2\r\n"
    assert touched(data, new) == ([2], [2])


def test_replace_keeps_shift_jis_and_non_utf8_neighbours():
    sjis = "# 設定ファイル 表示".encode("shift_jis")
    data = sjis + b"\nScriptSock /x/cgisock\n\xff\xfe# latin1 \xe9\n"
    new = apply(data, sock_edit(2))
    assert new == sjis + b"\nScriptSock cgisock\n\xff\xfe# latin1 \xe9\n"


def test_shift_jis_comment_swallowing_the_line_is_not_a_directive():
    # 表 ends in 0x5C: httpd joins the next line into the comment
    data = "# 表\n".encode("shift_jis") + b"ScriptSock /x/cgisock\n"
    with pytest.raises(FixConflict):
        apply(data, sock_edit(2))


def test_replace_continuation_line_collapses_only_that_logical_line():
    data = b"X 1\n  ScriptSock \\\n     /x/cgisock\nY 2\n"
    sf = parse_bytes(data)
    assert [l.line for l in sf.lines] == [1, 3, 4]
    new = apply(data, sock_edit(3, old="ScriptSock      /x/cgisock"))
    assert new == b"X 1\n  ScriptSock cgisock\nY 2\n"
    assert touched(data, new) == ([2, 3], [2])


def test_missing_final_newline_stays_missing():
    data = b"X 1\nScriptSock /x/cgisock"
    new = apply(data, sock_edit(2))
    assert new == b"X 1\nScriptSock cgisock"
    d = unified_diff("f.conf", data, new)
    assert b"\\ No newline at end of file" in d


def test_original_mismatch_is_refused():
    with pytest.raises(FixConflict, match="expected"):
        apply(b"ScriptSock /y/cgisock\n", sock_edit(1))


def test_overlapping_edits_are_refused_identical_ones_collapse():
    data = b"ScriptSock /x/cgisock\n"
    with pytest.raises(FixConflict, match="overlapping"):
        apply(data, sock_edit(1), sock_edit(1, new="ScriptSock /z/cgisock"))
    with pytest.raises(FixConflict, match="overlapping"):
        apply(data, sock_edit(1), Edit("f.conf", 1, "ScriptSock /z/s", "insert_after"))
    assert apply(data, sock_edit(1), sock_edit(1)) == b"ScriptSock cgisock\n"


def test_edit_on_missing_or_comment_line_is_refused():
    with pytest.raises(FixConflict):
        apply(b"# c\n", Edit("f.conf", 1, "ScriptSock x", "insert_after"))
    with pytest.raises(FixConflict, match="no such line"):
        apply(b"X\n", Edit("f.conf", 9, "ScriptSock x", "insert_after"))


def test_insert_in_block_uses_block_indentation_and_line_ending():
    data = b"LoadModule cgid_module m.so\r\n<IfModule mod_cgid.c>\r\n\t\t# sock\r\n\t\tCGIDScriptTimeout 5\r\n</IfModule>\r\n"
    new = apply(data, Edit("f.conf", 2, "ScriptSock /s/cgisock", "insert_after"))
    assert new == data.replace(b"c>\r\n", b"c>\r\n\t\tScriptSock /s/cgisock\r\n")
    assert touched(data, new) == ([], [3])


def test_insert_into_empty_block_and_after_loadmodule():
    data = b"  <IfModule cgid_module>\n  </IfModule>\n"
    assert apply(data, Edit("f.conf", 1, "ScriptSock s", "insert_after")) == \
        b"  <IfModule cgid_module>\n      ScriptSock s\n  </IfModule>\n"
    data = b"  LoadModule cgid_module m.so\n# x\n"
    assert apply(data, Edit("f.conf", 1, "ScriptSock s", "insert_after")) == \
        b"  LoadModule cgid_module m.so\n  ScriptSock s\n# x\n"
    data = b"LoadModule cgid_module m.so"
    assert apply(data, Edit("f.conf", 1, "ScriptSock s", "insert_after")) == \
        b"LoadModule cgid_module m.so\nScriptSock s"


def test_spans_report_new_lines():
    data = b"A\nLoadModule cgid_module m\nScriptSock /x/cgisock\n"
    sf = parse_bytes(data)
    planned = resolve(sf, [Edit("f", 2, "ScriptSock /s", "insert_after"), sock_edit(3, file="f")])
    new, spans = apply_planned(sf, planned)
    assert spans == [(3, 3), (4, 4)]
    assert new.split(b"\n")[2:4] == [b"ScriptSock /s", b"ScriptSock cgisock"]


# ------------------------------------------------------------------ properties

_CORPUS_DATA = {}


def corpus_bytes(path):
    if path not in _CORPUS_DATA:
        with open(path, "rb") as f:
            _CORPUS_DATA[path] = f.read()
    return _CORPUS_DATA[path]


ENCODINGS = ["utf-8", "shift_jis", "euc-jp", "latin-1", "cp1252"]
comment_text = st.text(alphabet="abcXYZ 012-_.éü設定表示ソ能日本語\\", max_size=20)
blank = st.sampled_from([b"", b" ", b"\t", b"  \t", b"    "])


@st.composite
def comment_line(draw, eol):
    enc = draw(st.sampled_from(ENCODINGS))
    text = draw(comment_text).encode(enc, "replace")
    return draw(blank) + b"#" + text + draw(blank) + eol


def convert_eol(data, mode):
    if mode == "keep":
        return data
    lf = data.replace(b"\r\n", b"\n")
    return lf if mode == "lf" else lf.replace(b"\n", b"\r\n")


@st.composite
def injected_corpus_file(draw):
    """(bytes, offset of 'ScriptSock /x/cgisock', its httpd line number)."""
    path = draw(st.sampled_from(corpus_files()))
    data = convert_eol(corpus_bytes(path), draw(st.sampled_from(["keep", "lf", "crlf"])))
    lines = parse_bytes(data).lines
    k = draw(st.integers(0, len(lines)))
    at = lines[k].start if k < len(lines) else len(data)
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    head = b""
    if at == len(data) and data and not data.endswith(b"\n"):
        head = eol
    before = b"".join(draw(st.lists(comment_line(eol), max_size=2)))
    after = b"".join(draw(st.lists(comment_line(eol), max_size=2)))
    line = draw(blank) + b"ScriptSock /x/cgisock" + draw(blank)
    unterminated = at == len(data) and not after and draw(st.booleans())
    chunk = head + before + line + (b"" if unterminated else eol) + after
    new = data[:at] + chunk + data[at:]
    offset = at + len(head) + len(before) + len(line) - len(line.lstrip())
    return new, offset


def _the_line(data, offset):
    sf = parse_bytes(data, "f.conf")
    for l in sf.lines:
        if l.start <= offset < l.end:
            return sf, l
    raise AssertionError("offset outside the file")


@settings(max_examples=int(os.environ.get("CGIDLINT_FIX_EXAMPLES", "1000")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(injected_corpus_file())
def test_property_injected_scriptsock_is_the_only_line_the_diff_touches(sample):
    data, offset = sample
    sf, l = _the_line(data, offset)
    # a comment ending in a continuation (e.g. Shift_JIS 表) swallows the line:
    # then it is no directive and there is nothing to fix
    assume(l.text == b"ScriptSock /x/cgisock")
    new = apply_edits(sf, [sock_edit(l.line)])
    start = offset
    assert new == data[:start] + b"ScriptSock cgisock" + data[start + len(b"ScriptSock /x/cgisock"):]
    removed, added = changed_old_lines(unified_diff("f.conf", data, new))
    assert removed == [l.first_line] and added == [l.first_line]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_insert_adds_exactly_one_line(d):
    path = d.draw(st.sampled_from(corpus_files()))
    data = convert_eol(corpus_bytes(path), d.draw(st.sampled_from(["keep", "lf", "crlf"])))
    sf = parse_bytes(data)
    anchors = [l for l in sf.lines if not l.is_blank and not l.is_comment]
    assume(anchors)
    a = d.draw(st.sampled_from(anchors))
    new = apply_edits(sf, [Edit("f", a.line, "ScriptSock /s/cgisock", "insert_after")])
    removed, added = changed_old_lines(unified_diff("f.conf", data, new))
    ends_unterminated = a.end == len(data) and not data.endswith(b"\n")
    assert added[-1] == a.line + 1 and len(added) == (2 if ends_unterminated else 1)
    assert removed == ([a.line] if ends_unterminated else [])
    assert new.startswith(data[:a.end]) and new.endswith(data[a.end:])
    nl = parse_bytes(new).lines
    assert [l.text for l in nl if l.text == b"ScriptSock /s/cgisock"]


# ------------------------------------------------------------- jail pipeline

def run_fix(*args):
    r = CliRunner().invoke(main, ["fix"] + [str(a) for a in args])
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r


def diff_part(stdout_bytes):
    return stdout_bytes.split(b"# filesystem changes")[0]


def test_fix_in_included_file_dry_run_then_write(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    old = ("# extra\r\n\t%s\r\n" % sock).encode()
    with open(extra, "wb") as f:
        f.write(old)
    main_before = open(conf, "rb").read()
    r = run_fix(conf)
    assert r.exit_code == 1, r.output
    assert b"-\t" + sock.encode() in r.stdout_bytes and b"+\tScriptSock cgisock" in r.stdout_bytes
    assert open(extra, "rb").read() == old
    r = run_fix(conf, "--write")
    assert r.exit_code == 0, r.output
    assert open(extra, "rb").read() == b"# extra\r\n\tScriptSock cgisock\r\n"
    assert open(conf, "rb").read() == main_before
    r = run_fix(conf, "--write")      # idempotent
    assert r.exit_code == 0 and r.stdout_bytes == b""
    assert open(extra, "rb").read() == b"# extra\r\n\tScriptSock cgisock\r\n"


def test_select_limits_the_rules_fixed(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "w") as f:
        f.write(sock + "\n")
    r = run_fix(conf, "--write", "--select", "CG102")
    assert r.stdout_bytes == b"" and open(extra).read() == sock + "\n"
    r = run_fix(conf, "--write", "--ignore", "CG101")
    assert open(extra).read() == sock + "\n"
    r = run_fix(conf, "--write", "--select", "CG101")
    assert r.exit_code == 0 and open(extra).read() == "ScriptSock cgisock\n"


def test_property_jail_include_diff_touches_exactly_the_line(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    n = {"runs": 0}

    @settings(max_examples=int(os.environ.get("CGIDLINT_FIX_JAIL_EXAMPLES", "200")), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.data())
    def prop(d):
        eol = d.draw(st.sampled_from([b"\n", b"\r\n"]))
        body = d.draw(st.lists(st.one_of(comment_line(eol), st.just(eol), blank.map(lambda b: b + eol),
                                         st.just(b"ServerName localhost" + eol)), max_size=6))
        k = d.draw(st.integers(0, len(body)))
        in_block = d.draw(st.booleans())
        line = d.draw(blank) + sock.encode() + d.draw(blank)
        term = b"" if (k == len(body) and not in_block and d.draw(st.booleans())) else eol
        if in_block:
            chunk = b"<IfModule cgid_module>" + eol + line + eol + b"</IfModule>" + term
        else:
            chunk = line + term
        data = b"".join(body[:k]) + chunk + b"".join(body[k:])
        sf = parse_bytes(data)
        hit = [l for l in sf.lines if l.text == sock.encode()]
        assume(len(hit) == 1)
        # A comment ending in a backslash swallows the <IfModule> opener: the
        # lone </IfModule> is then a syntax error and nothing is fixed.
        assume(not in_block or any(l.text == b"<IfModule cgid_module>" for l in sf.lines))
        with open(extra, "wb") as f:
            f.write(data)
        r = run_fix(conf, "--write")
        n["runs"] += 1
        # 1: another finding remains (a comment swallowing ServerName: CG005)
        assert r.exit_code in (0, 1) and "wrote" in r.output, r.output
        removed, added = changed_old_lines(diff_part(r.stdout_bytes))
        assert removed == [hit[0].line] and added == [hit[0].line]
        off = data.index(sock.encode())
        assert open(extra, "rb").read() == data[:off] + b"ScriptSock cgisock" + data[off + len(sock):]
        r2 = run_fix(conf, "--write")
        assert r2.exit_code == r.exit_code and r2.stdout_bytes == b""

    prop()
    print("jail property: %d fix --write runs" % n["runs"])
    assert n["runs"] >= 20


def test_insert_when_scriptsock_missing_with_shared_dir(tmp_path):
    T = str(tmp_path)
    J = os.path.join(T, "jail")
    rd = os.path.join(T, "run")
    os.makedirs(jails.in_jail(J, rd))
    os.makedirs(rd)
    shared = os.path.join(J, "shared")
    os.makedirs(shared)
    link = jails.in_jail(J, J)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("/", link)
    conf = os.path.join(T, "conf", "httpd.conf")
    jails.write_config(conf, T, ["DefaultRuntimeDir %s" % rd, "<IfModule mod_cgid.c>", "\tCGIDScriptTimeout 20",
                                 "</IfModule>"], chroot=J)
    old = open(conf, "rb").read()
    r = run_fix(conf, "--write", "--shared-dir", shared)
    assert r.exit_code == 0, r.output
    new = open(conf, "rb").read()
    assert new == old.replace(b"<IfModule mod_cgid.c>\n",
                              b"<IfModule mod_cgid.c>\n\tScriptSock %s/cgisock\n" % shared.encode())
    assert run_fix(conf, "--write", "--shared-dir", shared).stdout_bytes == b""


def test_filesystem_fix_is_printed_never_made(tmp_path):
    conf, _ = jails.build("A", tmp_path)
    old = open(conf, "rb").read()
    before = sorted(os.walk(str(tmp_path)))
    r = run_fix(conf, "--write")
    assert r.exit_code == 1
    out = r.stdout_bytes.decode()
    assert "# filesystem changes (not made by cgidlint)" in out
    assert re.search(r"^mount --bind \S+ \S+$", out, re.M)
    assert re.search(r"none bind 0 0' >> /etc/fstab$", out, re.M)
    assert open(conf, "rb").read() == old and sorted(os.walk(str(tmp_path))) == before


# ------------------------------------------------------------- safety gates

def test_config_only_edits_need_unsafe(tmp_path):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "w") as f:
        f.write(sock + "\n")
    project, findings = lint_path(conf, Options())
    f = [f for f in findings if f.rule == "CG101"][0]
    assert f.evidence == "filesystem" and make_plan(project, [f]).changes
    guess = Finding("CG101", "x", "error", f.file, f.line, 1, "m", evidence="config-only", fix=f.fix)
    plan = make_plan(project, [guess])
    assert not plan.changes and plan.needs_unsafe == [guess]
    assert make_plan(project, [guess], unsafe=True).changes
    unsafe_fix = Fix("d", edits=f.fix.edits, applicability="unsafe")
    assert not make_plan(project, [Finding("CG101", "x", "error", f.file, f.line, 1, "m", evidence="filesystem",
                                           fix=unsafe_fix)]).changes


def _write_case(tmp_path, data=b"ScriptSock /x/cgisock\n"):
    p = tmp_path / "conf" / "a.conf"
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(data)
    return str(p), data


def test_atomic_write_keeps_mode_owner_and_backup(tmp_path):
    p, old = _write_case(tmp_path)
    os.chmod(p, 0o640)
    if os.geteuid() == 0:
        os.chown(p, 33, 33)
    fixwrite.atomic_write(p, b"ScriptSock cgisock\n", old, [str(tmp_path)], backup=".orig")
    st_ = os.stat(p)
    assert open(p, "rb").read() == b"ScriptSock cgisock\n" and (st_.st_mode & 0o777) == 0o640
    assert open(p + ".orig", "rb").read() == old
    if os.geteuid() == 0:
        assert (st_.st_uid, st_.st_gid) == (33, 33)
    assert not [f for f in os.listdir(os.path.dirname(p)) if f.endswith(fixwrite.TMP_SUFFIX)]


def test_changed_since_read_is_refused(tmp_path):
    p, old = _write_case(tmp_path)
    with open(p, "ab") as f:
        f.write(b"# edited meanwhile\n")
    with pytest.raises(fixwrite.WriteRefused, match="changed since"):
        fixwrite.atomic_write(p, b"x\n", old, [str(tmp_path)])
    assert open(p, "rb").read() == old + b"# edited meanwhile\n"


def test_changed_during_write_is_refused(tmp_path, monkeypatch):
    p, old = _write_case(tmp_path)

    def meddle(tmp, real):
        with open(real, "ab") as f:
            f.write(b"#\n")
    monkeypatch.setattr(fixwrite, "_before_rename", meddle)
    with pytest.raises(fixwrite.WriteRefused, match="while"):
        fixwrite.atomic_write(p, b"x\n", old, [str(tmp_path)])
    assert open(p, "rb").read() == old + b"#\n"
    assert not [f for f in os.listdir(os.path.dirname(p)) if f.endswith(fixwrite.TMP_SUFFIX)]


def test_interrupted_write_leaves_original(tmp_path, monkeypatch):
    p, old = _write_case(tmp_path)

    def boom(src, dst):
        raise KeyboardInterrupt()
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        fixwrite.atomic_write(p, b"new\n", old, [str(tmp_path)])
    monkeypatch.undo()
    assert open(p, "rb").read() == old
    assert os.listdir(os.path.dirname(p)) == ["a.conf"]


def test_sigkill_between_temp_and_rename_leaves_original(tmp_path):
    p, old = _write_case(tmp_path)
    code = ("import os, signal, sys\n"
            "from cgidlint.fix import write as w\n"
            "w._before_rename = lambda tmp, real: os.kill(os.getpid(), signal.SIGKILL)\n"
            "w.atomic_write(sys.argv[1], b'new\\n', open(sys.argv[1], 'rb').read(), [])\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", code, p], env=env)
    assert r.returncode == -signal.SIGKILL
    assert open(p, "rb").read() == old
    left = [f for f in os.listdir(os.path.dirname(p)) if f != "a.conf"]
    # the orphan is a hidden temp file that *.conf globs do not match
    assert len(left) == 1 and left[0].startswith(".a.conf.") and left[0].endswith(fixwrite.TMP_SUFFIX)
    assert open(os.path.join(os.path.dirname(p), left[0]), "rb").read() == b"new\n"
    # the next write removes the orphan (its process is gone) and leaves nothing
    fixwrite.atomic_write(p, b"newer\n", old, [])
    assert os.listdir(os.path.dirname(p)) == ["a.conf"] and open(p, "rb").read() == b"newer\n"


def test_a_temp_file_of_a_live_writer_is_left_alone(tmp_path):
    p, old = _write_case(tmp_path)
    d = os.path.dirname(p)
    live = ".a.conf.%d.x1y2z3%s" % (os.getpid(), fixwrite.TMP_SUFFIX)     # a write in progress
    other = ".b.conf.1.abc%s" % fixwrite.TMP_SUFFIX                         # another file's temp
    for name in (live, other):
        open(os.path.join(d, name), "wb").close()
    fixwrite.atomic_write(p, b"new\n", old, [])
    assert sorted(os.listdir(d)) == sorted(["a.conf", live, other])


def test_symlink_leaving_the_tree_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "real.conf"
    target.write_bytes(b"X\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    link = tree / "link.conf"
    os.symlink(str(target), str(link))
    with pytest.raises(fixwrite.WriteRefused, match="outside"):
        fixwrite.atomic_write(str(link), b"Y\n", b"X\n", [str(tree)])
    assert target.read_bytes() == b"X\n" and os.path.islink(str(link))
    # a symlink inside the tree: the target is written, the link stays a link
    inner = tree / "inner.conf"
    inner.write_bytes(b"X\n")
    link2 = tree / "link2.conf"
    os.symlink("inner.conf", str(link2))
    fixwrite.atomic_write(str(link2), b"Y\n", b"X\n", [str(tree)])
    assert inner.read_bytes() == b"Y\n" and os.path.islink(str(link2))


def test_cli_refuses_symlinked_include_out_of_tree(tmp_path):
    conf, extra, sock = classic_jail(tmp_path / "t")
    elsewhere = tmp_path / "elsewhere.conf"
    elsewhere.write_text(sock + "\n")
    os.symlink(str(elsewhere), extra)
    r = run_fix(conf, "--write")
    assert r.exit_code == 2 and "refusing to write through it" in r.output
    assert elsewhere.read_text() == sock + "\n"


def test_cli_refuses_file_changed_between_lint_and_write(tmp_path, monkeypatch):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "w") as f:
        f.write(sock + "\n")
    real = fixwrite.atomic_write

    def late_edit(path, *a, **kw):
        with open(path, "a") as f:
            f.write("# someone else\n")
        return real(path, *a, **kw)
    monkeypatch.setattr(fixwrite, "atomic_write", late_edit)
    r = run_fix(conf, "--write")
    assert r.exit_code == 2 and "changed since it was read" in r.output
    assert open(extra).read() == sock + "\n# someone else\n"


def test_bad_backup_suffix_is_a_usage_error(tmp_path):
    conf, _, _ = classic_jail(tmp_path)
    assert run_fix(conf, "--backup", "a/b").exit_code == 2


# --------------------------------------------------------------- corpus no-op

@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: os.path.relpath(p, CORPUS))
def test_corpus_file_fix_changes_nothing(path, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(os.path.dirname(path), str(dst))
    copy = os.path.join(str(dst), os.path.basename(path))
    before = {f: open(os.path.join(str(dst), f), "rb").read() for f in os.listdir(str(dst))
              if os.path.isfile(os.path.join(str(dst), f))}
    r = run_fix(copy, "--write")
    assert r.exit_code in (0, 1), r.output
    assert diff_part(r.stdout_bytes) == b""
    after = {f: open(os.path.join(str(dst), f), "rb").read() for f in os.listdir(str(dst))
             if os.path.isfile(os.path.join(str(dst), f))}
    assert after == before
    r = run_fix(path)         # in place, dry run
    assert r.exit_code in (0, 1) and diff_part(r.stdout_bytes) == b""


# -------------------------------------------------- real httpd (scenarios)

def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def printed_commands(stdout):
    text = stdout.decode("utf-8", "replace")
    if "# filesystem changes" not in text:
        return []
    tail = text.split("# filesystem changes", 1)[1].splitlines()[1:]
    return [l for l in tail if l.strip() and not l.startswith("#")]


def _add_shared_mount(folder):
    p = folder / "scenario.toml"
    p.write_text(p.read_text().replace('layout = [', 'layout = [\n  "bind host:@ROOT@/shared jail:@ROOT@/shared",', 1))


def _drop_scriptsock(block):
    def mutate(folder):
        _add_shared_mount(folder)
        c = folder / "httpd.conf"
        repl = "<IfModule cgid_module>\n    CGIDScriptTimeout 20\n</IfModule>\n" if block else ""
        c.write_text(re.sub(r"(?m)^ScriptSock .*\n", repl, c.read_text()))
        t = folder / "scenario.toml"
        t.write_text(t.read_text().replace('socket = "@ROOT@/run/cgisock"', 'socket = "@ROOT@/shared/cgisock"'))
    return mutate


# (scenario folder, variant, how the fix works, mutate)
LIVE = [
    ("exp-a-absolute-split", "A", "commands", None),
    ("exp-a2-host-dir-missing", "A'", "commands", None),
    ("exp-b-relative-unshared", "B", "commands", None),
    ("original-report", "original report", "edit", None),
    ("exp-a-absolute-split", "A + shared mount", "edit", _add_shared_mount),
    ("exp-b-relative-unshared", "B + shared mount", "edit", _add_shared_mount),
    ("exp-b-relative-unshared", "no ScriptSock, IfModule", "insert", _drop_scriptsock(True)),
    ("exp-b-relative-unshared", "no ScriptSock", "insert", _drop_scriptsock(False)),
]


@pytest.mark.scenario
@pytest.mark.httpd
@pytest.mark.parametrize("folder,variant,how,mutate", LIVE, ids=[v for _, v, _, _ in LIVE])
def test_live_fix_gives_200(tmp_path, folder, variant, how, mutate):
    """Build the experiment as a real jail, run ``cgidlint fix --write`` (and
    the printed filesystem commands, minus the /etc/fstab line), start httpd
    under ChrootDir: the CGI answers 200.  The broken state is not waited for
    (ENOENT takes ~32 s); test_scenarios covers it."""
    if os.geteuid() != 0:
        pytest.skip("needs root (chroot, bind mounts)")
    try:
        from cgidlint.scenarios import backends, model, runner
    except ImportError as e:
        pytest.skip("scenarios package unavailable: %s" % e)
    base = tmp_path / "scn"
    shutil.copytree(os.path.join(str(model.SCENARIOS_DIR), folder), str(base / folder))
    if mutate:
        mutate(base / folder)
    s = model.load(folder, base=str(base))
    be = backends.LocalBackend(base=str(tmp_path / "roots"))
    os.makedirs(be.base)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(be.base, 0o755)
    try:
        be.check()
    except backends.BackendUnavailable as e:
        pytest.skip(str(e))
    run = runner.ScenarioRun(s, be, _free_port())
    try:
        ok, why, ev = run.create()
        assert ok, (why, ev)
        cfg = run.p(s.lint_config)
        args = [run.p(a) for a in s.lint_args]
        old = open(cfg, "rb").read()
        if variant == "A'":
            # the broken state shows at once: the daemon cannot bind in the host view
            ok, why, ev = run.start()
            assert ok, (why, ev)
            log = run.sh("cat %s" % run.p(s.error_log)).stdout
            assert "AH01243" in log, log[-2000:]
            assert run.stop()[0]
        r = run_fix(cfg, "--write", *args)
        assert r.exit_code in (0, 1), r.output
        diff = diff_part(r.stdout_bytes)
        cmds = printed_commands(r.stdout_bytes)
        if how == "commands":
            assert diff == b"" and open(cfg, "rb").read() == old
            assert cmds, r.output
            if any(c.startswith("mount --bind") for c in cmds):
                assert any(c.endswith(">> /etc/fstab") for c in cmds)
            for c in cmds:
                if "/etc/fstab" in c:
                    continue  # never touch this machine's fstab
                res = run.sh(c)
                assert res.ok, (c, res.tail())
        else:
            assert r.exit_code == 0, r.output
            removed, added = changed_old_lines(diff)
            assert len(added) == 1 and len(removed) == (1 if how == "edit" else 0), diff
            plus = [l for l in diff.split(b"\n") if l.startswith(b"+") and not l.startswith(b"+++")]
            assert len(plus) == 1 and plus[0].lstrip(b"+ \t").startswith(b"ScriptSock "), diff
            assert not cmds
        ok, why, ev = run.start()
        assert ok, (why, ev)
        url = "http://127.0.0.1:%d%s" % (run.port, s.after.path)
        res = run.sh("curl -s --max-time 20 -w '\\n%%{http_code}' %s" % url)
        body, _, code = res.stdout.rpartition("\n")
        log = run.sh("cat %s" % run.p(s.error_log)).stdout
        assert code.strip() == "200", (code, body, log[-2000:])
        assert "hello from cgid" in body
    finally:
        if run.target is not None:
            run.destroy()
        be.close()


def test_failed_verification_restores_the_file(tmp_path, monkeypatch):
    conf, extra, sock = classic_jail(tmp_path)
    with open(extra, "w") as f:
        f.write(sock + "\n")
    import cgidlint.fix.cli as fixcli
    monkeypatch.setattr(fixcli, "verify_after", lambda before, after, plan: ["CG101 still reported"])
    r = run_fix(conf, "--write")
    assert r.exit_code == 2 and "verification failed" in r.output and "restored" in r.output
    assert open(extra).read() == sock + "\n"


def test_diff_applies_with_patch(tmp_path):
    if not shutil.which("patch"):
        pytest.skip("no patch(1)")
    data = "# 表示\r\n".encode("shift_jis") + b"\tScriptSock /x/cgisock\r\n\xff# x\nLast"
    new = apply(data, sock_edit(2))
    p = tmp_path / "f.conf"
    p.write_bytes(data)
    d = tmp_path / "d.patch"
    d.write_bytes(unified_diff(str(p), data, new))
    subprocess.run(["patch", "-s", str(p), str(d)], check=True)
    assert p.read_bytes() == new


def test_bind_mount_commands_quote_paths_and_add_the_fstab_line_once(tmp_path):
    from cgidlint.rules.cg101_scriptsock_split_view import bind_mount_commands
    host = str(tmp_path / "host run" / "cgid")
    jail = str(tmp_path / "my jail" / "var" / "run" / "cgid")
    fstab = tmp_path / "fstab"
    fstab.write_bytes(b"# existing\n")
    mkdir, mount, persist = bind_mount_commands(host, jail)
    assert mount.startswith("mount --bind ")
    persist = persist.replace("/etc/fstab", str(fstab))
    for _ in range(2):   # running the printed commands twice changes nothing more
        for c in (mkdir, persist):
            assert subprocess.run(["sh", "-c", c]).returncode == 0, c
    assert os.path.isdir(jail)
    # fstab separates fields by blanks: blanks inside a path are written \040
    escaped = [p.replace(" ", "\\040") for p in (host, jail)]
    assert fstab.read_text() == "# existing\n%s %s none bind 0 0\n" % tuple(escaped)
