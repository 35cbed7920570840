"""The evaluation cache (cgidlint/cache.py): a hit gives what a cold run
gives, and anything the build depended on invalidates it."""

import os
import shutil
import stat
import threading

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import jails
from cgidlint import cache, engine
from cgidlint.cli import main
from cgidlint.engine import Options
from cgidlint.evaluate.build import Builder
from cgidlint.lint import lint_path

from shared import CORPUS


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "cgidlint"


@pytest.fixture
def builds(monkeypatch):
    """How many times the engine really read a configuration."""
    count = {"n": 0}

    class CountingBuilder(Builder):
        def read_main(self, path):
            count["n"] += 1
            return Builder.read_main(self, path)

    monkeypatch.setattr(engine, "Builder", CountingBuilder)
    return count


def tree(tmp_path, extra=(), sites=("a", "b")):
    """A server with IncludeOptional'd site files, ${VAR}s and <IfDefine>."""
    root = str(tmp_path / "srv")
    conf = os.path.join(root, "conf", "httpd.conf")
    jails.write_config(conf, root, ["DefaultRuntimeDir %s/run" % root, "Define SITES %s/sites" % root,
                                    "IncludeOptional ${SITES}/*.conf",
                                    "<IfDefine EXTRA>", "DirectoryIndex extra.html # a trailing comment",
                                    "</IfDefine>", "ErrorLog ${CGIDLINT_TEST_LOG}"] + list(extra))
    os.makedirs(os.path.join(root, "run"))
    os.makedirs(os.path.join(root, "sites"))
    for name in sites:
        with open(os.path.join(root, "sites", name + ".conf"), "w") as f:
            f.write("<VirtualHost *:80>\n  ServerName %s.example\n  DirectoryIndex index.html # home\n"
                    "</VirtualHost>\n" % name)
    return conf


def lint(conf, use_cache=True, defines=(), **kw):
    project, findings = lint_path(conf, Options(cache=use_cache, defines=defines, **kw))
    return project, [f.to_dict() for f in findings]


def shape(config):
    """Everything about the evaluated tree that rules and reports can see."""
    out = []
    for d in config.root.walk(active_only=False):
        out.append((d.name, d.lname, d.args, d.file, d.line, d.column, d.text, d.kind, d.active, d.known,
                    d.seq if d.active else None, d.parent.name, d.close.line if d.close else None,
                    d.condition_true, list(d.targets), list(d.undefined_vars)))
    index = {k: [d.line for d in v] for k, v in config.index().items()}
    errors = [(e.code, e.message, e.file, e.line, e.column, e.phase, e.chain, e.severity)
              for e in config.errors + config.warnings]
    fields = (config.defines, config.variables, config.server_root, config.runtime_dir, config.modules,
              sorted(config.module_lines), config.unknown_modules, config.main_file, config.read_root,
              [(s.path, s.data, s.texts) for s in config.files])
    return out, index, errors, fields


def test_hit_gives_what_a_cold_run_gives(tmp_path, cache_home, builds, monkeypatch):
    monkeypatch.setenv("CGIDLINT_TEST_LOG", "/var/log/x")
    conf = tree(tmp_path)
    cold_project, cold = lint(conf, use_cache=False)
    assert builds["n"] == 1 and not cache_home.exists()
    lint(conf)                      # miss: writes the entry
    assert builds["n"] == 2 and os.listdir(str(cache_home))
    project, findings = lint(conf)  # hit
    assert builds["n"] == 2
    assert findings == cold and any(f["rule"] == "CG004" for f in findings)
    assert shape(project.config) == shape(cold_project.config)
    assert [(e.message, e.line) for e in project.walk_errors] == [(e.message, e.line) for e in
                                                                   cold_project.walk_errors]


def test_cache_dir_is_private(tmp_path, cache_home):
    lint(tree(tmp_path))
    assert stat.S_IMODE(os.stat(str(cache_home)).st_mode) == 0o700


