"""The configuration file: discovery, precedence, per-path ignores, errors.

Findings come from a copy of the bundled example host (CG101 in
conf/httpd.conf) and from a small config-only file (CG004).
"""

import json
import os
import shutil
import string

import pytest
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st

from cgidlint.cli import main
from cgidlint.settings import PathPattern, SettingsError, discover, find_config_file, load_settings

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "host")

CG004_CONF = b"""ServerRoot "%s"
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
DirectoryIndex index.html # the default
"""


@pytest.fixture
def host(tmp_path):
    """A copy of the example host; returns (tree root, httpd config dir)."""
    root = tmp_path / "host"
    shutil.copytree(EXAMPLE, str(root), symlinks=True)
    return root, root / "etc" / "httpd"


def runner():
    # click < 8.2 mixes stderr into output unless told not to; 8.2 dropped the flag.
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def lint_json(args, cwd):
    old = os.getcwd()
    os.chdir(str(cwd))
    try:
        r = runner().invoke(main, list(args) + ["--format", "json"])
    finally:
        os.chdir(old)
    findings = json.loads(r.stdout)["findings"] if r.exit_code in (0, 1) else None
    return r, findings


def lint(args, cwd):
    old = os.getcwd()
    os.chdir(str(cwd))
    try:
        return runner().invoke(main, list(args))
    finally:
        os.chdir(old)


def rules_of(findings):
    return sorted({f["rule"] for f in findings})


def test_example_reports_cg101_without_configuration(host):
    root, conf = host
    r, findings = lint_json([str(conf)], root)
    assert r.exit_code == 1
    assert rules_of(findings) == ["CG101"]


def test_file_found_upward_from_the_working_directory(host):
    root, conf = host
    (root / ".cgidlint.toml").write_text('ignore = ["CG101"]\n')
    sub = root / "a" / "b"
    sub.mkdir(parents=True)
    r, findings = lint_json([str(conf)], sub)
    assert r.exit_code == 0 and findings == []


def test_pyproject_without_our_table_is_skipped_and_search_goes_on(host, tmp_path):
    root, conf = host
    (root / ".cgidlint.toml").write_text('ignore = ["CG1"]\n')
    inner = root / "proj"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.black]\nline-length = 100\n')
    assert find_config_file(str(inner)) == str(root / ".cgidlint.toml")
    r, findings = lint_json([str(conf)], inner)
    assert findings == []


def test_pyproject_table_is_read(host):
    root, conf = host
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.cgidlint]\nignore = ["CG101"]\n')
    r, findings = lint_json([str(conf)], root)
    assert r.exit_code == 0 and findings == []


def test_dot_file_wins_over_pyproject_in_the_same_directory(host):
    root, conf = host
    (root / "pyproject.toml").write_text('[tool.cgidlint]\nignore = ["CG101"]\n')
    (root / ".cgidlint.toml").write_text('fail-on = "error"\n')
    r, findings = lint_json([str(conf)], root)
    assert rules_of(findings) == ["CG101"]


def test_command_line_wins(host):
    root, conf = host
    (root / ".cgidlint.toml").write_text('select = ["CG0"]\nfail-on = "never"\n')
    r, findings = lint_json([str(conf)], root)
    assert findings == [] and r.exit_code == 0
    r, findings = lint_json([str(conf), "--select", "CG1"], root)
    assert rules_of(findings) == ["CG101"]
    assert r.exit_code == 0          # fail-on still from the file
    r, findings = lint_json([str(conf), "--select", "CG1", "--fail-on", "error"], root)
    assert r.exit_code == 1


def test_fail_on_from_the_file_sets_the_exit_code(tmp_path):
    conf = tmp_path / "httpd.conf"
    conf.write_bytes(CG004_CONF % str(tmp_path).encode())
    r, findings = lint_json([str(conf)], tmp_path)
    assert rules_of(findings) == ["CG004"] and findings[0]["severity"] == "warning"
    assert r.exit_code == 0
    (tmp_path / ".cgidlint.toml").write_text('fail-on = "warning"\n')
    r, _ = lint_json([str(conf)], tmp_path)
    assert r.exit_code == 1


def test_isolated_ignores_the_file(host):
    root, conf = host
    (root / ".cgidlint.toml").write_text('ignore = ["CG101"]\n')
    r, findings = lint_json([str(conf), "--isolated"], root)
    assert rules_of(findings) == ["CG101"]


