"""TOML reading: tomllib on Python 3.11+, the tomli backport before."""

try:  # Python >= 3.11
    import tomllib as _toml
except ImportError:  # pragma: no cover - Python < 3.11
    import tomli as _toml  # type: ignore[no-redef]

TOMLDecodeError = _toml.TOMLDecodeError


def loads(text):
    return _toml.loads(text)


def load_path(path):
    with open(str(path), "rb") as fh:
        return _toml.load(fh)