@pytest.mark.parametrize("change", ["edit_site", "edit_main", "new_site", "remove_site", "define", "env",
                                    "runtime_dir_gone", "pre_directive", "site_becomes_dangling_link",
                                    "site_becomes_dir"])
def test_what_the_build_depends_on_invalidates(tmp_path, cache_home, builds, monkeypatch, change):
    monkeypatch.setenv("CGIDLINT_TEST_LOG", "/var/log/x")
    conf = tree(tmp_path)
    root = os.path.dirname(os.path.dirname(conf))
    lint(conf)
    before_project, _ = lint(conf)
    assert builds["n"] == 1
    kw = {}
    if change == "edit_site":
        # same size, same mtime: only the content tells
        site = os.path.join(root, "sites", "a.conf")
        st0 = os.stat(site)
        data = open(site, "rb").read().replace(b"# home", b"#-home")
        with open(site, "wb") as f:
            f.write(data)
        os.utime(site, ns=(st0.st_atime_ns, st0.st_mtime_ns))
    elif change == "edit_main":
        with open(conf, "a") as f:
            f.write("ServerAdmin admin@example.com # contact\n")
    elif change == "new_site":
        shutil.copy(os.path.join(root, "sites", "a.conf"), os.path.join(root, "sites", "c.conf"))
    elif change == "remove_site":
        os.unlink(os.path.join(root, "sites", "b.conf"))
    elif change == "define":
        kw["defines"] = ["EXTRA"]
    elif change == "env":
        monkeypatch.setenv("CGIDLINT_TEST_LOG", "/var/log/y")
    elif change == "runtime_dir_gone":
        os.rmdir(os.path.join(root, "run"))
    elif change == "pre_directive":
        kw["pre_directives"] = ["Define EXTRA"]
    elif change == "site_becomes_dangling_link":
        os.unlink(os.path.join(root, "sites", "b.conf"))
        os.symlink("/nonexistent/b.conf", os.path.join(root, "sites", "b.conf"))
    elif change == "site_becomes_dir":
        os.unlink(os.path.join(root, "sites", "b.conf"))
        os.makedirs(os.path.join(root, "sites", "b.conf"))
        shutil.copy(os.path.join(root, "sites", "a.conf"), os.path.join(root, "sites", "b.conf", "inner"))
    project, after = lint(conf, **kw)
    assert builds["n"] == 2
    cold_project, cold = lint(conf, use_cache=False, **kw)
    assert after == cold and shape(project.config) == shape(cold_project.config)
    lint(conf, **kw)
    assert builds["n"] == 3  # the new entry is used from then on
    assert shape(project.config) != shape(before_project.config)  # the change mattered


def test_unreferenced_environment_does_not_invalidate(tmp_path, cache_home, builds, monkeypatch):
    monkeypatch.setenv("CGIDLINT_TEST_LOG", "/var/log/x")
    conf = tree(tmp_path)
    lint(conf)
    monkeypatch.setenv("CGIDLINT_UNRELATED", "1")
    lint(conf)
    assert builds["n"] == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "directory"])
