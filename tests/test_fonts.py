import warnings

import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from assignkit import report
from assignkit.fonts import korean_font_path, picture_font_family
from assignkit.results import Figure

HANGUL_LABELS = {"여러분의 적합 (your fit)": [0.1, 0.5, 0.9], "참값 underlying −1": [0.2, 0.4, 0.8]}


def glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def test_the_korean_font_comes_from_the_package_file():
    path = korean_font_path()
    assert path.name == "NanumGothic.ttf" and path.stat().st_size > 1_000_000
    family = picture_font_family()
    assert family == ("DejaVu Sans", "NanumGothic")
    found = font_manager.findfont(font_manager.FontProperties(family="NanumGothic"), fallback_to_default=False)
    assert found == str(path)


def test_feedback_picture_with_hangul_draws_every_glyph():
    figure = Figure("q3", "test_fit", "curve", "문제 3: 적합한 곡선 (fitted curve)", x=[-1.0, 0.0, 1.0],
                    series=HANGUL_LABELS, scatter=[[-1.0, 1.0], [0.0, 1.0]])
    html = []
    report._drawn.cache_clear()  # drawn here, not taken from an earlier test's drawing
    assert glyph_warnings(lambda: html.append(report.render_figure(figure, "ko"))) == []
    assert 'src="data:image/png;base64,' in html[0] and "could not be drawn" not in html[0]


def test_without_the_korean_font_the_same_labels_miss_glyphs():
    """The check above can fail: the same legend drawn with DejaVu Sans alone warns of missing glyphs."""

    def draw():
        with rc_context({"font.family": ["DejaVu Sans"]}):
            fig = MplFigure()
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            for name, ys in HANGUL_LABELS.items():
                ax.plot(np.arange(3), ys, label=name)
            ax.legend()
            fig.canvas.draw()

    assert any("missing from font" in message for message in glyph_warnings(draw))
