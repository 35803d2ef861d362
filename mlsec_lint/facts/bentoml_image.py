"""BentoML image definitions in Python -> ``dependency`` facts.

BentoML 1.3+ declares a Bento's image in the service file::

    image = bentoml.images.Image(python_version="3.11").python_packages("torch", "vllm>=0.6")

``bentoml build`` pip-installs these into the Bento's image, so every string given to
``python_packages`` is a dependency installed into an image, reported at the string,
whether the call is chained or made through a variable. (``requirements_file(...)`` is not
followed yet: Python files are analysed after the cross-file pass that links installers
to requirements files.)
"""

from __future__ import annotations

import re

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PList

_MAX_CALLEE = 400
_PYTHON_PACKAGES = re.compile(
    r"bentoml\.(?:images\.)?(?:Python)?Image\(\)(?:\.[A-Za-z_]\w*\(\))*\.python_packages"
)


def is_python_packages(callee: str) -> bool:
    """Whether ``callee`` is ``python_packages`` called on a BentoML image."""
    if len(callee) > _MAX_CALLEE or not callee.startswith("bentoml."):
        return False
    return _PYTHON_PACKAGES.fullmatch(callee) is not None


def image_facts(args: PList, span: Span, path: str) -> list[Fact]:
    """Dependency facts for one ``python_packages(...)`` call (literal strings only)."""
    from mlsec_lint.facts.dependencies import image_packages

    items = ((item, args.item_span(i)) for i, item in enumerate(args))
    return image_packages(items, path, "bentoml-image", f"{path}:{span.line} (BentoML image)")
