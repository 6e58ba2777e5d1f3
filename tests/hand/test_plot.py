"""The matplotlib contact sheet of the hand model."""

import numpy as np
import pytest

from handhdr.hand import load_hand_model
from handhdr.hand.plot import PALM_VIEW, draw_mesh, turn, vertex_colours


def test_palm_view_puts_fingers_up_and_the_right_thumb_right():
    data = load_hand_model()
    v = data.v_template @ PALM_VIEW.T
    tips = v[data.tip_vertex_ids]
    assert (tips[1:, 1] > 0.14).all()  # fingers up
    assert tips[0, 0] > 0.05  # right thumb on the right of the image
    assert np.linalg.det(PALM_VIEW) == pytest.approx(1.0)
    assert np.linalg.det(turn(30, 20)) == pytest.approx(1.0)


def test_region_colours_make_nails_and_palms_lighter():
    data = load_hand_model()
    colours = vertex_colours(data)
    nail = data.regions[:, data.region_names.index("nail")] > 0.9
    back = data.regions.sum(1) == 0
    assert colours[nail].mean() > colours[back].mean() + 0.05


def test_draw_mesh_paints_the_hand_silhouette():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = load_hand_model()
    fig = plt.figure(figsize=(2, 2), dpi=50)
    ax = fig.add_axes((0, 0, 1, 1))
    draw_mesh(ax, data.v_template.astype(float), data.faces, vertex_colours(data), PALM_VIEW)
    ax.set_xlim(-0.1, 0.1)
    ax.set_ylim(-0.05, 0.2)
    ax.axis("off")
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    painted = (pixels < 250).any(-1)
    assert 0.1 < painted.mean() < 0.6  # a hand, not an empty or a full frame