def test_explicit_config_file(host, tmp_path):
    root, conf = host
    elsewhere = tmp_path / "ci" / "pyproject.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('[tool.cgidlint]\nignore = ["CG101"]\n')
    r, findings = lint_json([str(conf), "--config", str(elsewhere)], root)
    assert findings == []


@pytest.mark.parametrize("pattern, ignored", [
    ("etc/httpd/conf/httpd.conf", True),
    ("./etc/httpd/conf/httpd.conf", True),
    ("httpd.conf", True),              # no slash: a file name at any depth
    ("etc/httpd", True),               # a directory covers what is below it
    ("etc/*/conf/*.conf", True),
    ("etc/**/*.conf", True),
    ("etc/*.conf", False),             # * stays within one directory
    ("conf/httpd.conf", False),        # anchored to the file's directory
    ("sites/*.conf", False),
])
def test_per_path_ignores(host, pattern, ignored):
    root, conf = host
    (root / ".cgidlint.toml").write_text('[per-path-ignores]\n"%s" = ["CG101"]\n' % pattern)
    r, findings = lint_json([str(conf)], root)
    assert (findings == []) is ignored
    assert r.exit_code == (0 if ignored else 1)


def test_per_path_ignores_absolute_pattern(host):
    """An absolute pattern names the file wherever the settings file is,
    inside its directory too."""
    root, conf = host
    (root / ".cgidlint.toml").write_text('[per-path-ignores]\n"%s/*/httpd.conf" = ["CG101"]\n' % conf)
    r, findings = lint_json([str(conf)], root)
    assert r.exit_code == 0 and findings == []
    (root / ".cgidlint.toml").write_text('[per-path-ignores]\n"%s/*/other.conf" = ["CG101"]\n' % conf)
    r, findings = lint_json([str(conf)], root)
    assert r.exit_code == 1 and rules_of(findings) == ["CG101"]


def test_per_path_ignores_pattern_outside_the_settings_directory(host, tmp_path):
    """--config ci/.cgidlint.toml: the tree is beside it, named with '..'."""
    root, conf = host
    settings_file = tmp_path / "ci" / ".cgidlint.toml"
    settings_file.parent.mkdir()
    settings_file.write_text('[per-path-ignores]\n"../host/etc/httpd/conf/*.conf" = ["CG101"]\n')
    r, findings = lint_json([str(conf), "--config", str(settings_file)], root)
    assert r.exit_code == 0 and findings == []


def test_per_path_ignores_apply_to_fix(host):
    root, conf = host
    (root / ".cgidlint.toml").write_text('[per-path-ignores]\n"httpd.conf" = ["CG1"]\n')
    r = lint(["fix", str(conf)], root)
    assert r.exit_code == 0, r.output
    assert "CG101" not in r.output


def test_root_is_relative_to_the_configuration_file(tmp_path):
    # A config kept outside <jail>/etc/httpd: the jail cannot be inferred,
    # so its Include of /etc/httpd/extra.conf resolves on this host.
    jail = tmp_path / "jail"
    (jail / "srv").mkdir(parents=True)
    (jail / "etc" / "httpd").mkdir(parents=True)
    (jail / "etc" / "httpd" / "extra.conf").write_bytes(b"")
    conf = jail / "srv" / "httpd.conf"
    conf.write_bytes(b'ServerRoot "/etc/httpd"\nInclude extra.conf\n')
    r, findings = lint_json([str(conf)], tmp_path)
    assert rules_of(findings) == ["CG002"]
    (tmp_path / ".cgidlint.toml").write_text('root = "jail"\n')
    sub = tmp_path / "deep"
    sub.mkdir()
    assert discover(cwd=str(sub)).values["root"] == str(jail)
    r, findings = lint_json([str(conf)], sub)
    assert findings == [], r.output


def test_defines_from_the_file(tmp_path):
    conf = tmp_path / "httpd.conf"
    conf.write_bytes(b'ServerRoot "%s"\n<IfDefine WITH_EXTRA>\nInclude missing.conf\n</IfDefine>\n'
                     % str(tmp_path).encode())
    r, findings = lint_json([str(conf)], tmp_path)
    assert findings == []
    (tmp_path / ".cgidlint.toml").write_text('defines = ["WITH_EXTRA"]\n')
    r, findings = lint_json([str(conf)], tmp_path)
    assert rules_of(findings) == ["CG002"]
    # -D on the command line replaces the file's list
    r, findings = lint_json([str(conf), "-D", "OTHER"], tmp_path)
    assert findings == []


