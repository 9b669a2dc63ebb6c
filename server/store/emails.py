"""How an email address is kept and compared: its normalised form, and its look-alike key.

``normalize`` folds what Unicode says is the same text (NFKC, then case folding): a fullwidth copy of an
address is that address. ``skeleton`` is the UTS #39 confusable skeleton of the normalised address, from
ICU's spoof checker: two addresses with the same skeleton look the same (Cyrillic ``а`` for Latin ``a``,
``rn`` for ``m``). Skeletons are stored beside each email to find look-alikes in one indexed query; they
are keys, never shown. ICU's confusables data ships in the ``pyicu-wheels`` wheel (no download at run
time); a new ICU version may change some skeletons, so an upgrade that does should recompute the column.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

import icu  # type: ignore[import-untyped]  # PyICU (from the pyicu-wheels wheel) has no type hints


def normalize(email: str) -> str:
    """NFKC case folding (``NFKC(casefold(NFKC(email)))``) with surrounding spaces removed."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def skeleton(email: str) -> str:
    """The UTS #39 skeleton of ``normalize(email)``: equal skeletons mean the addresses look alike."""
    return str(_checker().getSkeleton(0, normalize(email)))


@cache
def _checker() -> Any:
    return icu.SpoofChecker()
