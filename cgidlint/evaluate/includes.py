"""``Include``/``IncludeOptional`` target expansion with httpd's rules.

util.c ``ap_dir_nofnmatch`` / ``ap_dir_fnmatch`` (parser-spec.md §1.6):
* no wildcard: a directory is included whole, recursively, dotfiles too,
  entries sorted by ``strcmp`` on the full path; anything else is a file;
* wildcard: matched one path component at a time with
  ``apr_fnmatch(APR_FNM_PERIOD)`` (a leading dot must be explicit);
  wildcards in non-final components match directories only (not symlinks to
  them: APR takes the type from the directory entry);
* IncludeOptional tolerates missing files, missing directories and empty
  matches.  Error texts are httpd's.
"""

import os
import re
from typing import Iterator, Optional

MAX_DIR_DEPTH = 128  # AP_MAX_FNMATCH_DIR_DEPTH
PREFIX = "Include/IncludeOptional: "


class IncludeError(Exception):
    pass


def fnmatch_test(pattern):
    # type: (str) -> bool
    """apr_fnmatch_test: does the pattern contain a wildcard?"""
    nesting = False
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c in "?*":
            return True
        if c == "\\":
            i += 1
            if i >= n:
                return False
        elif c == "[":
            nesting = True
        elif c == "]" and nesting:
            return True
        i += 1
    return False


_cache = {}


def _compile(pattern):
    rx = _cache.get(pattern)
    if rx is not None:
        return rx
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            neg = False
            if j < n and pattern[j] in "!^":
                neg = True
                j += 1
            k = j
            if k < n and pattern[k] == "]":
                k += 1
            while k < n and pattern[k] != "]":
                k += 1
            if k >= n:
                out.append(re.escape(c))
            else:
                body = pattern[j:k].replace("\\", "\\\\").replace("^", "\\^")
                out.append("[" + ("^" if neg else "") + body + "]")
                i = k
        else:
            out.append(re.escape(c))
        i += 1
    rx = re.compile("(?s)" + "".join(out) + r"\Z")
    _cache[pattern] = rx
    return rx


def fnmatch_period(pattern, name):
    # type: (str, str) -> bool
    """apr_fnmatch(pattern, name, APR_FNM_PERIOD) for one path component."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return _compile(pattern).match(name) is not None


def _join(path, name):
    return path.rstrip("/") + "/" + name if path != "/" else "/" + name


def _nofnmatch(fs, path, optional, depth, kind=None):
    # type: (object, str, bool, list, Optional[str]) -> Iterator[str]
    """``kind``: "dir" or "file" when a directory listing already told
    (an entry that is not a symlink), saving two stat() calls a file."""
    if kind == "dir" or (kind is None and fs.is_dir(path)):
        depth[0] += 1
        if depth[0] > MAX_DIR_DEPTH:
            raise IncludeError("%sDirectory '%s' exceeds the maximum include directory nesting level of %u. "
                               "You have probably a recursion somewhere." % (PREFIX, path, MAX_DIR_DEPTH))
        try:
            entries = fs.listdir(path)
        except OSError as e:
            raise IncludeError("%sCould not open directory %s: %s" % (PREFIX, path, os.strerror(e.errno or 0)))
        for full in sorted((_join(path, e.name) for e in entries), key=os.fsencode):
            for f in _nofnmatch(fs, full, optional, depth):
                yield f
        depth[0] -= 1
        return
    if optional and kind is None and not fs.exists(path):
        return
    yield path


def _fnmatch(fs, path, pattern, optional, depth):
    # type: (object, str, str, bool, list) -> Iterator[str]
    first, sep, rest = pattern.partition("/")
    if not sep:
        rest = None
    if not fnmatch_test(first):
        for f in _continue(fs, _join(path, first) if path else first, rest, optional, depth):
            yield f
        return
    try:
        entries = fs.listdir(path)
    except OSError as e:
        if optional and e.errno == 2:
            return
        raise IncludeError("%sCould not open directory %s: %s" % (PREFIX, path, os.strerror(e.errno or 0)))
    candidates = []
    for e in entries:
        if not fnmatch_period(first, e.name):
            continue
        try:
            is_dir = e.is_dir(follow_symlinks=False)
            kind = None if e.is_symlink() else ("dir" if is_dir else "file")
        except OSError:
            is_dir, kind = False, None
        if rest is not None and not is_dir:
            continue
        candidates.append((os.fsencode(e.name), _join(path, e.name), kind))
    if not candidates:
        if not optional:
            raise IncludeError("%sNo matches for the wildcard '%s' in '%s', failing" % (PREFIX, first, path))
        return
    candidates.sort()
    for _, full, kind in candidates:
        for f in _continue(fs, full, rest, optional, depth, kind):
            yield f


def _continue(fs, full, rest, optional, depth, kind=None):
    """After matching one component: the rest of the pattern, or the target itself."""
    if rest is None:
        return _nofnmatch(fs, full, optional, depth, kind)
    return _fnmatch(fs, full, rest, optional, depth)


def expand(fs, path, optional):
    # type: (object, str, bool) -> Iterator[str]
    """Files an ``Include`` of the absolute ``path`` reads, in httpd's order.

    A generator: errors surface at the point httpd would meet them, after
    the files before them were processed.
    """
    depth = [0]
    if not fnmatch_test(path):
        return _nofnmatch(fs, path, optional, depth)
    if not path.startswith("/"):
        raise IncludeError("Include must have an absolute path, " + path)
    return _fnmatch(fs, "/", path.lstrip("/"), optional, depth)