@pytest.mark.parametrize("content, named", [
    ('selct = ["CG1"]\n', "'selct'"),
    ('select = "CG101"\n', "'select'"),
    ('select = ["CG999"]\n', "'select'"),
    ('fail-on = "sometimes"\n', "'fail-on'"),
    ('build = "windows"\n', "'build'"),
    ('defines = [1]\n', "'defines'"),
    ('root = ""\n', "'root'"),
    ('[per-path-ignores]\n"x" = "CG101"\n', "per-path-ignores 'x'"),
    ('[per-path-ignores]\n"x" = ["XX1"]\n', "per-path-ignores 'x'"),
    ('[tool.cgidlint]\nselect = ["CG1"]\n', "'tool'"),
    ('select = [\n', "invalid TOML"),
])
def test_invalid_configuration_is_a_usage_error_naming_file_and_key(host, content, named):
    root, conf = host
    cfg = root / ".cgidlint.toml"
    cfg.write_text(content)
    r = lint([str(conf)], root)
    assert r.exit_code == 2
    assert str(cfg) in r.stderr and named in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stdout == ""


def test_non_utf8_configuration(host):
    root, conf = host
    (root / ".cgidlint.toml").write_bytes(b'# \x83\x5c\nselect = ["CG1"]\n')
    r = lint([str(conf)], root)
    assert r.exit_code == 2 and "UTF-8" in r.stderr


def test_missing_explicit_file(host):
    root, conf = host
    r = lint([str(conf), "--config", str(root / "nope.toml")], root)
    assert r.exit_code == 2 and "nope.toml" in r.stderr


def test_load_settings_raises_settings_error(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[project]\nname = "x"\n')
    with pytest.raises(SettingsError) as e:
        load_settings(str(p))
    assert "[tool.cgidlint]" in str(e.value)


# PathPattern properties: literal patterns match exactly that path and what
# is below it, whatever characters the names hold; * never crosses a /.

segment = st.text(alphabet=string.ascii_letters + string.digits + "._-+()$^{}|", min_size=1, max_size=8) \
    .filter(lambda s: s not in (".", ".."))


@hsettings(max_examples=200, deadline=None)
@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, min_size=0, max_size=2))
def test_literal_pattern_matches_itself_and_below_only(parts, below):
    pattern = "/".join(parts)
    pp = PathPattern(pattern)
    assert pp.matches(pattern)
    assert pp.matches("/".join(parts + below))
    assert not pp.matches(pattern + "x")
    assert not pp.matches("x" + pattern)
    if len(parts) == 1:
        assert pp.matches("dir/" + pattern)          # a bare name matches at any depth
    else:
        assert not pp.matches("dir/" + pattern)      # a pattern with / is anchored


@hsettings(max_examples=200, deadline=None)
@given(st.lists(segment, min_size=3, max_size=5))
def test_single_star_stays_in_one_directory_double_star_crosses(parts):
    path = "/".join(parts)
    one_level = PathPattern(parts[0] + "/*/" + parts[-1])
    assert PathPattern(parts[0] + "/**/" + parts[-1]).matches(path)
    # a/*/z matches a/b/z and what is below it, never a/b/c/z unless c is z
    assert one_level.matches(path) == (parts[2] == parts[-1])


def test_baseline_from_the_file_is_relative_to_it_and_can_be_rewritten(host):
    root, conf = host
    (root / ".cgidlint.toml").write_text('baseline = "ci/cgidlint-baseline.json"\n')
    (root / "ci").mkdir()
    sub = root / "etc"
    r = lint([str(conf)], sub)
    assert r.exit_code == 2 and "cgidlint-baseline.json" in r.stderr      # named but missing
    # --write-baseline with the configured path refreshes it
    r = lint([str(conf), "--write-baseline", str(root / "ci" / "cgidlint-baseline.json")], sub)
    assert r.exit_code == 0, r.stderr
    r, findings = lint_json([str(conf)], sub)
    assert r.exit_code == 0 and findings == []
    # another --write-baseline target still conflicts with a --baseline given on the command line
    shutil.copy(str(root / "ci" / "cgidlint-baseline.json"), str(root / "copy.json"))
    r = lint([str(conf), "--baseline", str(root / "copy.json"), "--write-baseline", str(root / "other.json")], sub)
    assert r.exit_code == 2
