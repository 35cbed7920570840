"""Where the project's ground truth lives (../shared: design docs, parser
cases, the corpus of real configs, the SARIF schema): $CGIDLINT_SHARED, else
next to the project."""

import os

SHARED = os.environ.get("CGIDLINT_SHARED") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
CORPUS = os.path.join(SHARED, "corpus", "real")
