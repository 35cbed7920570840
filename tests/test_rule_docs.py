"""docs/rules/: one generated page per rule, whose examples behave as documented.

The pages come from the rule docstrings (tools/gen_rule_docs.py); the
examples in them are run here: the failing one must report its rule, the
passing one nothing.
"""

import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cgidlint.cli import main
from cgidlint.rules import registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import gen_rule_docs as docs  # noqa: E402

CODES = list(registry())


@pytest.mark.parametrize("code", CODES)
def test_every_rule_has_a_page(code):
    assert os.path.isfile(os.path.join(docs.DOCS_DIR, code + ".md")), \
        "no docs/rules/%s.md: run python3 tools/gen_rule_docs.py" % code


def test_pages_match_the_docstrings():
    assert docs.stale_files() == [], "run python3 tools/gen_rule_docs.py"


@pytest.mark.parametrize("code", CODES)
def test_docstring_has_every_heading(code):
    assert docs.missing_headings(registry()[code].doc()) == []


@pytest.mark.parametrize("code", CODES)
def test_failing_example_reports_the_rule(code):
    rule = registry()[code]
    failing, _ = docs.examples(rule)
    assert docs.check_failing(rule, failing) == []


@pytest.mark.parametrize("code", CODES)
def test_passing_example_reports_nothing(code):
    rule = registry()[code]
    _, passing = docs.examples(rule)
    if docs.needs_root(passing) and os.geteuid() != 0:
        if os.environ.get("CGIDLINT_REQUIRE_SCENARIOS") == "1":
            pytest.fail("the example chowns to root: CI must run the tests as root")
        pytest.skip("the example chowns to root")
    assert docs.check_passing(rule, passing) == []


@pytest.mark.parametrize("code", CODES)
def test_explain_prints_the_page_body(code):
    rule = registry()[code]
    r = CliRunner().invoke(main, ["explain", code])
    assert r.exit_code == 0
    assert rule.doc() in r.output


def test_page_links_back_to_the_index():
    rule = registry()["CG101"]
    page = docs.render(rule)
    assert page.splitlines()[1] == "# CG101 scriptsock-split-view"
    assert "(README.md)" in page and "**Severity:** error" in page
    index = docs.render_index(list(registry().values()))
    assert "| [CG101](CG101.md) | scriptsock-split-view | error |" in index


# -- the checker itself must catch what it is for --------------------------

def _rule_with_doc(base_code, doc):
    base = registry()[base_code]
    return type("Doc" + base.__name__, (base,), {"__doc__": doc})


_CG103_DOC = """
## What it does
x
## Why is this bad?
x
## httpd says
x
## Example
```sh
mkdir -p /var/chroot/var/run/cgid /var/run
ln -s /var/chroot/var/run/cgid /var/run/cgid
chmod 0700 /var/chroot/var/run
```
```apache
ServerRoot /etc/httpd
LoadModule unixd_module modules/mod_unixd.so
LoadModule alias_module modules/mod_alias.so
LoadModule cgid_module modules/mod_cgid.so
User daemon
ChrootDir /var/chroot
ScriptSock /var/run/cgid/cgisock
ScriptAlias /cgi-bin/ /var/www/cgi-bin/
```

Use instead:
%s

## Fix
x
"""


def test_checker_rejects_a_passing_example_that_still_fails():
    rule = _rule_with_doc("CG103", _CG103_DOC % "```sh\nchmod 0750 /var/chroot/var/run\n```")
    failing, passing = docs.examples(rule)
    assert docs.check_failing(rule, failing) == []
    problems = docs.check_passing(rule, passing)
    assert len(problems) == 1 and "CG103" in problems[0]


def test_checker_rejects_a_failing_example_that_passes():
    rule = _rule_with_doc("CG103", _CG103_DOC.replace("chmod 0700", "chmod 0711") % "```sh\n```")
    failing, _ = docs.examples(rule)
    assert "does not report CG103" in docs.check_failing(rule, failing)[0]


def test_checker_rejects_a_failing_example_with_other_findings():
    rule = _rule_with_doc("CG103", _CG103_DOC.replace("User daemon", "User daemon\nBogusDirective 1") % "")
    failing, _ = docs.examples(rule)
    problems = docs.check_failing(rule, failing)
    assert any("other rules" in p and "CG001" in p for p in problems)


def test_passing_example_inherits_setup_config_and_command():
    doc = _CG103_DOC.replace("```sh\nmkdir", "```console\n$ cgidlint --shared-dir /x /etc/httpd\n```\n```sh\nmkdir")
    rule = _rule_with_doc("CG103", doc % "```sh\nchmod o+x /var/chroot/var/run\n```")
    failing, passing = docs.examples(rule)
    assert passing.setup == failing.setup + ["chmod o+x /var/chroot/var/run"]
    assert passing.config == failing.config and passing.args == failing.args == ["--shared-dir", "/x"]


@pytest.mark.parametrize("use_instead, message", [
    ("```console\n$ apachectl -t\n```", "the command must be"),
    ("```sh\nrm -rf /var\n```", "unsupported command"),
    ("```sh\nmkdir relative/dir\n```", "paths in ```sh blocks are absolute"),
    ("```apache\nA\n```\n```apache\nB\n```", "more than one ```apache block"),
])
def test_unsupported_examples_are_errors(use_instead, message):
    rule = _rule_with_doc("CG103", _CG103_DOC % use_instead)
    with pytest.raises(docs.ExampleError) as e:
        _, passing = docs.examples(rule)
        docs.lint_example(passing)
    assert message in str(e.value)


def test_missing_use_instead_is_a_missing_heading():
    doc = (_CG103_DOC % "").replace("Use instead:", "Better:")
    assert docs.missing_headings(doc) == ["Use instead:"]
    assert docs.missing_headings(doc.replace("## Fix", "## Remedy")) == ["## Fix", "Use instead:"]


def test_encoding_attribute_writes_those_bytes():
    rule = _rule_with_doc("CG005", _CG103_DOC.replace("```apache", "```apache encoding=shift_jis", 1)
                          .replace("ServerRoot /etc/httpd", "# \u8868") % "")
    failing, _ = docs.examples(rule)
    assert failing.config.startswith(b"# \x95\x5c\n")


def test_stale_and_extra_pages_are_found(tmp_path):
    d = str(tmp_path)
    for name, text in docs.expected_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert docs.stale_files(d) == []
    (tmp_path / "CG101.md").write_text("# edited by hand\n")
    (tmp_path / "CG999.md").write_text("# a rule that is gone\n")
    os.remove(str(tmp_path / "CG001.md"))
    assert sorted(docs.stale_files(d)) == ["CG001.md", "CG101.md", "CG999.md"]
    docs.write(d)
    assert docs.stale_files(d) == []


_SPECS = st.one_of(
    st.integers(0, 0o7777).map(lambda m: "%04o" % m),
    st.builds(lambda who, op, what: who + op + what,
              st.sampled_from(["u", "g", "o", "a", "ug", "go", "uo"]), st.sampled_from("+-="),
              st.sampled_from(["r", "w", "x", "rx", "rwx", "t", "wt", "xt"])),
)


@settings(max_examples=60, deadline=None)
@given(old=st.integers(0, 0o7777), spec=_SPECS)
def test_chmod_modes_match_chmod(tmp_path_factory, old, spec):
    path = str(tmp_path_factory.mktemp("chmod") / "f")
    open(path, "w").close()
    os.chmod(path, old)
    subprocess.check_call(["chmod", spec, path])
    assert docs._new_mode(spec, old) == stat.S_IMODE(os.stat(path).st_mode), (oct(old), spec)
