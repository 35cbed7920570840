"""``cgidlint diagnose``: real error logs captured from the scenarios
(tests/data/logs/, see its README), the lines chroot-model.md quotes, bytes
that are not UTF-8, stdin, exit codes, and with a configuration the
directive responsible."""

import io
import json
import os
import re
import time

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cgidlint import diagnose, logcodes
from cgidlint.cli import main
from cgidlint.rules import registry

LOGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "logs")

# What each captured log shows (its README and docs/scenarios.md, "before
# the fix" column): (ID, errno or signal) of every failure line in it.
SHOWS = {
    "exp-a-absolute-split.log": {("AH01257", 2)},
    "exp-a2-host-dir-missing.log": {("AH01243", 2), ("AH01238", None), ("AH01257", 2)},
    "exp-g-not-searchable.log": {("AH01257", 13)},
    "socket-path-too-long.log": {("AH01254", None), ("AH01257", 2)},
    "retries-then-ah02833.log": {("AH01257", 2), ("AH02833", 2)},
    "event-jail-without-libgcc.log": {("libgcc_s", None), ("AH00052", 6), ("AH10392", None)},
    "external-chroot-without-devnull.log": {("AH00496", 2)},
}

AH01257_ENOENT = (b"[Sun Nov 22 09:51:58.610768 2026] [cgid:error] [pid 24585:tid 24612] (2)No such file or "
                  b"directory: [client 127.0.0.1:39600] AH01257: stderr from /cgi-bin/hello.cgi: unable to "
                  b"connect to cgi daemon after multiple tries\n")
AH01257_EACCES = AH01257_ENOENT.replace(b"(2)No such file or directory", b"(13)Permission denied")
START = (b"[Sun Nov 22 09:51:26.655364 2026] [mpm_event:notice] [pid 24577:tid 24577] AH00489: Apache/2.4.71 "
         b"(Debian) configured -- resuming normal operations\n")


def log_path(name):
    return os.path.join(LOGS, name)


def run(*args, **kw):
    return CliRunner().invoke(main, ["diagnose"] + list(args), **kw)


def failures(diag):
    return {(g.code.key, g.variant) for g in diag.failures}


def write(tmp_path, data, name="error.log"):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


# -- real logs -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SHOWS))
def test_captured_logs_are_recognised(name):
    diag = diagnose.read_log_path(log_path(name))
    assert failures(diag) == SHOWS[name]
    r = run(log_path(name))
    assert r.exit_code == 1, r.output
    for key, _ in SHOWS[name]:
        assert key in r.output


def test_every_fixture_is_covered():
    assert set(n for n in os.listdir(LOGS) if n.endswith(".log")) == set(SHOWS) | {"chroot-model-quoted.log"}


def test_enoent_and_eacces_give_different_causes_and_rules():
    a = diagnose.read_log_path(log_path("exp-a-absolute-split.log")).failures[0]
    g = diagnose.read_log_path(log_path("exp-g-not-searchable.log")).failures[0]
    assert a.code is g.code is logcodes.CODES["AH01257"]
    assert {"CG101", "CG102", "CG104"} <= set(a.rules) and "CG103" not in a.rules
    assert g.rules[0] == "CG103" and not {"CG101", "CG102"} & set(g.rules)
    assert a.reading.causes[0].text != g.reading.causes[0].text
    out_a, out_g = run(log_path("exp-a-absolute-split.log")).output, run(log_path("exp-g-not-searchable.log")).output
    assert "(2) ENOENT" in out_a and "CG101" in out_a and "CG103" not in out_a
    assert "(13) EACCES" in out_g and "CG103" in out_g and "CG101" not in out_g