def test_a_damaged_entry_is_ignored_and_replaced(tmp_path, cache_home, builds, damage):
    conf = tree(tmp_path)
    _, cold = lint(conf)
    entry = [os.path.join(d, f) for d, _, fs in os.walk(str(cache_home)) for f in fs][0]
    data = open(entry, "rb").read()
    if damage == "directory":
        os.unlink(entry)
        os.mkdir(entry)
    else:
        new = {"truncate": data[:len(data) // 2], "flip": data[:-10] + bytes([data[-10] ^ 1]) + data[-9:],
               "garbage": os.urandom(len(data)), "empty": b""}[damage]
        with open(entry, "wb") as f:
            f.write(new)
    _, findings = lint(conf)
    assert findings == cold and builds["n"] == 2
    if damage != "directory":
        lint(conf)
        assert builds["n"] == 2  # rewritten, then used


def test_deleting_the_cache_dir_is_safe(tmp_path, cache_home, builds):
    conf = tree(tmp_path)
    _, cold = lint(conf)
    shutil.rmtree(str(cache_home))
    _, findings = lint(conf)
    assert findings == cold and builds["n"] == 2


def test_unusable_cache_dir_means_no_cache(tmp_path, cache_home, builds):
    conf = tree(tmp_path)
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("not a directory")
    _, cold = lint(conf)
    _, findings = lint(conf)
    assert findings == cold and builds["n"] == 2
    os.unlink(str(cache_home))
    cache_home.mkdir(mode=0o777)
    os.chmod(str(cache_home), 0o777)  # others could plant entries: not used
    lint(conf)
    lint(conf)
    assert builds["n"] == 4 and not os.listdir(str(cache_home))


def test_cli_no_cache_bypasses(tmp_path, cache_home, builds):
    conf = tree(tmp_path)
    runner = CliRunner()
    r1 = runner.invoke(main, [conf, "--no-cache", "--format", "json"])
    assert not cache_home.exists() and builds["n"] == 1
    r2 = runner.invoke(main, [conf, "--format", "json"])
    r3 = runner.invoke(main, [conf, "--format", "json"])
    assert builds["n"] == 2 and r1.output == r2.output == r3.output and r1.exit_code == r3.exit_code
    runner.invoke(main, [conf, "--no-cache"])
    assert builds["n"] == 3


def test_concurrent_runs_leave_a_whole_entry(tmp_path, cache_home):
    conf = tree(tmp_path, sites=["s%d" % i for i in range(30)])
    _, cold = lint(conf, use_cache=False)
    results = []

    def run():
        results.append(lint(conf)[1])

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == cold for r in results)
    assert not [f for d, _, fs in os.walk(str(cache_home)) for f in fs if f.startswith(".tmp-")]
    assert lint(conf)[1] == cold


def _corpus_configs():
    """(name, config path) for every server config in the corpus: a tree's
    main file, or its first config-looking file when it has no conventional
    one; plain files and .htaccess-only trees have no server config."""
    out = []
    for name in sorted(os.listdir(CORPUS)):
        top = os.path.join(CORPUS, name)
        if not os.path.isdir(top):
            continue
        try:
            out.append((name, engine.find_main_config(top)))
        except engine.UsageError:
            files = sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs
                           if f.endswith((".conf", ".conf.in")))
            if files:
                out.append((name, files[0]))
    return out


def test_corpus_has_server_configs():
    assert len(_corpus_configs()) >= 10


@pytest.mark.parametrize("name, top", _corpus_configs())
def test_corpus_round_trip(tmp_path, cache_home, name, top):
    """Every real tree evaluates to the same thing from the cache."""
    cold_project, cold = lint(top, use_cache=False)
    lint(top)
    project, findings = lint(top)
    assert findings == cold
    assert shape(project.config) == shape(cold_project.config)


lines = st.sampled_from([b"ServerName a", b"<IfDefine X>", b"</IfDefine>", b"<Directory />", b"</Directory>",
                         b"# c \\", b"Define X 1", b"UnDefine X", b"DirectoryIndex a # b", b"ErrorLog ${NOPE}",
                         b"  Require all granted", b"", b"Bogus", b"<IfModule nope>", b"</IfModule>",
                         b"Include \"/nonexistent/*.conf\"", b"\x00x"])


@settings(max_examples=60, deadline=None)
@given(st.lists(lines, max_size=12), st.sampled_from([b"\n", b"\r\n"]))
def test_any_config_round_trips(body, eol):
    import tempfile
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as d:
        os.environ["XDG_CACHE_HOME"] = os.path.join(d, "xdg")
        try:
            conf = os.path.join(d, "httpd.conf")
            with open(conf, "wb") as f:
                f.write(b"ServerRoot " + d.encode() + eol + eol.join(body) + eol)
            cold_project, cold = lint(conf, use_cache=False)
            lint(conf)
            project, findings = lint(conf)
            assert findings == cold and shape(project.config) == shape(cold_project.config)
        finally:
            if saved is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved


def test_old_entries_are_pruned(tmp_path, cache_home, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    confs = [tree(tmp_path / str(i)) for i in range(5)]
    for conf in confs:
        lint(conf)
    assert len(os.listdir(str(cache_home))) == 3


def test_every_per_node_attribute_is_cached():
    """Directive attributes kept in __dict__ (class-level defaults) are the
    ones the cache stores; a new one must be added to EXTRA_ATTRIBUTES."""
    from cgidlint.evaluate.model import Directive
    defaults = {k for k, v in vars(Directive).items()
                if not k.startswith("__") and not callable(v) and not isinstance(v, (property, type(Directive.name)))}
    assert defaults - {"_words"} == set(cache.EXTRA_ATTRIBUTES)


def test_stdin_bytes_are_an_input(tmp_path, cache_home, builds):
    conf = tree(tmp_path)
    data = open(conf, "rb").read()
    runner = CliRunner()

    def run(stdin, *extra):
        return runner.invoke(main, ["-", "--stdin-filename", conf, "--format", "json"] + list(extra), input=stdin)

    first, again = run(data), run(data)
    assert builds["n"] == 1 and first.output == again.output
    edited = data + b"ServerAdmin a@b # me\n"
    r = run(edited)
    assert builds["n"] == 2 and r.output == run(edited, "--no-cache").output != first.output


def test_envvars_file_values_are_inputs(tmp_path, cache_home, builds, monkeypatch):
    """Debian's envvars (read next to apache2.conf) feeds ${VAR}: editing it
    invalidates what used its values."""
    monkeypatch.delenv("CGIDLINT_TEST_LOG", raising=False)
    conf = tree(tmp_path)
    envvars = os.path.join(os.path.dirname(conf), "envvars")
    with open(envvars, "w") as f:
        f.write("export CGIDLINT_TEST_LOG=/var/log/a\n")
    project, _ = lint(conf)
    lint(conf)
    assert builds["n"] == 1
    with open(envvars, "w") as f:
        f.write("export CGIDLINT_TEST_LOG=/var/log/b\n")
    project2, _ = lint(conf)
    assert builds["n"] == 2
    assert [d.args for d in project2.config.directives("ErrorLog")] == [b"/var/log/b"]


def _files_under(top):
    return sorted(os.path.relpath(os.path.join(d, f), str(top)) for d, _, fs in os.walk(str(top)) for f in fs)


def test_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch, builds):
    """XDG: a relative XDG_CACHE_HOME is invalid and ignored; it must not put
    a cache into whatever directory the lint runs in (a CI checkout)."""
    conf = tree(tmp_path)
    workdir, home = tmp_path / "checkout", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    monkeypatch.chdir(str(workdir))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    monkeypatch.setenv("HOME", str(home))
    lint(conf)
    lint(conf)
    assert _files_under(workdir) == []
    assert builds["n"] == 1 and os.listdir(str(home / ".cache" / "cgidlint"))


def test_no_home_directory_means_no_cache(tmp_path, monkeypatch, builds):
    """A container user without HOME or passwd entry: expanduser gives '~'
    back; that is no reason to make ./~/.cache in the working directory."""
    conf = tree(tmp_path)
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    monkeypatch.chdir(str(workdir))
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)
    _, cold = lint(conf, use_cache=False)
    _, findings = lint(conf)
    assert findings == cold and _files_under(workdir) == []


def test_pruning_deletes_only_cache_entries(tmp_path, cache_home, monkeypatch):
    """The directory may hold other things (the scenario images keep a
    rootfs there; a user may have put notes there): pruning removes entries."""
    monkeypatch.setattr(cache, "MAX_ENTRIES", 1)
    cache_home.mkdir(parents=True, mode=0o700)
    for i in range(3):
        other = cache_home / ("notes%d.txt" % i)
        other.write_text("keep me")
        os.utime(str(other), (0, 0))  # older than any entry
    for i in range(3):
        lint(tree(tmp_path / str(i)))
    names = os.listdir(str(cache_home))
    assert sorted(n for n in names if n.startswith("notes")) == ["notes0.txt", "notes1.txt", "notes2.txt"]
    assert len(names) == 4


