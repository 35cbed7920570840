"""``cgidlint fix``: apply verified config edits, print filesystem changes.

* :mod:`cgidlint.fix.apply`: pure byte surgery (bytes + edits -> bytes);
* :mod:`cgidlint.fix.write`: atomic, checked writes;
* :mod:`cgidlint.fix.plan`: from findings to per-file plans and diffs;
* :mod:`cgidlint.fix.cli`: the click command.
"""
