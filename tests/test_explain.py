"""``cgidlint explain`` for rules and for httpd log IDs (cgidlint/logcodes.py),
and the log-ID knowledge checked against the rule catalogue (rules.md)."""

import os
import re

import pytest
from click.testing import CliRunner

from cgidlint import logcodes
from cgidlint.cli import main
from cgidlint.diagnose import parse_line
from cgidlint.rules import registry
from shared import SHARED

RULES_MD = os.path.join(SHARED, "design", "rules.md")


def explain(code):
    return CliRunner().invoke(main, ["explain", code])


def catalogue():
    """rules.md's tables: code -> (name, "httpd says" column)."""
    if not os.path.exists(RULES_MD):
        pytest.skip("rules.md not found (set CGIDLINT_SHARED)")
    rows = {}
    with open(RULES_MD, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and re.match(r"^CG\d{3}$", cells[0]):
                rows[cells[0]] = (cells[1], cells[-1])
    return rows


def sections(text):
    """The explain text cut at its variant headings: heading -> body."""
    out, current = {}, None
    for line in text.splitlines():
        if re.match(r"^(\(\d+\) \w+|Signal \d+.*|Any other \w+):$", line):
            current = line[:-1]
            out[current] = []
        elif line and not line.startswith(" "):
            current = None
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


@pytest.mark.parametrize("key", list(logcodes.CODES))
def test_every_known_log_id_explains(key):
    code = logcodes.CODES[key]
    r = explain(key)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("%s: %s" % (key, code.title))
    assert "Predicted by" in r.output and "Likely causes" in r.output
    for rule in code.rules:
        assert rule in r.output


@pytest.mark.parametrize("key", list(logcodes.CODES))
def test_each_documented_format_is_recognised_as_its_id(key):
    code = logcodes.CODES[key]
    parsed = parse_line(code.formats[0])
    assert parsed.code is code, (key, code.formats[0])


@pytest.mark.parametrize("spelling", ["AH01257", "ah01257", "01257", "1257", "AH01257:", " AH01257 "])
def test_ah_codes_are_found_however_written(spelling):
    assert logcodes.lookup(spelling) is logcodes.CODES["AH01257"]
    r = explain(spelling)
    assert r.exit_code == 0 and r.output.startswith("AH01257:")


@pytest.mark.parametrize("spelling", ["libgcc_s", "LIBGCC_S", "libgcc_s.so.1", "pthread_exit"])
def test_libgcc_message_has_a_name(spelling):
    r = explain(spelling)
    assert r.exit_code == 0
    assert "libgcc_s.so.1 must be installed for pthread_exit to work" in r.output
    assert "CG304" in r.output


def test_ah00051_is_the_coredump_variant_of_ah00052():
    assert logcodes.lookup("AH00051") is logcodes.CODES["AH00052"]
    parsed = parse_line("[core:notice] [pid 1:tid 1] AH00051: child pid 7 exit signal Aborted (6), "
                        "possible coredump in /jail/core")
    assert parsed.code.key == "AH00052" and parsed.variant == 6


def test_ah01257_enoent_and_eacces_name_different_rules():
    text = explain("AH01257").output
    parts = sections(text)
    enoent, eacces = parts["(2) ENOENT"], parts["(13) EACCES"]
    for rule in ("CG101", "CG102", "CG104"):
        assert rule in enoent and rule not in eacces
    assert "CG103" in eacces and "CG103" not in enoent
    # and the summary says which errno each rule predicts
    summary = text[text.index("Predicted by:"):]
    assert re.search(r"\(2\) ENOENT: .*CG101", summary)
    assert re.search(r"\(13\) EACCES: .*CG103", summary)


def test_unknown_code_exits_2_and_lists_what_is_known():
    r = explain("AH99999")
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "AH99999" in r.output
    assert "CG101" in r.output and "AH01257" in r.output and "libgcc_s" in r.output


def test_rule_explain_still_prints_its_doc_and_the_log_ids_it_predicts():
    r = explain("CG101")
    rule = registry()["CG101"]
    assert r.exit_code == 0 and rule.doc() in r.output
    assert "AH01257" in r.output.split(rule.doc())[1]


def test_a_catalogue_rule_not_implemented_says_so():
    planned = [c for c in logcodes.CATALOGUE_NAMES if c not in registry()]
    if not planned:
        pytest.skip("every catalogue rule is implemented")
    code = planned[0]
    r = explain(code)
    assert r.exit_code == 0
    assert "not yet implemented" in r.output and logcodes.CATALOGUE_NAMES[code] in r.output


def test_rules_not_in_the_registry_are_marked_not_yet_implemented():
    reg = registry()
    for key, code in logcodes.CODES.items():
        text = logcodes.explain_text(code, reg)
        for rule in code.rules:
            marked = "%s %s (not yet implemented)" % (rule, logcodes.CATALOGUE_NAMES.get(rule, "?"))
            assert (marked in text) == (rule not in reg), (key, rule)


def test_every_rule_named_by_a_log_id_is_in_the_catalogue():
    rows = catalogue()
    for key, code in logcodes.CODES.items():
        for rule in code.rules:
            assert rule in rows, (key, rule)
    for rule, name in logcodes.CATALOGUE_NAMES.items():
        assert rows[rule][0] == name, rule


def test_implemented_rules_have_their_catalogue_names():
    rows = catalogue()
    for code, rule in registry().items():
        if code in rows:
            assert rows[code][0] == rule.name


def test_every_log_id_the_catalogue_quotes_names_that_rule():
    """rules.md's "httpd says" column and logcodes agree: an AH ID (or the
    libgcc_s message) quoted for a rule lists that rule among its causes."""
    for rule, (_, says) in catalogue().items():
        keys = ["AH" + n for n in re.findall(r"AH(\d{5})", says)]
        if "libgcc_s" in says:
            keys.append("libgcc_s")
        for key in keys:
            code = logcodes.lookup(key)
            assert code is not None, (rule, key)
            assert rule in code.rules, (rule, key)


def test_every_log_id_an_implemented_rule_predicts_names_that_rule():
    for code, rule in registry().items():
        for n in re.findall(r"AH(\d{5})", rule.predicts or ""):
            entry = logcodes.lookup(n)
            assert entry is not None and code in entry.rules, (code, n)
