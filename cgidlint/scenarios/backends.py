"""Where a scenario runs: this host (``local``) or a container (``docker``).

A backend only provides a place: a root directory, a way to run shell
commands (a pytest-testinfra host: ``local://`` or ``docker://CONTAINER``),
a way to put files, and teardown.  Everything a scenario does (jail, layout,
httpd, curl, cgidlint) goes through the same shell commands on both, so the
docker images (debian12, centos7, rocky9) differ only in their base.
"""

import io
import os
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

from . import images
from .model import REPO_ROOT


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (not root, no httpd, no docker, no image)."""


class Result(object):
    def __init__(self, rc, stdout, stderr, seconds):
        self.rc, self.stdout, self.stderr, self.seconds = rc, stdout, stderr, seconds

    @property
    def ok(self):
        return self.rc == 0

    def tail(self, n=6):
        text = (self.stdout + "\n" + self.stderr).strip().splitlines()
        return "\n".join(text[-n:])


def _testinfra_host(spec):
    import testinfra  # only for scenarios
    return testinfra.get_host(spec)


class Target(object):
    """One running environment for one scenario."""

    backend = "?"
    cgidlint_path = str(REPO_ROOT)

    def __init__(self, root, profile, host_spec):
        self.root = root
        self.profile = profile
        self.host_spec = host_spec
        self.host = _testinfra_host(host_spec)

    def run(self, command):
        """Run a shell command (sh -c) on the target."""
        t0 = time.time()
        r = self.host.run(command)
        return Result(r.rc, r.stdout, r.stderr, time.time() - t0)

    def put_files(self, files):
        """files: list of (absolute path, bytes, mode). Parent dirs must exist."""
        raise NotImplementedError

    def destroy(self):
        raise NotImplementedError

    def inspect_hint(self):
        raise NotImplementedError


def detect_local_profile():
    """The platform profile of this host (its distribution's httpd)."""
    for name in ("debian12", "rocky9"):
        prof = images.PROFILES[name]
        if os.access(prof["httpd"], os.X_OK) and os.path.isdir(prof["modules"]):
            return dict(prof, image="local")
    raise BackendUnavailable("no distribution httpd found (apache2 or httpd with its modules dir)")


class LocalTarget(Target):
    backend = "local"

    def __init__(self, root, profile):
        super().__init__(root, profile, "local://")

    def put_files(self, files):
        for path, data, mode in files:
            if not (path + "/").startswith(self.root.rstrip("/") + "/"):
                raise ValueError("refusing to write %s outside the scenario root %s" % (path, self.root))
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, mode)

    def destroy(self):
        root = self.root.rstrip("/")
        # Unmount whatever the scenario (or a fix command) mounted under root,
        # deepest first, then remove the tree without crossing filesystems.
        mounts = []
        with open("/proc/self/mounts") as fh:
            for line in fh:
                mp = line.split()[1].replace("\\040", " ")
                if mp == root or mp.startswith(root + "/"):
                    mounts.append(mp)
        for mp in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", root], check=False)

    def inspect_hint(self):
        return "root %s on this host; tear down: umount what is mounted under it, then rm -rf it" % self.root


class DockerTarget(Target):
    backend = "docker"
    cgidlint_path = "/opt/cgidlint"

    def __init__(self, container, root, profile):
        self.container = container
        super().__init__(root, profile, "docker://%s" % container.id)

    def put_files(self, files):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            for path, data, mode in files:
                info = tarfile.TarInfo(path.lstrip("/"))
                info.size = len(data)
                info.mode = mode
                info.mtime = int(time.time())
                tf.addfile(info, io.BytesIO(data))
        if not self.container.put_archive("/", buf.getvalue()):
            raise RuntimeError("put_archive into %s failed" % self.container.name)

    def destroy(self):
        try:
            self.container.remove(force=True)
        except Exception:  # already gone
            pass

    def inspect_hint(self):
        return ("container %s (docker exec -it %s bash); remove: docker rm -f %s"
                % (self.container.name, self.container.name, self.container.name))


def cgidlint_tree():
    """The cgidlint package as (relative path, bytes, mode), for containers."""
    out = []
    pkg = REPO_ROOT / "cgidlint"
    for dirpath, dirnames, filenames in os.walk(str(pkg)):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for f in filenames:
            if f.endswith((".pyc", ".pyo")):
                continue
            p = Path(dirpath) / f
            out.append((str(p.relative_to(REPO_ROOT)), p.read_bytes(), 0o644))
    return out


