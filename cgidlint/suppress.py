"""In-config suppressions: ``# cgidlint: disable=CODE -- reason`` comments.

The second phase of a lint.  The rules have produced their findings; this
pass reads the suppression comments of every file of the configuration,
drops the findings they silence, and reports problems with the comments
themselves as CG901 (no reason), CG902 (silences nothing) and CG903
(malformed).  Nothing here changes what the rules see.

httpd has no trailing comments, so a suppression is a comment line of its
own.  ``disable=`` applies to the directive directly below its comment
block (consecutive comment lines, no blank line in between), and only to
findings reported on that directive's lines; ``disable-file=`` applies to
every finding in its file.  Codes are exact (``CG101``, never ``CG1`` or
``all``), case-insensitive, separated by commas or spaces.  The reason after
``--`` is required: a suppression without one silences nothing.

Detection works on logical lines, as httpd reads them: a suppression
comment ending in a backslash continues onto (and swallows) the next
physical line, exactly as for httpd.  Comment bytes may be in any encoding;
only the ASCII keyword and codes are interpreted.
"""

import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from cgidlint.rules.base import Rule

WITHOUT_REASON, UNUSED, INVALID = "CG901", "CG902", "CG903"
META_CODES = (WITHOUT_REASON, UNUSED, INVALID)
KEYWORDS = ("disable", "disable-file")

_HEAD = re.compile(rb"#[ \t]*cgidlint[ \t]*:[ \t]*", re.I)
# "# cgidlint disable=..." is a suppression with a typo, not prose.
_MISSING_COLON = re.compile(rb"#[ \t]*cgidlint[ \t]+[a-z-]*=", re.I)
_KEYWORD = re.compile(rb"([a-z][a-z_-]*)[ \t]*", re.I)
# Without "--", leading tokens shaped like codes are the codes and the rest
# is a reason written without its separator.
_CODE_SHAPED = re.compile(rb"(?:[a-z]+[0-9]+|all)\Z", re.I)
_SEPARATORS = re.compile(rb"[\s,]+")
# Prefilter on the raw bytes: every suppression comment (and every malformed
# one) starts with this.  Not a bare "cgidlint": paths such as
# /srv/cgidlint-test/... would make every line of a big file be read.
_MENTION = re.compile(rb"#[ \t]*cgidlint", re.I)


class MetaRule(Rule):
    """A rule about suppression comments.  Its findings come from
    :func:`apply_suppressions` after all other rules ran, never from
    ``check``; in-file suppressions cannot silence them (``--ignore`` can)."""

    meta = True
    severity = "warning"

    def check(self, ctx):
        return ()


class ParsedComment(object):
    """What one ``# cgidlint:`` comment says, and what is wrong with it."""

    __slots__ = ("whole_file", "codes", "has_reason", "problems")

    def __init__(self, whole_file=False, codes=(), has_reason=False, problems=()):
        self.whole_file = whole_file
        self.codes = list(codes)          # valid, exact rule codes, in order, no duplicates
        self.has_reason = has_reason
        self.problems = list(problems)    # [(meta code, message)]

    @property
    def active_codes(self):
        """The codes this comment actually silences (none without a reason)."""
        return self.codes if self.has_reason else []


def _show(token):
    return token.decode("utf-8", "backslashreplace")


def _invalid(message):
    return ParsedComment(problems=[(INVALID, message)])


def parse_comment(text, known_codes):
    # type: (bytes, Iterable[str]) -> Optional[ParsedComment]
    """Read a comment's logical text.  None when it is not a ``# cgidlint:``
    comment (any other comment is left alone)."""
    head = _HEAD.match(text)
    if head is None:
        if _MISSING_COLON.match(text):
            return _invalid("malformed suppression: missing ':' after 'cgidlint' "
                            "(write '# cgidlint: disable=CODE -- reason')")
        return None
    rest = text[head.end():]
    kw = _KEYWORD.match(rest)
    if kw is None:
        return _invalid("malformed suppression: expected 'disable=' or 'disable-file=' after '# cgidlint:'")
    keyword = kw.group(1).decode("ascii").lower()
    if keyword not in KEYWORDS:
        import difflib
        close = difflib.get_close_matches(keyword, KEYWORDS, 1)
        hint = " (did you mean '%s='?)" % close[0] if close else " (expected 'disable=' or 'disable-file=')"
        return _invalid("malformed suppression: unknown keyword '%s'%s" % (keyword, hint))
    rest = rest[kw.end():]
    if not rest.startswith(b"="):
        return _invalid("malformed suppression: expected '=' after '%s' (write '# cgidlint: %s=CODE -- reason')"
                        % (keyword, keyword))
    codes_part, dashes, reason = rest[1:].partition(b"--")
    tokens = [t for t in _SEPARATORS.split(codes_part) if t]
    stray = []  # type: List[bytes]
    if not dashes:
        n = 0
        while n < len(tokens) and _CODE_SHAPED.match(tokens[n]):
            n += 1
        tokens, stray = tokens[:n], tokens[n:]
    parsed = ParsedComment(whole_file=keyword == "disable-file", has_reason=bool(dashes and reason.strip()))
    if not tokens:
        parsed.problems.append((INVALID, "malformed suppression: no rule code after '%s='" % keyword))
        return parsed
    known = list(known_codes)
    for token in tokens:
        code = _show(token).upper()
        if code in META_CODES:
            parsed.problems.append((INVALID, "%s cannot be suppressed in a configuration file (its findings are "
                                             "about the suppressions themselves); use --ignore %s" % (code, code)))
        elif code in known:
            if code not in parsed.codes:
                parsed.codes.append(code)
        elif code == "ALL":
            parsed.problems.append((INVALID, "'all' is not accepted: name the exact rule codes to silence"))
        else:
            prefixed = [k for k in known if k.startswith(code) and k not in META_CODES]
            if prefixed:
                parsed.problems.append((INVALID, "%s is a prefix: suppressions take exact rule codes (%s)"
                                                 % (code, ", ".join(prefixed))))
            else:
                parsed.problems.append((INVALID, "unknown rule code %s (see: cgidlint rules)" % code))
    if not parsed.has_reason:
        if stray:
            why = "the reason must follow ' -- ' (found '%s' without it)" % _show(b" ".join(stray))
        else:
            why = "add one after ' -- '"
        parsed.problems.append((WITHOUT_REASON, "suppression without a reason silences nothing: %s" % why))
    return parsed


