#!/usr/bin/env python3
"""Build dist/cgidlint.pyz: cgidlint as one file that runs on any Python >= 3.8.

    python3 tools/build_zipapp.py [-o dist/cgidlint.pyz]
    scp dist/cgidlint.pyz host: && ssh host python3 cgidlint.pyz /etc/httpd

The archive holds the cgidlint package (without cgidlint/scenarios, which
needs docker) and pure-Python wheels of its runtime dependencies
(pyproject.toml ``[project] dependencies``, markers ignored so that one
archive serves every Python version), chosen by pip for the oldest Python
cgidlint supports.  The wheels are kept in build/zipapp-wheels/ and
reused without the network on later builds (``--refresh`` fetches them
again).

The archive is reproducible: entries sorted, fixed timestamps and modes,
so the same sources and wheels give the same bytes.
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipapp
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUTPUT = os.path.join(REPO, "dist", "cgidlint.pyz")
DEFAULT_WHEELS = os.path.join(REPO, "build", "zipapp-wheels")
OLDEST_PYTHON = "3.8"
INTERPRETER = "/usr/bin/env python3"
# 1980-01-01, the earliest time a zip entry can carry: nothing of the build's
# own clock ends up in the archive.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EXCLUDED_PACKAGES = ("cgidlint/scenarios/",)

# Written so that any Python can read it: an old one gets a usage error
# (exit 2) instead of a SyntaxError from deep inside the package.
MAIN_PY = b"""\
# Entry point of cgidlint.pyz (tools/build_zipapp.py).
import sys

if sys.version_info < (3, 8):
    sys.stderr.write("cgidlint: error: cgidlint.pyz needs Python >= 3.8; this is %s (%s)\\n"
                     % (sys.version.split()[0], sys.executable))
    sys.exit(2)

from cgidlint.cli import main

sys.exit(main())
"""

# cgidlint's CLI reports an ImportError of the scenarios as a usage error
# (exit 2) with this text in it.
SCENARIOS_STUB = b'''\
"""Not bundled: the scenarios drive docker and real httpd."""

raise ImportError("cgidlint.pyz does not include the scenarios (they need docker and pytest-testinfra); "
                  "install cgidlint with pip on a machine that can run them")
'''


class BuildError(Exception):
    pass


def runtime_requirements(pyproject=os.path.join(REPO, "pyproject.toml")):
    """The ``[project] dependencies`` of pyproject.toml, without their markers."""
    with open(pyproject, "rb") as f:
        data = f.read()
    try:
        import tomllib as toml  # novm
    except ImportError:
        import tomli as toml
    deps = toml.loads(data.decode("utf-8"))["project"].get("dependencies", [])
    return [d.split(";", 1)[0].strip() for d in deps]


def _pip(args):
    cmd = [sys.executable, "-m", "pip"] + args[:1] + [
        "--quiet", "--disable-pip-version-check", "--only-binary=:all:", "--python-version", OLDEST_PYTHON,
        "--implementation", "py", "--abi", "none", "--platform", "any"] + args[1:]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def install_dependencies(requirements, target, wheel_dir=DEFAULT_WHEELS, refresh=False):
    """Install pure-Python wheels (``py3-none-any``) of ``requirements`` and
    their dependencies, as chosen for the oldest supported Python, into
    ``target``; from ``wheel_dir`` when it has them, else from the index
    (keeping the downloads in ``wheel_dir``)."""
    if not os.path.isdir(wheel_dir):
        os.makedirs(wheel_dir)
    if refresh:
        for name in os.listdir(wheel_dir):
            if name.endswith(".whl"):
                os.remove(os.path.join(wheel_dir, name))
    install = ["install", "--no-compile", "--no-index", "--find-links", wheel_dir, "--target", target]
    result = _pip(install + list(requirements))
    if result.returncode != 0:
        download = _pip(["download", "--dest", wheel_dir] + list(requirements))
        if download.returncode != 0:
            raise BuildError("pip download of %s failed:\n%s" % (", ".join(requirements),
                                                                 download.stdout.decode("utf-8", "replace")))
        result = _pip(install + list(requirements))
    if result.returncode != 0:
        raise BuildError("pip install of %s failed:\n%s" % (", ".join(requirements),
                                                            result.stdout.decode("utf-8", "replace")))


def package_files(package_dir=os.path.join(REPO, "cgidlint")):
    """(archive name, bytes) of the cgidlint package, without the excluded parts."""
    out = []
    for dirpath, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            arcname = os.path.relpath(path, os.path.dirname(package_dir)).replace(os.sep, "/")
            if arcname.startswith(EXCLUDED_PACKAGES):
                continue
            with open(path, "rb") as f:
                out.append((arcname, f.read()))
    out.append(("cgidlint/scenarios/__init__.py", SCENARIOS_STUB))
    # zipimport does not find namespace packages (a directory without
    # __init__.py): give each one an empty __init__.py in the archive.
    names = set(n for n, _ in out)
    for package in sorted(set(n.rsplit("/", 1)[0] for n in names if n.endswith(".py"))):
        if package + "/__init__.py" not in names:
            out.append((package + "/__init__.py", b""))
    return out


def tree_files(top):
    """(archive name, bytes) of the files under ``top`` (installed dependencies),
    which must all be pure Python."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", "bin"))
        for name in filenames:
            path = os.path.join(dirpath, name)
            arcname = os.path.relpath(path, top).replace(os.sep, "/")
            if name.endswith((".so", ".pyd", ".dylib")):
                raise BuildError("%s is not pure Python" % arcname)
            with open(path, "rb") as f:
                out.append((arcname, f.read()))
    return out


def archive_bytes(files):
    """A zip of ``files`` with sorted entries, fixed dates and modes."""
    names = [n for n, _ in files]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise BuildError("two sources for %s" % ", ".join(duplicates))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def build(output=DEFAULT_OUTPUT, wheel_dir=DEFAULT_WHEELS, refresh=False):
    """Write the zipapp to ``output``; returns the vendored distributions (name-version)."""
    staging = tempfile.mkdtemp(prefix="cgidlint-zipapp-")
    try:
        install_dependencies(runtime_requirements(), staging, wheel_dir, refresh)
        vendored = sorted(n[:-len(".dist-info")] for n in os.listdir(staging) if n.endswith(".dist-info"))
        files = package_files() + [("__main__.py", MAIN_PY)] + tree_files(staging)
    finally:
        shutil.rmtree(staging)
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    tmp = output + ".tmp"
    # zipapp adds the shebang and the executable bit to the prepared archive.
    zipapp.create_archive(io.BytesIO(archive_bytes(files)), tmp, interpreter=INTERPRETER)
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    return vendored


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="default: dist/cgidlint.pyz")
    parser.add_argument("--wheels", default=DEFAULT_WHEELS, metavar="DIR",
                        help="where the dependency wheels are kept (default: build/zipapp-wheels)")
    parser.add_argument("--refresh", action="store_true", help="download the dependency wheels again")
    args = parser.parse_args(argv)
    try:
        vendored = build(args.output, args.wheels, args.refresh)
    except BuildError as e:
        print("build_zipapp: %s" % e, file=sys.stderr)
        return 2
    print("%s (%d bytes; vendored: %s)" % (os.path.relpath(args.output), os.path.getsize(args.output),
                                           ", ".join(vendored)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
