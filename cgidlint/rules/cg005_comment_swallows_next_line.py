"""CG005 comment-swallows-next-line."""

from cgidlint.rules.base import Rule

# Shift_JIS lead bytes: a two-byte character whose second byte is 0x5C ("\")
# ends the comment line with what httpd reads as a continuation backslash.
_SJIS_LEAD = set(range(0x81, 0xA0)) | set(range(0xE0, 0xFD))


class CommentSwallowsRule(Rule):
    """
    ## What it does
    Finds comment lines that end in a backslash.  httpd joins the next
    physical line into the comment (comments continue like any line), so
    that line disappears.  The hidden case: a Shift_JIS comment whose last
    character's second byte is 0x5C (ソ 表 能 十 申 予 構 ...) looks fine in
    an editor but ends in `\\` for httpd.

    ## Why is this bad?
    A directive on the next line is silently not there: no error, no
    warning, e.g. a `ScriptSock` or `Require` that never takes effect.

    ## httpd says
    Nothing.  Line numbers in httpd's messages still count physical lines.

    ## Example
    A file in Shift_JIS, where `表` is the bytes `\\x95\\x5c`:
    ```apache encoding=shift_jis
    # 設定 表
    ServerAdmin admin@example.com
    ```

    Use instead (any character after `表`, here `。`):
    ```apache encoding=shift_jis
    # 設定 表。
    ServerAdmin admin@example.com
    ```

    ## Fix
    None automatic: add a character after the last one of the comment.
    """

    code = "CG005"
    name = "comment-swallows-next-line"
    severity = "error"
    summary = "a comment ending in a backslash swallows the next line"

    def check(self, ctx):
        for src in ctx.config.files:
            if not src.has_continuation:
                continue    # most files: no need to build their line records
            for l in src.lines:
                if not (l.continued and l.is_comment):
                    continue
                raw = src.raw(l)
                physical = raw.split(b"\n")
                first = physical[0].rstrip(b"\r")
                swallowed = [(l.first_line + i, p.strip()) for i, p in enumerate(physical[1:], 1) if p.strip()]
                directives = [(n, t) for n, t in swallowed if not t.startswith(b"#")]
                sjis = len(first) >= 2 and first[-2] in _SJIS_LEAD
                why = " (its last character is a Shift_JIS double-byte character ending in 0x5C)" if sjis else ""
                if directives:
                    n, t = directives[0]
                    msg = "comment ends in a backslash%s, so httpd joins line %d into it: %r is ignored" % (
                        why, n, t.decode("latin-1")[:80])
                    yield self.finding(ctx, (src.path, l.first_line, l.column), msg, evidence="filesystem")
                else:
                    msg = "comment ends in a backslash%s and swallows the next line" % why
                    yield self.finding(ctx, (src.path, l.first_line, l.column), msg, severity="warning",
                                       evidence="filesystem")


RULE = CommentSwallowsRule
