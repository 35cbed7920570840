"""Debian's ``envvars``: the shell file apache2ctl sources before httpd starts.

Debian's apache2.conf uses ``${APACHE_RUN_DIR}``, ``${APACHE_RUN_USER}`` ...
which only exist because apache2ctl sources ``/etc/apache2/envvars``.  We read
the plain assignments it makes (``export NAME=value`` and ``NAME=value``,
with ``$NAME``/``${NAME}`` substituted from what is already set), which is
what the shipped file consists of.  ``$SUFFIX`` (multi-instance setups) is
derived from the config directory name as the file itself does.
"""

import os
import re
from typing import Dict

_ASSIGN = re.compile(rb"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(rb"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _unquote(value):
    value = value.strip()
    if b" #" in value:
        value = value.split(b" #", 1)[0].rstrip()
    if len(value) >= 2 and value[:1] == value[-1:] and value[:1] in (b'"', b"'"):
        return value[1:-1], value[:1] == b"'"
    return value, False


def read_envvars(path, config_dir=None):
    # type: (str, str) -> Dict[bytes, bytes]
    """Variables set by an envvars file (empty dict when it is unreadable)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError):
        return {}
    env = {}  # type: Dict[bytes, bytes]
    confdir = os.fsencode(config_dir or os.path.dirname(path))
    base = os.path.basename(confdir)
    env[b"SUFFIX"] = base[len(b"apache2"):] if base.startswith(b"apache2-") else b""
    env[b"APACHE_CONFDIR"] = confdir
    depth = 0
    for line in data.splitlines():
        stripped = line.strip()
        if stripped.startswith(b"#") or not stripped:
            continue
        word = stripped.split()[0]
        if word in (b"if", b"case", b"for", b"while"):
            depth += 1
            continue
        if word in (b"fi", b"esac", b"done"):
            depth = max(0, depth - 1)
            continue
        if depth:
            # Conditional blocks in the shipped file only compute SUFFIX,
            # which we derived above.
            continue
        m = _ASSIGN.match(stripped)
        if not m:
            continue
        name, value = m.group(1), m.group(2)
        value, literal = _unquote(value)
        if not literal:
            value = _VAR.sub(lambda mm: env.get(mm.group(1) or mm.group(2), b""), value)
        env[name] = value
    return env
