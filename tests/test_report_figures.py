"""The report's PNG encoding: one draw, cropped as ``bbox_inches="tight"`` would."""

import base64
import io

import numpy as np
from PIL import Image

from clusterlab.plotting._common import new_axes
from clusterlab.report.html import figure_to_data_uri, scatter_figure


def _decode(uri):
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def _tight_size(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return Image.open(buf).size


def test_cropped_like_savefig_tight():
    rng = np.random.default_rng(0)
    fig = scatter_figure(rng.normal(size=(300, 2)), rng.integers(0, 3, 300), "three")
    img = _decode(figure_to_data_uri(fig))
    ref = _tight_size(fig)
    assert abs(img.size[0] - ref[0]) <= 2 and abs(img.size[1] - ref[1]) <= 2
    # smaller than the whole canvas: the margins were cut
    assert img.size[0] < 900 and img.size[1] < 500
    pixels = np.asarray(img.convert("RGB"))
    assert (pixels < 128).any()  # something was drawn


def test_artist_outside_the_figure_falls_back_to_savefig():
    fig, ax = new_axes(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.text(1.6, 0.5, "far to the right of the figure", transform=ax.transAxes)
    img = _decode(figure_to_data_uri(fig))
    ref = _tight_size(fig)
    assert img.size[0] > 400  # wider than the figure: the text is kept
    assert abs(img.size[0] - ref[0]) <= 2 and abs(img.size[1] - ref[1]) <= 2
