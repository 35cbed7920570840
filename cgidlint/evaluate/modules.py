"""Which modules a server has, and how ``<IfModule>`` names them.

``<IfModule>`` accepts a module's struct name (its source file, ``mod_cgid.c``,
``event.c`` for the event MPM) or its symbol (``cgid_module``), case
sensitively, and only for modules loaded so far (parser-spec.md §1.6).
"""

from typing import FrozenSet, Optional

from cgidlint.httpd_data.directives import ALTERNATES, DIRECTIVES, MODULES

# Modules compiled into the server binary, per build (``httpd -l``).
_BUILTIN = {
    # Debian/Ubuntu apache2 (verified: ``apache2 -l`` on 2.4.71).
    "debian": frozenset(["core_module", "so_module", "watchdog_module", "http_module", "log_config_module",
                         "logio_module", "version_module", "unixd_module"]),
    # Fedora/RHEL build everything shared: core.c, mod_so.c, http_core.c.
    "el": frozenset(["core_module", "so_module", "http_module"]),
}


def builtin_modules(build):
    # type: (Optional[str]) -> FrozenSet[str]
    if build and (build.startswith("el") or build == "fedora"):
        return _BUILTIN["el"]
    return _BUILTIN["debian"]


def struct_name(symbol):
    # type: (str) -> Optional[str]
    info = MODULES.get(symbol)
    return info[0] if info else None


def module_matches(symbol, name):
    # type: (str, str) -> bool
    """Does ``<IfModule name>`` match the loaded module ``symbol``?"""
    if name == symbol:
        return True
    return struct_name(symbol) == name


def is_known_module(symbol):
    return symbol in MODULES


def available_command(lname, loaded, assume_loaded=False):
    """The table entry for ``lname`` if one of the modules defining it is in
    ``loaded`` (any module when ``assume_loaded``), else None.  Names defined
    by several modules (the MPMs' Listen ...) are in ALTERNATES."""
    entry = DIRECTIVES.get(lname)
    if entry is None:
        return None
    if assume_loaded or entry[4] in loaded:
        return entry
    for alt in ALTERNATES.get(lname, ()):
        if alt[4] in loaded:
            return alt
    return None
