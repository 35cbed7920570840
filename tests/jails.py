"""Temporary jails that reproduce the experiments of chroot-model.md on disk.

Only the filesystem layout and the configuration are built here (the lint
verdicts need nothing else); scenarios/ runs the same layouts with httpd.
"""

import os
import subprocess

MODDIR = "/usr/lib/apache2/modules"


def write_config(path, server_root, extra, chroot=None):
    lines = [
        "ServerRoot %s" % server_root,
        "LoadModule mpm_event_module %s/mod_mpm_event.so" % MODDIR,
        "LoadModule cgid_module %s/mod_cgid.so" % MODDIR,
        "LoadModule alias_module %s/mod_alias.so" % MODDIR,
        "User www-data",
        "Group www-data",
    ]
    if chroot:
        lines.append("ChrootDir %s" % chroot)
    lines += extra
    lines += ["ScriptAlias /cgi-bin/ /cgi-bin/"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def in_jail(jail, path):
    return os.path.join(jail, path.lstrip("/"))


def bind_mount(src, dst):
    os.makedirs(dst, exist_ok=True)
    r = subprocess.run(["mount", "--bind", src, dst], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode == 0


def umount(dst):
    subprocess.run(["umount", "-l", dst], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def build(name, tmp):
    """Build experiment ``name`` under ``tmp``; returns (config path, cleanup list)."""
    T = str(tmp)
    J = os.path.join(T, "jail")
    os.makedirs(J)
    os.chmod(T, 0o755)
    conf = os.path.join(T, "conf", "httpd.conf")
    mounts = []
    sock_dir = os.path.join(T, "run", "cgid")
    if name == "A":
        os.makedirs(sock_dir)
        os.makedirs(in_jail(J, sock_dir))
        write_config(conf, T, ["ScriptSock %s/cgisock" % sock_dir], chroot=J)
    elif name == "A'":
        os.makedirs(in_jail(J, sock_dir))
        write_config(conf, T, ["ScriptSock %s/cgisock" % sock_dir], chroot=J)
    elif name == "B":
        rd = os.path.join(T, "run")
        os.makedirs(rd)
        os.makedirs(in_jail(J, rd))
        write_config(conf, T, ["DefaultRuntimeDir %s" % rd, "ScriptSock cgisock"], chroot=J)
    elif name == "C":
        rd = os.path.join(J, "run")
        os.makedirs(rd)
        # inside the jail, <J> (a host path) must lead back to the jail root
        link = in_jail(J, J)
        os.makedirs(os.path.dirname(link))
        os.symlink("/", link)
        write_config(conf, T, ["DefaultRuntimeDir %s" % rd, "ScriptSock cgisock"], chroot=J)
    elif name in ("D", "G"):
        os.makedirs(sock_dir)
        target = in_jail(J, sock_dir)
        if not bind_mount(sock_dir, target):
            return None, []
        mounts.append(target)
        if name == "G":
            os.chmod(in_jail(J, os.path.join(T, "run")), 0o700)
        write_config(conf, T, ["ScriptSock %s/cgisock" % sock_dir], chroot=J)
    elif name == "F":
        target = in_jail(J, sock_dir)
        os.makedirs(target)
        os.makedirs(os.path.dirname(sock_dir))
        os.symlink(target, sock_dir)
        write_config(conf, T, ["ScriptSock %s/cgisock" % sock_dir], chroot=J)
    elif name == "E":
        # the whole server runs inside the jail: config at J/etc/httpd
        os.makedirs(os.path.join(J, "var/run/cgid"))
        os.makedirs(os.path.join(J, "usr/sbin"))
        open(os.path.join(J, "usr/sbin/apache2"), "w").close()
        conf = write_config(os.path.join(J, "etc/httpd/conf/httpd.conf"), "/etc/httpd",
                            ["ScriptSock /var/run/cgid/cgisock"])
    else:
        raise ValueError(name)
    return conf, mounts


def classic_jail(tmp):
    """The original report as a jail: absolute ScriptSock split between the
    views, DefaultRuntimeDir shared (experiment C layout): fix = ScriptSock cgisock."""
    T = str(tmp)
    J = os.path.join(T, "jail")
    os.makedirs(os.path.join(T, "run", "cgid"))
    os.makedirs(in_jail(J, os.path.join(T, "run", "cgid")))
    rd = os.path.join(J, "run")
    os.makedirs(rd)
    link = in_jail(J, J)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("/", link)
    conf = os.path.join(T, "conf", "httpd.conf")
    write_config(conf, T, ["DefaultRuntimeDir %s" % rd, "Include conf/extra.conf"], chroot=J)
    return conf, os.path.join(T, "conf", "extra.conf"), "ScriptSock %s/run/cgid/cgisock" % T
