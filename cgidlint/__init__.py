"""cgidlint: find and fix Apache httpd 2.4 configurations that break under chroot.

Data flows one way: bytes -> parsed files (cgidlint.parser) -> evaluated
configuration (cgidlint.evaluate) -> two-view path model (cgidlint.paths) ->
rules (cgidlint.rules) -> findings -> reporters (cgidlint.report) / fixer.
Nothing here imports docker or testinfra: the lint path must start fast.
"""

__version__ = "0.1.0"
