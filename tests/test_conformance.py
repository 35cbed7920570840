"""The 98 parser cases: cgidlint's verdict and error line agree with the real
``apache2 -t`` run now (and with the verdicts recorded in the design docs)."""

import json
import os

import pytest

import conformance as c

CASES = c.load_cases()
RECORDED = {v["name"]: v for v in json.load(open(os.path.join(c.CASES_DIR, "httpd-verdicts.json")))}


def test_all_cases_present():
    assert len(CASES) == 98
    assert set(RECORDED) == set(name for name, _, _ in CASES)


@pytest.mark.httpd
@pytest.mark.parametrize("case", CASES, ids=[x[0] for x in CASES])
def test_case_agrees_with_real_httpd(case, tmp_path):
    d = c.materialise(case, str(tmp_path))
    rc, out = c.run_httpd(d, case[2])
    accepted, loc, errors = c.run_cgidlint(d, case[2])
    assert accepted == (rc == 0), (out, [e.message for e in errors])
    if rc != 0:
        assert loc == c.httpd_error_location(out), (out, [e.message for e in errors])
        # The message text is httpd's own (modulo the 8 KiB cut of include loops).
        ours = errors[0].httpd_output().replace("\\n", "\n")
        theirs = "\n".join(l for l in out if "AH00111" not in l).replace("\\n", "\n")
        assert ours[:300] in theirs or theirs.strip()[:300] in ours, (ours, theirs)


@pytest.mark.parametrize("case", CASES, ids=[x[0] for x in CASES])
def test_case_agrees_with_recorded_verdict(case, tmp_path):
    d = c.materialise(case, str(tmp_path))
    v = RECORDED[case[0]]
    accepted, loc, errors = c.run_cgidlint(d, case[2])
    assert accepted == (v["httpd_rc"] == 0)
    if not accepted:
        expected = [l.replace("$D", d) for l in v["httpd_output"]]
        assert loc == c.httpd_error_location(expected)