class LocalBackend(object):
    name = "local"

    def __init__(self, image=None, base=None):
        if image not in (None, "local"):
            raise BackendUnavailable("--image applies to the docker backend only")
        self.base = base
        self.profile = None

    def check(self):
        if os.geteuid() != 0:
            raise BackendUnavailable("the local backend needs root (chroot, bind mounts)")
        self.profile = detect_local_profile()
        for tool in ("curl", "busybox", "chroot", "mount"):
            if not shutil.which(tool):
                raise BackendUnavailable("the local backend needs %s" % tool)
        try:
            import testinfra  # noqa: F401
        except ImportError:
            raise BackendUnavailable("pytest-testinfra is not installed (pip install 'cgidlint[scenarios]')")
        if self.base is None:
            self.base = tempfile.mkdtemp(prefix="cgidlint-scn-", dir="/tmp")
            os.chmod(self.base, 0o755)  # the run user must be able to search jail-side paths

    def create(self, scenario, port):
        root = os.path.join(self.base, scenario.name)
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        return LocalTarget(root, self.profile)

    def close(self):
        if self.base and os.path.isdir(self.base):
            try:
                os.rmdir(self.base)  # only when empty (--keep leaves it)
            except OSError:
                pass


class DockerBackend(object):
    name = "docker"

    def __init__(self, image="debian12", build=True):
        self.image = image or "debian12"
        self.build = build
        self.client = None
        self.run_id = uuid.uuid4().hex[:6]

    def check(self):
        if self.image not in images.PROFILES:
            raise BackendUnavailable("unknown image %r" % self.image)
        try:
            import docker
            import testinfra  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable("%s is not installed (pip install 'cgidlint[scenarios]')" % exc.name)
        if not shutil.which("docker"):
            raise BackendUnavailable("pytest-testinfra's docker:// backend needs the docker CLI")
        try:
            self.client = docker.from_env()
            self.client.ping()
        except Exception as exc:
            raise BackendUnavailable("docker engine not reachable: %s" % exc)
        try:
            if self.build:
                self.tag = images.ensure(self.image)
            else:
                self.tag = images.image_tag(self.image)
                self.client.images.get(self.tag)
        except Exception as exc:
            raise BackendUnavailable("image %s unavailable: %s" % (self.image, exc))
        self.profile = dict(images.PROFILES[self.image], image=self.image)
        self.lint_tree = cgidlint_tree()

    def create(self, scenario, port):
        name = "cgidlint-%s-%s" % (scenario.name, self.run_id)
        labels = {"org.cgidlint.scenario": scenario.name, "org.cgidlint.run": self.run_id}
        container = self.client.containers.create(
            self.tag, command=["sleep", "infinity"], name=name, detach=True,
            init=True,  # reap the daemonized httpd's zombies
            # chroot (ChrootDir, external chroot), bind mounts (experiment D),
            # mknod (/dev/null in an external jail). Not --privileged: that
            # fails where the engine itself lacks a capability.
            cap_add=["SYS_CHROOT", "SYS_ADMIN", "MKNOD"],
            security_opt=["apparmor=unconfined"],
            network_mode="bridge", labels=labels,
        )
        try:
            container.start()
        except Exception:
            container.remove(force=True)
            raise
        root = "/srv/cgidlint/%s" % scenario.name
        target = DockerTarget(container, root, self.profile)
        r = target.run("mkdir -p %s %s/cgidlint/scenarios && chmod 755 %s"
                       % (shlex.quote(root), target.cgidlint_path, shlex.quote(root)))
        if not r.ok:
            target.destroy()
            raise RuntimeError("container %s: cannot prepare %s: %s" % (name, root, r.tail()))
        # Dirs first (put_archive needs them), then the package.
        dirs = sorted({os.path.dirname(p) for p, _, _ in self.lint_tree})
        target.run("mkdir -p " + " ".join(shlex.quote(target.cgidlint_path + "/" + d) for d in dirs))
        target.put_files([(target.cgidlint_path + "/" + p, d, m) for p, d, m in self.lint_tree])
        return target

    def close(self):
        pass


def make_backend(name, image=None):
    if name == "local":
        return LocalBackend(image=image)
    if name == "docker":
        return DockerBackend(image=image or "debian12")
    raise BackendUnavailable("unknown backend %r (local, docker)" % name)