class Suppression(object):
    """A parsed comment at its place in a file, and what it silenced."""

    __slots__ = ("source", "lline", "parsed", "target", "used")

    def __init__(self, source, lline, parsed):
        self.source = source      # SourceFile holding the comment
        self.lline = lline        # the comment's LogicalLine
        self.parsed = parsed
        self.target = None        # the directive's LogicalLine for disable=; None when none follows
        self.used = set()         # type: Set[str]

    def silences(self, rule):
        return rule in self.parsed.active_codes


def source_files_by_display(ctx):
    # type: (object) -> Dict[str, object]
    """Every file of the configuration once, keyed by the path findings show."""
    out = {}  # type: Dict[str, object]
    for src in ctx.config.files:
        out.setdefault(ctx.display_path(src.path), src)
    return out


def read_suppressions(src, known_codes):
    # type: (object, Iterable[str]) -> List[Suppression]
    """The ``# cgidlint:`` comments of one file, with their target directives."""
    found = []  # type: List[Suppression]
    # (A continuation can split the head over two physical lines.)
    if not src.has_continuation and _MENTION.search(src.data) is None:
        return found  # most files: no need to look at their lines
    block = []  # type: List[Suppression]  disable= comments waiting for the directive below
    for lline in src.lines:
        if lline.is_blank:
            block = []
        elif lline.is_comment:
            parsed = parse_comment(lline.text, known_codes)
            if parsed is not None:
                s = Suppression(src, lline, parsed)
                found.append(s)
                if not parsed.whole_file:
                    block.append(s)
        else:
            for s in block:
                s.target = lline
            block = []
    return found


class _FileSuppressions(object):
    def __init__(self, suppressions):
        self.whole_file = [s for s in suppressions if s.parsed.whole_file]
        self.by_line = {}  # type: Dict[int, List[Suppression]]  physical line -> disable= on its directive
        for s in suppressions:
            if s.target is not None and not s.parsed.whole_file:
                for n in range(s.target.first_line, s.target.line + 1):
                    self.by_line.setdefault(n, []).append(s)

    def matching(self, finding):
        return [s for s in self.by_line.get(finding.line, []) + self.whole_file if s.silences(finding.rule)]


def _inactive_lines(config):
    """(file, first line) of directives in false conditional branches: a
    suppression there silences nothing in this configuration but may under
    other -D flags."""
    return set((d.file, d.lline.first_line) for d in config.root.walk(active_only=False) if not d.active)


def _unused_message(s, unused):
    codes = ", ".join(unused)
    if s.parsed.whole_file:
        return "unused suppression: no %s finding in this file" % codes
    if s.target is None:
        return ("unused suppression: %s is not directly above a directive (a blank line or the end of the file "
                "comes first), so it silences nothing" % codes)
    return "unused suppression: no %s finding on the directive at line %d" % (codes, s.target.line)


def apply_suppressions(ctx, findings, ran, report):
    # type: (object, List[object], Set[str], Set[str]) -> List[object]
    """The findings no suppression silences, plus the findings about the
    suppressions (only for the meta codes in ``report``).  A suppression of
    a code not in ``ran`` is never reported unused: that rule did not look."""
    from cgidlint.rules import registry
    rules = registry()
    known = list(rules)
    sources = source_files_by_display(ctx)
    per_file = {}  # type: Dict[str, _FileSuppressions]
    everything = []  # type: List[Suppression]
    for display, src in sources.items():
        sups = read_suppressions(src, known)
        if sups:
            per_file[display] = _FileSuppressions(sups)
            everything.extend(sups)
    if not everything:
        return list(findings)

    kept = []
    for f in findings:
        matched = per_file[f.file].matching(f) if f.file in per_file else []
        for s in matched:
            s.used.add(f.rule)
        if not matched:
            kept.append(f)

    inactive = _inactive_lines(ctx.config) if UNUSED in report else set()
    meta = []
    for s in everything:
        where = (s.source.path, s.lline.first_line, s.lline.column)
        for code, message in s.parsed.problems:
            if code in report:
                meta.append(rules[code]().finding(ctx, where, message, evidence="filesystem"))
        if UNUSED not in report or (s.target is not None and (s.source.path, s.target.first_line) in inactive):
            continue
        unused = [c for c in s.parsed.active_codes if c in ran and c not in s.used]
        if unused:
            meta.append(rules[UNUSED]().finding(ctx, where, _unused_message(s, unused), evidence="filesystem"))
    return kept + meta


def split_rules(rules):
    # type: (Iterable[Rule]) -> Tuple[List[Rule], Set[str]]
    """Selected rules into the ones that check the configuration and the
    codes of the selected meta rules."""
    checks, meta = [], set()
    for r in rules:
        if getattr(r, "meta", False):
            meta.add(r.code)
        else:
            checks.append(r)
    return checks, meta
