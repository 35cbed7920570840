"""Container images for the docker backend.

    python3 -m cgidlint.scenarios.images build debian12 [--force]
    python3 -m cgidlint.scenarios.images list

``debian12`` builds with no registry at all: ``debootstrap`` writes a root
filesystem into the cache directory (``$CGIDLINT_CACHE``, else
``$XDG_CACHE_HOME/cgidlint``, else ``/var/cache/cgidlint``; never the git
tree), the tarball is imported with the docker SDK as
``cgidlint/debian12:base`` and ``docker/debian12/Dockerfile`` is built on top
as ``cgidlint/debian12:latest``.  ``centos7`` and ``rocky9`` are plain
Dockerfiles (``docker/<name>/Dockerfile``) for machines that can pull their
base image; everything after the image is the same code path.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import toml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"

# What the scenario code needs to know about each platform. Only this differs
# between images; the scenario logic is the same everywhere.
PROFILES = {
    "debian12": {
        "httpd": "/usr/sbin/apache2",
        "modules": "/usr/lib/apache2/modules",
        "user": "www-data",
        "group": "www-data",
    },
    "centos7": {
        "httpd": "/usr/sbin/httpd",
        "modules": "/usr/lib64/httpd/modules",
        "user": "apache",
        "group": "apache",
    },
    "rocky9": {
        "httpd": "/usr/sbin/httpd",
        "modules": "/usr/lib64/httpd/modules",
        "user": "apache",
        "group": "apache",
    },
}

IMAGE_NAMES = tuple(PROFILES)


def image_tag(name):
    return "cgidlint/%s:latest" % name


def cache_dir():
    env = os.environ.get("CGIDLINT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "cgidlint"
    return Path("/var/cache/cgidlint")


def log(msg):
    print("[images] %s" % msg, flush=True)


def host_debian_mirror():
    """The Debian mirror this host's apt uses, or deb.debian.org."""
    paths = [Path("/etc/apt/sources.list")]
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        paths += sorted(d.iterdir())
    for p in paths:
        try:
            text = p.read_text(errors="replace")
        except OSError:
            continue
        # deb822 (.sources): URIs + Suites containing bookworm and not -security
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and re.search(r"\bbookworm\b", suites.group(1)) \
                    and "security" not in uris.group(1):
                return uris.group(1)
        for line in text.splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line)
            if m and "security" not in m.group(1):
                return m.group(1)
    return "http://deb.debian.org/debian"


def _client():
    import docker  # only here: the lint path never imports docker
    return docker.from_env()


def image_exists(client, tag):
    import docker
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def _run(cmd, **kw):
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def build_debian12_base(client, force=False):
    tag = "cgidlint/debian12:base"
    if image_exists(client, tag) and not force:
        log("%s exists, skipping (use --force to rebuild)" % tag)
        return tag
    spec = toml.load_path(DOCKER_DIR / "debian12" / "base.toml")
    cache = cache_dir() / "debian12"
    rootfs = cache / "rootfs"
    tarball = cache / "rootfs.tar"
    marker = rootfs / ".cgidlint-complete"
    cache.mkdir(parents=True, exist_ok=True)
    if force or not marker.exists():
        if rootfs.exists():
            shutil.rmtree(rootfs)
        mirror = spec.get("mirror") or host_debian_mirror()
        t0 = time.time()
        _run(["debootstrap", "--variant=%s" % spec["variant"],
              "--include=%s" % ",".join(spec["include"]),
              spec["suite"], str(rootfs), mirror])
        # Same package versions as the host: add updates + security, upgrade.
        lines = ["deb %s %s main" % (mirror, s)
                 for s in [spec["suite"]] + list(spec.get("extra_suites", []))]
        if spec.get("security"):
            lines.append("deb %s main" % spec["security"])
        (rootfs / "etc/apt/sources.list").write_text("\n".join(lines) + "\n")
        shutil.copy("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run(["chroot", str(rootfs), "apt-get", "update", "-q"], env=env)
        _run(["chroot", str(rootfs), "apt-get", "-y", "-q", "upgrade"], env=env)
        _run(["chroot", str(rootfs), "apt-get", "clean"], env=env)
        for junk in ("var/lib/apt/lists",):
            p = rootfs / junk
            if p.is_dir():
                for child in p.iterdir():
                    if child.is_file():
                        child.unlink()
        marker.write_text("built %s\n" % time.ctime())
        log("debootstrap done in %.0f s" % (time.time() - t0))
    if force or not tarball.exists() or tarball.stat().st_mtime < marker.stat().st_mtime:
        log("taring %s -> %s" % (rootfs, tarball))
        _run(["tar", "-C", str(rootfs), "--numeric-owner",
              "--exclude=./.cgidlint-complete", "--exclude=./proc/*",
              "--exclude=./sys/*", "-cf", str(tarball), "."])
    log("importing %s as %s" % (tarball, tag))
    client.api.import_image_from_file(str(tarball), repository="cgidlint/debian12", tag="base")
    return tag


def build_dockerfile(client, name, force=False):
    tag = image_tag(name)
    if image_exists(client, tag) and not force:
        log("%s exists, skipping (use --force to rebuild)" % tag)
        return tag
    ctx = DOCKER_DIR / name
    log("docker build %s -> %s" % (ctx, tag))
    # pull=False: debian12's FROM is the locally imported base.
    for chunk in client.api.build(path=str(ctx), tag=tag, rm=True, pull=False,
                                  decode=True, forcerm=True):
        if "stream" in chunk:
            sys.stdout.write(chunk["stream"])
        elif "error" in chunk:
            raise RuntimeError("docker build %s failed: %s" % (name, chunk["error"]))
    sys.stdout.flush()
    return tag


def build(name, force=False):
    if name not in PROFILES:
        raise SystemExit("unknown image %r (known: %s)" % (name, ", ".join(PROFILES)))
    client = _client()
    if name == "debian12":
        build_debian12_base(client, force=force)
    return build_dockerfile(client, name, force=force)


def ensure(name):
    """Return the tag of image NAME, building debian12 when missing."""
    client = _client()
    tag = image_tag(name)
    if image_exists(client, tag):
        return tag
    if name == "debian12":
        return build(name)
    raise RuntimeError(
        "image %s is missing; build it on a machine that can reach a registry: "
        "python3 -m cgidlint.scenarios.images build %s" % (tag, name))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m cgidlint.scenarios.images")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build one or more images")
    b.add_argument("names", nargs="+", choices=IMAGE_NAMES)
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    sub.add_parser("list", help="list known images and whether they exist")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        for n in args.names:
            t0 = time.time()
            tag = build(n, force=args.force)
            log("%s ready (%.0f s)" % (tag, time.time() - t0))
    else:
        client = _client()
        for n in IMAGE_NAMES:
            print("%-9s %-26s %s" % (n, image_tag(n),
                                     "present" if image_exists(client, image_tag(n)) else "missing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
