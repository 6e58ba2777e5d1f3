"""A quick look at hand models without the renderer: shaded meshes on a matplotlib sheet.

``python -m handhdr.hand.plot --out docs/hand_model.png`` draws gestures, shapes and
random poses of both built-in hands (or official MANO with ``--kind mano --mano-dir``).
Faces are drawn back to front (painter's algorithm) with Lambert and a little specular
shading, coloured by the model's texture regions when it has them.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from handhdr.hand.meshing import vertex_normals
from handhdr.hand.model_data import HandModelData
from handhdr.io import atomic_path

# model frame -> view frame for a palm-on view: fingers up (+Y), palm to the viewer (+Z)
PALM_VIEW = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
SKIN = np.array([0.86, 0.64, 0.52])


def turn(yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """A view rotation: about the view's vertical axis, then about its horizontal axis."""
    a, b = np.radians(yaw_deg), np.radians(pitch_deg)
    yaw = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    pitch = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(b), -np.sin(b)], [0.0, np.sin(b), np.cos(b)]])
    return pitch @ yaw


def vertex_colours(data: HandModelData, skin: np.ndarray = SKIN) -> np.ndarray:
    """(V, 3) albedo: skin, lighter palm-side skin, pale nails, darker creases."""
    colours = np.tile(skin, (len(data.v_template), 1))
    if data.regions is None:
        return colours
    region = dict(zip(data.region_names, data.regions.T, strict=True))
    palm_skin = 0.55 * skin + 0.45 * np.array([0.97, 0.80, 0.74])
    nail = np.array([0.95, 0.82, 0.80])
    for weight, colour in (
        (region.get("palmar"), palm_skin),
        (region.get("nail"), nail),
        (region.get("crease"), 0.8 * skin),
    ):
        if weight is not None:
            colours = colours * (1 - weight[:, None]) + colour * weight[:, None]
    return colours


def draw_mesh(
    ax, vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray, view: np.ndarray
) -> None:
    """Draw one mesh into a 2D matplotlib axis, orthographic along the view's -Z axis."""
    from matplotlib.collections import PolyCollection

    v = vertices @ view.T
    normals = vertex_normals(v, faces)
    tri = v[faces]
    face_normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    front = face_normal[:, 2] > 0
    order = np.argsort(tri[front, :, 2].mean(1))
    faces_front = faces[front][order]
    light = np.array([0.35, 0.55, 0.76])
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    lambert = np.clip(normals @ light, 0.0, 1.0)
    specular = np.clip(normals @ half, 0.0, 1.0) ** 24
    shade = colours * (0.32 + 0.68 * lambert[:, None]) + 0.18 * specular[:, None]
    face_colour = np.clip(shade[faces_front].mean(1), 0.0, 1.0)
    polys = v[faces_front][..., :2]
    ax.add_collection(
        PolyCollection(polys, facecolors=face_colour, edgecolors=face_colour, linewidths=0.3)
    )


def _frame(ax, points: np.ndarray, view: np.ndarray, margin: float = 0.01) -> None:
    p = points @ view.T
    lo, hi = p[:, :2].min(0) - margin, p[:, :2].max(0) + margin
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_aspect("equal")
    ax.axis("off")


def contact_sheet(out: str | Path, kind: str = "builtin", mano_dir: Path | None = None) -> None:
    """Write a PNG with gestures, shapes and random poses of the right and left hand."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from handhdr.hand.layer import HandLayer
    from handhdr.hand.loader import load_hand_model
    from handhdr.hand.mirror import mirror_pose
    from handhdr.hand.pose import GESTURES, PoseSpace, sample_angles

    def model(side: str) -> HandModelData:
        if kind == "mano":
            if mano_dir is None:
                raise ValueError("--kind mano needs --mano-dir with MANO_RIGHT/LEFT files")
            name = "MANO_RIGHT" if side == "right" else "MANO_LEFT"
            path = next(p for p in Path(mano_dir).glob(f"{name}.*") if p.suffix in (".pkl", ".npz"))
            return load_hand_model("mano", side, path=path)
        return load_hand_model(kind, side)

    data = {side: model(side) for side in ("right", "left")}
    layers = {side: HandLayer(d) for side, d in data.items()}
    space = PoseSpace.from_model(data["right"])
    rng = np.random.default_rng(0)
    mirror = np.diag([-1.0, 1.0, 1.0])
    gestures = ["flat", "relaxed", "fist", "point", "pinch", "ok", "grasp", "claw", "two"]
    panels: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]] = []
    for k, name in enumerate(gestures):
        side = "right" if k % 2 == 0 else "left"
        panels.append((f"{side} {name}", side, space.to_pose(GESTURES[name]), np.zeros(10), 0))
    betas_rows = [("big", 2.0, 0), ("small", -2.0, 0), ("long fingers", 2.5, 1)]
    betas_rows += [("wide palm", 2.5, 2), ("thick fingers", 2.5, 3), ("random shape", None, 0)]
    for label, value, mode in betas_rows:
        betas = np.zeros(10)
        if value is None:
            betas = rng.normal(size=10)
        else:
            betas[mode] = value
        panels.append((label, "right", space.to_pose(GESTURES["spread"]), betas, 0))
    for k, angles in enumerate(sample_angles(rng, 6)):
        side = "left" if k % 2 else "right"
        panels.append((f"{side} random", side, space.to_pose(angles), rng.normal(size=10), 1))
    views = [turn(0, 0), turn(-35, 20)]
    cols = 7
    rows = -(-len(panels) // cols)
    fig = plt.figure(figsize=(cols * 1.9, rows * 2.1), dpi=100)
    for k, (title, side, right_pose, betas, view_id) in enumerate(panels):
        pose = right_pose if side == "right" else mirror_pose(right_pose)
        with torch.no_grad():
            posed = layers[side](
                torch.as_tensor(pose, dtype=torch.float32)[None],
                torch.as_tensor(betas, dtype=torch.float32)[None],
            )
        vertices = posed.vertices[0].numpy().astype(np.float64)
        view = views[view_id] @ PALM_VIEW
        if side == "left":
            view = view @ mirror  # show the left hand from the mirrored viewpoint
        if k % 3 == 1:
            view = turn(180, 0) @ view  # the back of the hand
        ax = fig.add_subplot(rows, cols, k + 1)
        draw_mesh(ax, vertices, data[side].faces, vertex_colours(data[side]), view)
        _frame(ax, vertices, view)
        ax.set_title(title, fontsize=8)
    fig.suptitle(
        f"handhdr {kind} hand model ({len(data['right'].v_template)} vertices): gestures, "
        "shapes (betas) and random poses; right and left hands",
        fontsize=10,
    )
    fig.tight_layout(pad=0.3, rect=(0.0, 0.0, 1.0, 0.97))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    # a 256-colour palette keeps the sheet small enough to commit
    image = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG", optimize=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: write the contact sheet."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", choices=("builtin", "mano"), default="builtin")
    parser.add_argument("--mano-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    contact_sheet(args.out, args.kind, args.mano_dir)


if __name__ == "__main__":
    main()