def test_cache_dir_symlink_of_another_user_is_not_used(tmp_path, cache_home, builds):
    """Someone else's symlink named cgidlint (in a shared XDG_CACHE_HOME such
    as /tmp) could point at any directory of ours: never write, nor prune, there."""
    target = tmp_path / "private"
    target.mkdir(mode=0o700)
    precious = target / "precious"
    precious.write_text("x")
    cache_home.parent.mkdir(parents=True)
    os.symlink(str(target), str(cache_home))
    os.lchown(str(cache_home), os.getuid() + 4242, -1)
    conf = tree(tmp_path)
    lint(conf)
    lint(conf)
    assert builds["n"] == 2 and os.listdir(str(target)) == ["precious"]


def test_cache_dir_symlink_of_our_own_is_used(tmp_path, cache_home, builds):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    cache_home.parent.mkdir(parents=True)
    os.symlink(str(target), str(cache_home))
    conf = tree(tmp_path)
    lint(conf)
    lint(conf)
    assert builds["n"] == 1 and os.listdir(str(target))


def test_unwritable_cache_changes_nothing(tmp_path, cache_home, monkeypatch):
    """A read-only cache (EROFS on every write): output and exit code are
    those of --no-cache."""
    import errno
    import tempfile

    def read_only(*args, **kw):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    conf = tree(tmp_path)
    runner = CliRunner()
    expected = runner.invoke(main, [conf, "--no-cache"])
    cache_home.mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    for _ in range(2):
        r = runner.invoke(main, [conf])
        assert (r.exit_code, r.output) == (expected.exit_code, expected.output)
        assert r.exception is None or isinstance(r.exception, SystemExit)
    assert os.listdir(str(cache_home)) == []


def _server(tmp_path, lines):
    root = str(tmp_path / "srv")
    conf = os.path.join(root, "conf", "httpd.conf")
    jails.write_config(conf, root, ["DefaultRuntimeDir %s/run" % root] + lines)
    os.makedirs(os.path.join(root, "run"))
    return root, conf


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _iffile_appears(root):
    _write(os.path.join(root, "flag"), "")


def _optional_dir_appears(root):
    _write(os.path.join(root, "later", "x.conf"), "ServerAdmin later@example.com\n")


def _glob_dir_component_gains_dir(root):
    _write(os.path.join(root, "vhosts", "b", "conf.d", "x.conf"), "ServerAdmin b@example.com\n")


def _included_dir_gains_first_file(root):
    _write(os.path.join(root, "inc", "00-first.conf"), "ServerAdmin first@example.com\n")


def _file_becomes_link_elsewhere(root):
    other = os.path.join(root, "other.conf")
    _write(other, "ServerAdmin other@example.com\n")
    os.unlink(os.path.join(root, "inc", "50-site.conf"))
    os.symlink(other, os.path.join(root, "inc", "50-site.conf"))


