"""CG004 trailing-comment-as-argument."""

from cgidlint.evaluate.model import PLAIN
from cgidlint.httpd_data.directives import DIRECTIVES
from cgidlint.parser.tokens import getword_conf
from cgidlint.rules.base import Rule

_LIST_KINDS = ("ITERATE", "ITERATE2", "TAKE_ARGV", "RAW_ARGS")


class TrailingCommentRule(Rule):
    """
    ## What it does
    Finds a `# ...` after the arguments of a directive that takes a list of
    values (`DirectoryIndex`, `Options`, `AddHandler`, `Header`, ...).

    ## Why is this bad?
    httpd has no trailing comments.  For a directive with a fixed number of
    arguments that is an error (CG001); for a list-taking directive httpd
    silently takes `#` and every word after it as more values:
    `DirectoryIndex index.html # default page` makes `#`, `default` and
    `page` index names.

    ## httpd says
    Nothing: `httpd -t` passes.

    ## Example
    ```apache
    DirectoryIndex index.html # default page
    ```

    Use instead:
    ```apache
    # default page
    DirectoryIndex index.html
    ```

    ## Fix
    None automatic (moving the comment is safe but changes line numbers).
    """

    code = "CG004"
    name = "trailing-comment-as-argument"
    severity = "warning"
    summary = "a trailing # comment is taken as more arguments"

    def check(self, ctx):
        # Through the name index: only list-taking directives can be affected,
        # and visiting every directive of a 10,000-vhost tree costs more than
        # the check.  Findings are sorted by location afterwards.
        for lname, found in ctx.config.index().items():
            entry = DIRECTIVES.get(lname)
            if entry is None or entry[1] not in _LIST_KINDS:
                continue
            for finding in self._check_all(ctx, found):
                yield finding

    def _check_all(self, ctx, directives):
        for d in directives:
            if d.kind != PLAIN or b"#" not in d.args:
                continue
            pos = 0
            n = len(d.args)
            first = True
            while pos < n:
                word, start, pos, quote = getword_conf(d.args, pos)
                if not first and quote is None and word.startswith(b"#"):
                    col = d.column + (len(d.text) - len(d.args)) + start if d.args is not d.text else d.column
                    yield self.finding(
                        ctx, (d.file, d.line, col),
                        "%s takes %r and every word after it as values: httpd has no trailing comments"
                        % (d.name, word.decode("latin-1")), evidence="filesystem")
                    break
                first = False


RULE = TrailingCommentRule