def test_startup_failure_comes_first_and_explains_the_request_failure():
    diag = diagnose.read_log_path(log_path("exp-a2-host-dir-missing.log"))
    ordered = [g.code.key for g in diag.ordered]
    assert ordered.index("AH01243") < ordered.index("AH01257")
    request = diag.ordered[ordered.index("AH01257")]
    assert [g.code.key for g in diag.explained_by(request)] == ["AH01243"]   # AH01238 follows AH01243
    out = run(log_path("exp-a2-host-dir-missing.log")).output
    assert re.search(r"^1\. AH01243 \(2\) ENOENT", out, re.M)
    assert "Explained by #1 AH01243 above" in out


def test_a_log_that_covers_the_start_rules_out_what_startup_would_show(tmp_path):
    out = run(log_path("exp-a-absolute-split.log")).output
    blocks = re.split(r"^ {5}\d\. ", out, flags=re.M)[1:]
    causes = [(re.search(r"\[(CG\d{3})", b) or re.search(r"(outside)", b)).group(1) for b in blocks]
    assert causes[0] == "CG101" and set(causes[-2:]) == {"CG102", "CG104"}
    assert "(ruled out: this log covers the server's start and has no AH01243 or AH01238)" in \
        re.sub(r"\s+", " ", out)
    doc = json.loads(run(log_path("exp-a-absolute-split.log"), "--format", "json").output)
    ruled = {c["rules"][0] for c in doc["diagnoses"][0]["causes"] if c["ruled_out"]}
    assert ruled == {"CG102", "CG104"}
    # without the start line nothing is ruled out
    no_start = run(write(tmp_path, AH01257_ENOENT)).output
    assert "ruled out" not in no_start and "Startup lines that would reveal causes" in no_start


def test_details_carry_the_socket_and_the_script():
    diag = diagnose.read_log_path(log_path("retries-then-ah02833.log"))
    ah02833 = [g for g in diag.failures if g.code.key == "AH02833"][0]
    assert ah02833.details["socket"] == ["/tmp/diagx/retries/var/run/cgid/cgisock.30045"]
    ah01257 = [g for g in diag.failures if g.code.key == "AH01257"][0]
    assert ah01257.details["script"] == ["/tmp/diagx/retries/cgi-bin/hello.cgi"]
    retries = [g for g in diag.groups.values() if g.code.key == "AH01256"][0]
    assert retries.count == 20 and not retries.code.failure    # debug-level retries are context


def test_repeated_lines_are_grouped_with_first_and_last():
    diag = diagnose.read_log_path(log_path("event-jail-without-libgcc.log"))
    aborts = [g for g in diag.failures if g.code.key == "AH00052"][0]
    with open(log_path("event-jail-without-libgcc.log"), "rb") as f:
        lines = f.read().splitlines()
    numbers = [i for i, line in enumerate(lines, 1) if b"AH00052" in line]
    assert aborts.count == len(numbers)
    assert (aborts.first_line, aborts.last_line) == (numbers[0], numbers[-1])
    assert aborts.first_time in lines[numbers[0] - 1].decode()
    assert aborts.last_time in lines[numbers[-1] - 1].decode()
    # glibc's line has no timestamp of its own: it is placed after the last line that had one
    libgcc = [g for g in diag.failures if g.code.key == "libgcc_s"][0]
    previous = lines[libgcc.first_line - 2].decode()
    assert libgcc.first_time == "after " + previous[1:previous.index("]")]


def test_failures_before_a_fix_and_restart_are_marked_and_can_be_left_out():
    name = log_path("exp-a2-host-dir-missing.log")
    diag = diagnose.read_log_path(name)
    assert all(not diag.current(g) for g in diag.failures)
    assert "not seen since the last (re)start" in run(name).output
    r = run(name, "--since-last-start")
    assert r.exit_code == 0, r.output
    assert "no known chroot or mod_cgid failure" in r.output


def test_a_log_ending_with_a_stop_still_counts_its_last_run():
    name = log_path("event-jail-without-libgcc.log")
    diag = diagnose.read_log_path(name, since_last_start=True)
    assert ("libgcc_s", None) in failures(diag)
    assert all(diag.current(g) for g in diag.failures)


