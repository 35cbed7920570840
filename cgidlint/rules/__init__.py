"""Rule registry: stable IDs (../shared/design/rules.md) to rule classes.

Adding a rule: write ``cgidlint/rules/cgNNN_<name>.py`` with one ``Rule``
subclass and list its module in ``_MODULES``.
"""

import importlib
from collections import OrderedDict

_MODULES = (
    "cg001_syntax_error",
    "cg002_include_missing",
    "cg003_undefined_variable",
    "cg004_trailing_comment_as_argument",
    "cg005_comment_swallows_next_line",
    "cg101_scriptsock_split_view",
    "cg102_scriptsock_dir_missing",
    "cg103_scriptsock_unreachable",
    "cg104_scriptsock_too_long",
    "cg105_scriptsock_dir_unsafe",
    "cg901_suppression_without_reason",
    "cg902_unused_suppression",
    "cg903_invalid_suppression",
)

_registry = None


def registry():
    """OrderedDict code -> Rule class, in ID order."""
    global _registry
    if _registry is None:
        reg = OrderedDict()
        for mod in _MODULES:
            m = importlib.import_module("cgidlint.rules." + mod)
            reg[m.RULE.code] = m.RULE
        _registry = reg
    return _registry


def get(code):
    return registry().get(code.upper())


def parse_codes(text):
    """``"cg1, CG004"`` -> ``["CG1", "CG004"]`` (None for no text)."""
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else None


def code_selected(code, select=None, ignore=None):
    """Whether rule ``code`` is run under ``--select``/``--ignore``: lists of
    codes or prefixes (``CG1``); an empty select means every rule."""
    return ((not select or any(code.startswith(s.upper()) for s in select))
            and not any(code.startswith(i.upper()) for i in ignore or ()))