@pytest.mark.parametrize("change", [_iffile_appears, _optional_dir_appears, _glob_dir_component_gains_dir,
                                    _included_dir_gains_first_file, _file_becomes_link_elsewhere],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_existence_and_listing_questions_invalidate(tmp_path, cache_home, builds, change):
    """What <IfFile>, IncludeOptional of a directory, a wildcard in a
    directory component and a plain Include of a directory asked."""
    root, conf = _server(tmp_path, ["<IfFile flag>", "ServerAdmin flag@example.com", "</IfFile>",
                                    "IncludeOptional later", "IncludeOptional vhosts/*/conf.d/*.conf",
                                    "Include inc"])
    _write(os.path.join(root, "vhosts", "a", "conf.d", "x.conf"), "ServerAdmin a@example.com\n")
    _write(os.path.join(root, "inc", "50-site.conf"), "ServerAdmin site@example.com\n")
    lint(conf)
    before, _ = lint(conf)
    assert builds["n"] == 1
    change(root)
    after, findings = lint(conf)
    cold, cold_findings = lint(conf, use_cache=False)
    assert builds["n"] == 3 and findings == cold_findings
    assert shape(after.config) == shape(cold.config) != shape(before.config)


def test_server_root_created_later_switches_from_copy_to_live(tmp_path, cache_home, builds):
    """A tree whose ServerRoot is not on this machine is read as a copy; once
    that directory exists the same file means the live server."""
    checkout = tmp_path / "checkout"
    server_root = str(tmp_path / "later" / "srv")
    conf = jails.write_config(str(checkout / "conf" / "httpd.conf"), server_root,
                              ["DefaultRuntimeDir run"])
    lint(conf)
    copy, _ = lint(conf)
    assert builds["n"] == 1 and not copy.live
    os.makedirs(os.path.join(server_root, "run"))
    live, findings = lint(conf)
    cold, cold_findings = lint(conf, use_cache=False)
    assert builds["n"] == 3 and live.live and findings == cold_findings
    assert shape(live.config) == shape(cold.config)


def test_httpd_V_output_is_an_input(tmp_path, cache_home, builds):
    """--httpd: what `BINARY -V` says decides the build (its built-in
    modules): a different binary's answer is not served from the entry."""
    root, conf = _server(tmp_path, ["<IfModule unixd_module>", "ServerAdmin unixd@example.com", "</IfModule>"])
    fake = str(tmp_path / "httpd")

    def fake_httpd(httpd_root):
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ncat <<'END'\nServer version: Apache/2.4.62 (Unix)\nServer MPM:     event\n"
                    "Server compiled with....\n -D HTTPD_ROOT=\"%s\"\n -D SERVER_CONFIG_FILE=\"conf/httpd.conf\"\n"
                    "END\n" % httpd_root)
        os.chmod(fake, 0o755)

    fake_httpd("/etc/httpd")  # a Red Hat build: unixd is a module there
    lint(conf, httpd=fake)
    first, _ = lint(conf, httpd=fake)
    assert builds["n"] == 1
    fake_httpd("/usr/local/apache2")  # built from source: unixd built in
    second, findings = lint(conf, httpd=fake)
    cold, cold_findings = lint(conf, use_cache=False, httpd=fake)
    assert first.build != second.build == cold.build
    assert findings == cold_findings and shape(second.config) == shape(cold.config) != shape(first.config)


def test_httpd_version_decides_ifversion_and_is_an_input(tmp_path, cache_home, builds):
    """<IfVersion> is tested against the binary's version (--httpd), and a
    binary of another version is not served the entry of the first."""
    root, conf = _server(tmp_path, ["<IfVersion < 2.4.10>", "Include missing-on-old-builds.conf",
                                    "</IfVersion>"])
    fake = str(tmp_path / "httpd")

    def fake_httpd(version):
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ncat <<'END'\nServer version: Apache/%s (Unix)\nServer MPM:     event\n"
                    "Server compiled with....\n -D HTTPD_ROOT=\"/usr/local/apache2\"\n"
                    " -D SERVER_CONFIG_FILE=\"conf/httpd.conf\"\nEND\n" % version)
        os.chmod(fake, 0o755)

    def rules(findings):
        return sorted(f["rule"] for f in findings)

    assert "CG002" not in rules(lint(conf, use_cache=False)[1])       # no --httpd: 2.4.71
    fake_httpd("2.4.6")
    assert "CG002" in rules(lint(conf, use_cache=False, httpd=fake)[1])
    lint(conf, httpd=fake)
    assert "CG002" in rules(lint(conf, httpd=fake)[1])
    fake_httpd("2.4.62")
    assert "CG002" not in rules(lint(conf, httpd=fake)[1])
