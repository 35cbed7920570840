"""The rule interface (one module per rule, ruff-style docs on each class)."""

import inspect
from typing import Iterable

from cgidlint.findings import Finding


class Rule(object):
    """A check.  Subclasses set the class attributes and implement ``check``.

    The class docstring is the rule's documentation, with the headings
    ``## What it does``, ``## Why is this bad?``, ``## httpd says``,
    ``## Example``, ``Use instead:`` and ``## Fix`` (shown by
    ``cgidlint explain`` and rendered to docs/rules/).  The examples are run
    by tests/test_rule_docs.py: an ```` ```apache ```` block is a whole
    /etc/httpd/conf/httpd.conf, ```` ```sh ```` blocks build its filesystem,
    a ```` ```console ```` block gives the ``cgidlint`` command (see
    tools/gen_rule_docs.py).
    """

    code = ""
    name = ""
    severity = "error"
    summary = ""
    predicts = ""

    def check(self, ctx):
        # type: (object) -> Iterable[Finding]
        raise NotImplementedError

    @classmethod
    def doc(cls):
        return inspect.cleandoc(cls.__doc__ or "")

    def finding(self, ctx, where, message, severity=None, predicts=None, evidence="config-only", fix=None,
                related=None):
        """A Finding for this rule at a Directive, a LogicalLine+file pair, or a (file, line, col) tuple."""
        if hasattr(where, "lline"):
            file, line, col = where.file, where.line, where.column
        else:
            file, line, col = where
        return Finding(self.code, self.name, severity or self.severity, ctx.display_path(file), line, col,
                       message, predicts if predicts is not None else self.predicts, evidence, fix, related)
