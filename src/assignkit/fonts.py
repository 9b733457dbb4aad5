"""The fonts the feedback pictures are drawn with: DejaVu Sans (matplotlib's own) for Latin text and the minus
sign, then NanumGothic for Hangul, from the `koreanize-matplotlib` package on PyPI, so that a fresh machine with
no system font draws Korean labels.

The font is registered with matplotlib's font manager from its file. The package is never imported: importing
it changes matplotlib's global settings (`matplotlib.rc`) as a side effect.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path

from matplotlib import font_manager

KOREAN_FONT_PACKAGE = "koreanize-matplotlib"
KOREAN_FONT_FILE = "koreanize_matplotlib/fonts/NanumGothic.ttf"  # inside the installed package


class FontMissing(RuntimeError):
    """The Korean font's package is not installed; the message says how to install it."""


def korean_font_path() -> Path:
    try:
        path = Path(metadata.distribution(KOREAN_FONT_PACKAGE).locate_file(KOREAN_FONT_FILE))
    except metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FontMissing(f"the Korean font {KOREAN_FONT_FILE} is missing: pip install {KOREAN_FONT_PACKAGE}")
    return path


@functools.cache
def picture_font_family() -> tuple[str, ...]:
    """Font names for `rcParams["font.family"]`, in fallback order; the Korean font is registered on first use."""
    path = korean_font_path()
    font_manager.fontManager.addfont(str(path))
    return ("DejaVu Sans", font_manager.FontProperties(fname=str(path)).get_name())