def test_startup_errors_before_the_start_line_belong_to_that_run(tmp_path):
    stop = b"[Sun Nov 22 09:51:59 2026] [mpm_event:notice] [pid 1:tid 1] AH00491: caught SIGTERM, shutting down\n"
    bind = (b"[Sun Nov 22 09:52:00 2026] [cgid:error] [pid 3:tid 3] (2)No such file or directory: AH01243: "
            b"Couldn't bind unix domain socket /run/cgid/cgisock.2\n")
    p = write(tmp_path, START + AH01257_EACCES + stop + bind + START)
    diag = diagnose.read_log_path(p, since_last_start=True)
    assert failures(diag) == {("AH01243", 2)}


# -- the lines chroot-model.md quotes ---------------------------------------------

def test_the_lines_of_the_design_document_are_all_recognised():
    diag = diagnose.read_log_path(log_path("chroot-model-quoted.log"))
    with open(log_path("chroot-model-quoted.log"), "rb") as f:
        n = len(f.read().splitlines())
    assert sum(g.count for g in diag.failures) == n
    got = failures(diag)
    assert ("AH01257", 2) in got and ("AH01257", 13) in got
    assert {"AH01243", "AH01238", "AH02833", "AH01254", "libgcc_s", "AH00496"} <= {k for k, _ in got}


# -- parsing ---------------------------------------------------------------------

def test_older_format_and_custom_formats(tmp_path):
    old = parse(b"[Mon Jan 01 00:00:00 2018] [cgid:error] [pid 9] (13)Permission denied: [client 10.0.0.1:1] "
                b"AH01257: unable to connect to cgi daemon after multiple tries: /var/www/cgi-bin/x")
    assert (old.code.key, old.errno, old.details["script"]) == ("AH01257", 13, "/var/www/cgi-bin/x")
    custom = parse(b"2026-11-22T09:51:58Z cgid error errno=(2)No such file or directory: AH01257: x")
    assert (custom.code.key, custom.errno) == ("AH01257", 2)
    debug = parse(b"[x] [cgid:debug] [pid 1:tid 2] mod_cgid.c(1353): (111)Connection refused: [client ::1:5] "
                  b"AH01256: connect #3 to cgi daemon failed, sleeping before retry")
    assert (debug.code.key, debug.errno, debug.details["attempt"]) == ("AH01256", 111, "3")


def test_a_line_without_errno_keeps_every_cause():
    parsed = parse(b"AH01257: unable to connect to cgi daemon after multiple tries")
    assert parsed.errno is None
    diag = diagnose.read_log(io.BytesIO(b"AH01257: unable to connect to cgi daemon after multiple tries\n"), "x")
    rules = diag.failures[0].rules
    assert {"CG101", "CG102", "CG103", "CG104"} <= set(rules)


def test_a_relayed_line_is_about_what_it_relays():
    parsed = parse(b"[cgid:error] [pid 5:tid 6] [client 1.2.3.4:5] AH01215: stderr from /cgi-bin/x.cgi: AH01241: "
                   b"error spawning CGI child: exec of '/cgi-bin/x.cgi' failed (No such file or directory)")
    assert (parsed.code.key, parsed.errno) == ("AH01241", 2)
    assert "CG302" in parsed.code.reading(2).rules
    plain = parse(b"[cgid:error] [pid 5:tid 6] AH01215: stderr from /cgi-bin/x.cgi: starting")
    assert plain.code.key == "AH01215" and not plain.code.failure


def test_unknown_serious_ids_are_listed_but_are_no_failure(tmp_path):
    p = write(tmp_path, START + b"[Sun Nov 22 09:53:17 2026] [:emerg] [pid 611:tid 611] AH00017: Pre-configuration "
                                b"failed, exiting\n[x] [core:notice] [pid 1] AH00094: Command line: 'apache2'\n")
    r = run(p)
    assert r.exit_code == 0
    assert "AH00017 x1" in r.output and "AH00094" not in r.output


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_read_without_error(data):
    diag = diagnose.read_log(io.BytesIO(data), "fuzz")
    assert diag.lines == len(io.BytesIO(data).readlines())
    diagnose.to_text(diag, registry())
    json.dumps(diagnose.to_dict(diag, registry()))


_NOISE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 []:.-/=", max_size=40)


@settings(max_examples=200, deadline=None)
@given(_NOISE, _NOISE, st.sampled_from([2, 13, 111, 110]))
def test_the_id_and_errno_are_found_anywhere_in_the_line(prefix, middle, errno):
    line = "%s(%d)Some error text: %s AH01257: unable to connect to cgi daemon after multiple tries" % (
        prefix, errno, middle)
    parsed = diagnose.parse_line(line)
    assert parsed.code.key == "AH01257" and parsed.errno == errno
    assert parsed.code.reading(errno) is parsed.code.readings.get(errno, parsed.code.readings[None])


def parse(raw):
    return diagnose.parse_line(raw.decode("utf-8", errors="replace"))


# -- bytes, stdin, exit codes ------------------------------------------------------

def test_invalid_utf8_and_shift_jis_do_not_stop_the_diagnosis(tmp_path):
    sjis = "/cgi-bin/表示.cgi".encode("shift_jis")
    data = b"\xff\xfe garbage \x80\n" + AH01257_ENOENT.replace(b"/cgi-bin/hello.cgi", sjis) + b"\xc3\x28\n"
    p = write(tmp_path, data)
    r = run(p)
    assert r.exit_code == 1
    assert "AH01257 (2) ENOENT" in r.output and "\ufffd" in r.output
    assert "Traceback" not in r.output


def test_crlf_log_lines(tmp_path):
    p = write(tmp_path, AH01257_EACCES.replace(b"\n", b"\r\n"))
    diag = diagnose.read_log_path(p)
    assert failures(diag) == {("AH01257", 13)}
    assert not diag.failures[0].sample.endswith("\r")


def test_stdin_dash_reads_the_log_from_stdin():
    with open(log_path("exp-g-not-searchable.log"), "rb") as f:
        data = f.read()
    from_stdin = run("-", input=data)
    from_file = run(log_path("exp-g-not-searchable.log"))
    assert from_stdin.exit_code == from_file.exit_code == 1
    assert from_stdin.output.replace("<stdin>", "X") == from_file.output.replace(log_path("exp-g-not-searchable.log"),
                                                                                 "X")


def test_exit_0_without_a_known_failure(tmp_path):
    assert run(write(tmp_path, b"")).exit_code == 0
    assert run(write(tmp_path, START)).exit_code == 0
    retry_only = (b"[x] [cgid:debug] [pid 1:tid 2] mod_cgid.c(1353): (2)No such file or directory: [client ::1:5] "
                  b"AH01256: connect #1 to cgi daemon failed, sleeping before retry\n")
    r = run(write(tmp_path, retry_only))
    assert r.exit_code == 0 and "AH01256" in r.output


def test_exit_2_on_an_unreadable_log(tmp_path):
    missing = str(tmp_path / "nope.log")
    r = run(missing)
    assert r.exit_code == 2 and missing in r.output and "Traceback" not in r.output
    r = run(str(tmp_path))
    assert r.exit_code == 2 and "directory" in r.output


def test_exit_2_on_an_unreadable_config(tmp_path):
    p = write(tmp_path, AH01257_ENOENT)
    r = run(p, str(tmp_path / "missing.conf"), "--isolated")
    assert r.exit_code == 2 and "missing.conf" in r.output


def test_log_and_config_cannot_both_be_stdin():
    r = run("-", "-", input=b"")
    assert r.exit_code == 2


def test_json_report(tmp_path):
    r = run(log_path("exp-a2-host-dir-missing.log"), "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["version"] == 1 and doc["summary"]["failures"] == 3
    first, last = doc["diagnoses"][0], doc["diagnoses"][-1]
    assert (first["id"], first["value"], first["label"]) == ("AH01243", 2, "(2) ENOENT")
    assert first["rules"] == [{"code": "CG102", "name": "scriptsock-dir-missing", "implemented": True}]
    request = [d for d in doc["diagnoses"] if d["id"] == "AH01257"][0]
    assert request["explained_by"] == [{"id": "AH01243", "index": 1}]
    assert request["since_last_start"] is False
    assert last["count"] >= 1 and "config" not in doc


def test_a_large_log_is_streamed(tmp_path):
    lines = 200000
    filler = b"[Sun Nov 22 09:51:26 2026] [core:notice] [pid 1:tid 1] AH00094: Command line: 'apache2'\n"

    class Stream(object):
        def __iter__(self):
            for i in range(lines):
                yield AH01257_ENOENT if i % 1000 == 0 else filler

    t = time.time()
    diag = diagnose.read_log(Stream(), "big")
    elapsed = time.time() - t
    assert diag.lines == lines and diag.failures[0].count == lines // 1000
    assert elapsed < 30, elapsed


class _EndlessLine(io.RawIOBase):
    """A line of ``size`` bytes, then an AH01257 line: made on the
    fly, so only what the reader keeps is in memory."""

    def __init__(self, size):
        self.left = size
        self.tail = b"\n" + AH01257_ENOENT

    def readable(self):
        return True

    def readinto(self, buf):
        if self.left:
            n = min(len(buf), self.left)
            buf[:n] = b"\xc3" * n
            self.left -= n
            return n
        n = min(len(buf), len(self.tail))
        buf[:n] = self.tail[:n]
        self.tail = self.tail[n:]
        return n


def test_a_line_without_end_is_not_held_whole():
    """A log whose first 'line' is 64 MB of junk (a binary file, a dump
    appended by mistake): httpd writes lines from an 8 KB buffer, so no
    line needs to be kept whole; the next line is still read."""
    import tracemalloc
    tracemalloc.start()
    try:
        diag = diagnose.read_log(io.BufferedReader(_EndlessLine(64 << 20)), "junk")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    assert diag.lines == 2 and failures(diag) == {("AH01257", 2)} and diag.failures[0].first_line == 2


def test_access_log_lines_are_not_failures(tmp_path):
    """An access log given by mistake: an ID in a request or referer is no
    failure of the server, and the report says what the lines were."""
    access = (b'203.0.113.9 - - [22/Nov/2026:09:51:58 +0000] "GET /AH01257: HTTP/1.1" 404 196 '
              b'"http://example.com/AH01257:" "curl/8.5"\n'
              b'www.example.com:443 203.0.113.9 - alice [22/Nov/2026:09:51:59 +0000] "GET /cgi-bin/x?AH01257: '
              b'HTTP/1.1" 503 299 "-" "-"\n')
    r = run(write(tmp_path, access, "access.log"))
    assert r.exit_code == 0, r.output
    assert "AH01257" not in r.output and "2 access-log line(s)" in r.output
    r = run(write(tmp_path, access + AH01257_ENOENT, "mixed.log"), "--format", "json")
    doc = json.loads(r.output)
    assert r.exit_code == 1 and [d["id"] for d in doc["diagnoses"]] == ["AH01257"]
    assert doc["diagnoses"][0]["first_line"] == 3 and doc["access_log_lines"] == 2


# -- with the configuration -----------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="bind mounts need root")


def scriptsock_line(conf):
    with open(conf) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("ScriptSock"):
                return n
    raise AssertionError("no ScriptSock in %s" % conf)


def test_config_points_at_the_scriptsock_directive_for_enoent(experiment, tmp_path):
    conf = experiment("A")
    log = write(tmp_path, START + AH01257_ENOENT)
    r = run(log, conf, "--isolated", "--build", "debian")
    assert r.exit_code == 1, r.output
    assert "In CONFIG, the directive responsible:" in r.output
    assert "%s:%d:1: CG101 `ScriptSock " % (conf, scriptsock_line(conf)) in r.output
    doc = json.loads(run(log, conf, "--isolated", "--build", "debian", "--format", "json").output)
    found = doc["diagnoses"][0]["findings"]
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [("CG101", conf, scriptsock_line(conf))]
    assert doc["config"]["chroot_mode"] == "chrootdir"


def test_config_points_at_cg102_for_a_bind_failure(experiment, tmp_path):
    conf = experiment("A'")
    with open(log_path("exp-a2-host-dir-missing.log"), "rb") as f:
        data = f.read()
    r = run(write(tmp_path, data), conf, "--isolated", "--build", "debian")
    assert r.exit_code == 1
    block = r.output[r.output.index("1. AH01243"):r.output.index("2. ")]
    assert "%s:%d:1: CG102" % (conf, scriptsock_line(conf)) in block


@needs_root
def test_config_points_at_cg103_for_eacces(experiment, tmp_path):
    conf = experiment("G")
    r = run(write(tmp_path, AH01257_EACCES), conf, "--isolated", "--build", "debian")
    assert r.exit_code == 1, r.output
    assert "%s:%d:1: CG103" % (conf, scriptsock_line(conf)) in r.output
    assert "CG101" not in r.output.split("In CONFIG")[1]


def test_config_that_predicts_nothing_says_so_and_lists_checks(experiment, tmp_path):
    conf = experiment("C")     # the working jail-symlink layout: no CG1xx finding
    r = run(write(tmp_path, AH01257_ENOENT), conf, "--isolated", "--build", "debian")
    assert r.exit_code == 1
    assert "In CONFIG: no finding of CG101, CG102, CG104" in r.output
    assert "- while httpd runs, the socket" in r.output     # the cause outside the rules, to check by hand
    assert "- compare the directory in both views" not in r.output   # CG101 has just been checked


def test_a_log_from_another_configuration_is_noticed(experiment, tmp_path):
    conf = experiment("A")
    other = (b"[x] [cgid:error] [pid 3:tid 3] (2)No such file or directory: AH01243: Couldn't bind unix domain "
             b"socket /somewhere/else/cgisock.77\n")
    r = run(write(tmp_path, other), conf, "--isolated", "--build", "debian")
    assert "Note: the log names the socket /somewhere/else/cgisock.77" in r.output
    same = other.replace(b"/somewhere/else", (str(tmp_path) + "/run/cgid").encode())
    assert "Note: the log names" not in run(write(tmp_path, same, "same.log"), conf, "--isolated",
                                            "--build", "debian").output


def test_unimplemented_rules_are_named_as_such_with_config(experiment):
    conf = experiment("A")
    r = run(log_path("event-jail-without-libgcc.log"), conf, "--isolated", "--build", "debian")
    assert "In CONFIG: CG304 jail-runtime-library is not yet implemented. Check by hand:" in r.output \
        or "CG304" in registry()


def test_json_stays_utf8_when_the_config_quotes_shift_jis_bytes(experiment, tmp_path):
    conf = experiment("A")
    with open(conf, "rb") as f:
        data = f.read()
    # a Shift_JIS directory name in the socket path (missing on the host, so
    # CG102 predicts the line): the finding's message quotes it
    data = re.sub(rb"(ScriptSock [^\n]*)/cgisock", lambda m: m.group(1) + b"/\x95\x5c/cgisock", data)
    with open(conf, "wb") as f:
        f.write(data)
    log = write(tmp_path, START + AH01257_ENOENT)
    r = CliRunner().invoke(main, ["diagnose", log, conf, "--isolated", "--build", "debian", "--format", "json"])
    raw = r.stdout_bytes
    doc = json.loads(raw.decode("utf-8"))        # valid UTF-8, not raw 0x95
    found = doc["diagnoses"][0]["findings"]
    assert found and found[0]["rule"] == "CG102"
    assert "\udc95" in found[0]["message"]      # the byte survives, escaped
