"""The four hand masks of real InterHand2.6M images, rendered from the MANO fits.

InterHand2.6M ships no masks, but ``_MANO_NeuralAnnot.json`` holds a MANO fit per
hand and frame in world coordinates (``trans`` in metres) and ``_camera.json`` every
camera. For each image whose frame has a fit for at least one hand this module poses
official MANO (``flat_hand_mean=False``, full 45-parameter hand pose, as InterHand2.6M's
own rendering code builds its layer), moves the mesh into the camera
(``X_cam = R (X_world - campos)``, mm) and rasterises the right amodal, right visible,
left amodal and left visible masks at the image size with :meth:`Renderer.labels`
(no forearms: they are in no hand mask). A hand whose fit is null is absent: both of
its masks are empty, and it hides nothing of the other hand. Images whose frame has no
fit at all get no mask file. Output: ``masks/{split}/<file_name>.png``
(:mod:`handhdr.datasets.masks`), written atomically.

Speed: the cameras of one frame see the same world-space mesh, so the MANO forward
pass runs once per (capture, frame) for both hands and only the rigid camera move and
the rasterisation run per image. Work is split into frame groups: ``shard (i, n)``
takes every n-th frame, so shards never pose the same frame twice. Resume: an image
whose mask file exists is skipped; a frame whose images all have one is not posed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handhdr.camera import world_to_camera
from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import DatasetFormatError, annotation_file
from handhdr.datasets.masks import mask_path, write_masks
from handhdr.hand.model_data import HandModelData
from handhdr.joints import HANDS

__all__ = [
    "FrameJob",
    "MaskRenderSummary",
    "ManoMaskRenderer",
    "frame_jobs",
    "render_interhand_masks",
    "write_mano_stand_in",
]


class ManoMaskRenderer:
    """MANO layers for both hands and a renderer: world-space meshes per frame, masks
    per camera. Runs on the CPU in float64 so the masks are the same on every machine."""

    def __init__(self, models: dict[str, HandModelData]) -> None:
        from handhdr.hand.layer import HandLayer
        from handhdr.render import PinholeCamera, ProceduralBackgrounds, Renderer, sample_look

        self.faces = {side: np.asarray(models[side].faces, np.int64) for side in HANDS}
        self.layers = {side: HandLayer(models[side]).double() for side in HANDS}
        self.renderer = Renderer()
        # labels() of a scene without forearms reads nothing of the look; one tiny look
        # is drawn once to satisfy the signature
        tiny = PinholeCamera(np.eye(3), 1, 1)
        self.look = sample_look(np.random.default_rng(0), tiny, ProceduralBackgrounds(), False)

    @classmethod
    def from_dir(cls, mano_dir: str | os.PathLike[str]) -> ManoMaskRenderer:
        """Load ``MANO_RIGHT`` and ``MANO_LEFT`` (``.npz`` preferred, else ``.pkl``) from
        ``mano_dir``; a missing file is a ``FileNotFoundError`` naming the folder."""
        from handhdr.hand.mano import load_mano
        from handhdr.synth.hands import model_path

        paths = {side: model_path(f"mano:{mano_dir}", side) for side in HANDS}
        return cls({side: load_mano(path, side=side) for side, path in paths.items()})

    def world_vertices(self, mano: dict[str, dict[str, np.ndarray] | None]) -> dict[str, Any]:
        """Posed mesh ``(V, 3)`` float64 in world mm of every hand with a fit."""
        import torch

        out = {}
        with torch.no_grad():
            for side in HANDS:
                params = mano.get(side)
                if params is None:
                    continue
                tensors = [
                    torch.as_tensor(np.asarray(params[k], np.float64)[None])
                    for k in ("pose", "shape", "trans")
                ]
                output = self.layers[side](*tensors)
                out[side] = output.vertices[0].numpy() * 1000.0  # metres -> mm
        return out

    def masks(
        self,
        world: dict[str, np.ndarray],
        rotation: np.ndarray,
        campos: np.ndarray,
        intrinsics: np.ndarray,
        width: int,
        height: int,
    ) -> np.ndarray:
        """``(4, H, W)`` bool masks (MASK_NAMES order) of the world meshes seen by one camera."""
        from handhdr.render import HandGeometry, PinholeCamera, Scene

        rotation = np.asarray(rotation, np.float64)
        campos = np.asarray(campos, np.float64)
        hands = [
            HandGeometry(side, world_to_camera(vertices, rotation, campos), self.faces[side])
            for side, vertices in world.items()
        ]
        camera = PinholeCamera(np.asarray(intrinsics, np.float64), int(width), int(height))
        return self.renderer.labels(Scene(camera, hands, forearms=False), self.look).masks


@dataclass
class FrameJob:
    """The images of one (capture, frame) still missing a mask, with their cameras."""

    capture: int
    frame_idx: int
    mano: dict[str, dict[str, np.ndarray] | None]
    outputs: list[Path]  # mask file of each image
    rotation: np.ndarray  # (n, 3, 3) world-to-camera
    campos: np.ndarray  # (n, 3) mm
    intrinsics: np.ndarray  # (n, 3, 3)
    sizes: np.ndarray  # (n, 2) width, height


@dataclass
class MaskRenderSummary:
    """What one run did, counted in images of its shard."""

    images: int = 0  # images of the split in this shard
    written: int = 0  # mask files written now
    skipped: int = 0  # mask file already there
    without_mano: int = 0  # frame without a fit for either hand: no mask file
    empty: int = 0  # written, but neither hand falls on a pixel centre of the image
    left_over: int = 0  # still to do after a --limit stop


def frame_jobs(
    dataset: InterHandDataset,
    shard: tuple[int, int] = (0, 1),
    summary: MaskRenderSummary | None = None,
) -> list[FrameJob]:
    """Every frame of ``shard`` with images still missing a mask, in (capture, frame) order.

    Frames are numbered in that order and shard ``(i, n)`` takes those numbered ``i mod
    n``. Counts of images (all, already done, without MANO) go to ``summary``.
    """
    if dataset.files.mano is None:
        expected = annotation_file(dataset.root, dataset.split, "MANO_NeuralAnnot")
        raise DatasetFormatError(
            f"{expected}: file not found; masks are rendered from the MANO_NeuralAnnot fits"
        )
    index, count = shard
    summary = summary if summary is not None else MaskRenderSummary()
    keys = np.stack([dataset.captures, dataset.frame_indices], axis=1)
    frames, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.reshape(-1)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(frames) + 1))
    sizes = dataset.image_sizes
    jobs = []
    for g in range(index, len(frames), count):
        rows = order[bounds[g] : bounds[g + 1]]
        summary.images += len(rows)
        mano = dataset.mano(int(rows[0]))
        if mano is None or all(mano[side] is None for side in HANDS):
            summary.without_mano += len(rows)
            continue
        paths = [mask_path(dataset.root, dataset.split, dataset.file_names[r]) for r in rows]
        todo = [k for k, path in enumerate(paths) if not path.is_file()]
        summary.skipped += len(rows) - len(todo)
        if not todo:
            continue
        rows = rows[todo]
        rotation, campos, intrinsics = dataset.camera_parameters(rows)
        jobs.append(
            FrameJob(
                int(frames[g, 0]),
                int(frames[g, 1]),
                mano,
                [paths[k] for k in todo],
                rotation,
                campos,
                intrinsics,
                sizes[rows],
            )
        )
    return jobs


_WORKER: dict[str, ManoMaskRenderer] = {}


def _init_worker(mano_dir: str) -> None:
    import torch

    torch.set_num_threads(1)  # two small MANO passes per frame: threads only cost
    _WORKER["renderer"] = ManoMaskRenderer.from_dir(mano_dir)


def _render_job(job: FrameJob, renderer: ManoMaskRenderer | None = None) -> tuple[int, int]:
    """Render and write the masks of one frame job; returns (written, empty)."""
    renderer = renderer if renderer is not None else _WORKER["renderer"]
    try:
        world = renderer.world_vertices(job.mano)
        empty = 0
        for k, path in enumerate(job.outputs):
            width, height = job.sizes[k]
            masks = renderer.masks(
                world, job.rotation[k], job.campos[k], job.intrinsics[k], width, height
            )
            empty += not masks.any()
            write_masks(path, masks)
    except Exception as exc:
        raise RuntimeError(f"capture {job.capture} frame {job.frame_idx}: {exc}") from exc
    return len(job.outputs), empty


def _results(
    jobs: list[FrameJob], renderer: ManoMaskRenderer, mano_dir: Path, workers: int
) -> Iterator[tuple[int, int]]:
    if workers <= 1 or len(jobs) <= 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in jobs:
                yield _render_job(job, renderer)
        finally:
            torch.set_num_threads(threads)
        return
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["torch", __name__])  # imported once, not per worker
    else:
        context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(str(mano_dir),)) as pool:
        yield from pool.imap_unordered(_render_job, jobs, chunksize=1)


def _truncate(jobs: list[FrameJob], limit: int) -> tuple[list[FrameJob], int]:
    """The first ``limit`` images of ``jobs`` (the last job cut short) and how many
    images are left out."""
    kept, room = [], limit
    for job in jobs:
        if room <= 0:
            break
        take = min(room, len(job.outputs))
        if take < len(job.outputs):
            job = FrameJob(
                job.capture, job.frame_idx, job.mano, job.outputs[:take], job.rotation[:take],
                job.campos[:take], job.intrinsics[:take], job.sizes[:take],
            )  # fmt: skip
        kept.append(job)
        room -= take
    total = sum(len(job.outputs) for job in jobs)
    return kept, total - (limit - room)


def render_interhand_masks(
    root: str | os.PathLike[str],
    split: str,
    mano_dir: str | os.PathLike[str],
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    limit: int | None = None,
    progress: bool = True,
) -> MaskRenderSummary:
    """Render the masks of every image of ``split`` (in ``shard``) that has a MANO fit
    and no mask file yet; ``limit`` stops after that many images. Resumable."""
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be (i, n) with 0 <= i < n, got {shard}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    renderer = ManoMaskRenderer.from_dir(mano_dir)  # bad MANO files fail before the JSON read
    dataset = InterHandDataset(root, split, load_images=False, load_masks=False, load_hdr_gt=False)
    summary = MaskRenderSummary()
    jobs = frame_jobs(dataset, shard, summary)
    del dataset
    if limit is not None:
        jobs, summary.left_over = _truncate(jobs, limit)
    total = sum(len(job.outputs) for job in jobs)
    bar = None
    if progress and total:
        from tqdm import tqdm

        desc = f"render-masks {split}" + (f" shard {index}/{count}" if count > 1 else "")
        bar = tqdm(total=total, desc=desc, unit="img", smoothing=0.05)
    for written, empty in _results(jobs, renderer, Path(mano_dir), workers):
        summary.written += written
        summary.empty += empty
        if bar is not None:
            bar.update(written)
    if bar is not None:
        bar.close()
    return summary


def write_mano_stand_in(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``MANO_RIGHT.npz`` / ``MANO_LEFT.npz`` with official MANO's keys, shapes and
    kinematic tree but made-up content, for tests and benchmarks without the real files.

    The mesh is a closed finger-like ellipsoid (778 vertices, 10 cm along +x from the
    wrist joint at the origin; the left file mirrors it to -x) skinned rigidly to the
    wrist and the index chain, so poses bend it; shape and pose blend shapes are small
    random offsets. The left file carries no ``left_shapedirs_fixed`` flag, as a raw
    conversion of the official ``.pkl`` would not.
    """
    from handhdr.hand.mano import NUM_MANO_VERTICES
    from handhdr.joints import MANO_PARENTS
    from handhdr.render.mesh import uv_sphere

    rings, segments = 9, 97  # 2 + 8 * 97 = 778 vertices
    unit, faces = uv_sphere(1.0, rings, segments)
    # poles on x (a cyclic axis permutation keeps the winding), wrist end at the origin
    vertices = np.stack([0.05 * (1.0 - unit[:, 2]), 0.02 * unit[:, 0], 0.012 * unit[:, 1]], 1)
    joint_x = np.array([0.01, 0.035, 0.06, 0.08])  # wrist, index 1-3 (the other chains too)
    joints = np.array([0, *(1 + (j - 1) % 3 for j in range(1, 16))])  # MANO joint -> 0..3
    rng = np.random.default_rng(0)
    regressor = np.zeros((16, NUM_MANO_VERTICES))
    for j in range(16):  # each joint: the vertices nearest its station along the axis
        near = np.argsort(np.abs(vertices[:, 0] - joint_x[joints[j]]))[:segments]
        regressor[j, near] = 1.0 / segments
    weights = np.zeros((NUM_MANO_VERTICES, 16))
    station = np.clip(np.searchsorted(joint_x, vertices[:, 0]) - 1, 0, 3)
    weights[np.arange(NUM_MANO_VERTICES), np.array([0, 1, 2, 3])[station]] = 1.0
    kintree = np.array([[2**32 - 1, *MANO_PARENTS[1:]], list(range(16))], dtype=np.int64)
    common = {
        "J_regressor": regressor,
        "weights": weights,
        "posedirs": rng.normal(scale=2e-4, size=(NUM_MANO_VERTICES, 3, 135)),
        "shapedirs": rng.normal(scale=1e-3, size=(NUM_MANO_VERTICES, 3, 10)),
        "kintree_table": kintree,
        "hands_mean": rng.normal(scale=0.1, size=45),
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for side, sign in (("right", 1.0), ("left", -1.0)):
        mesh = vertices * [sign, 1.0, 1.0]
        winding = faces if sign > 0 else faces[:, ::-1]  # a mirror flips it back
        paths[side] = folder / f"MANO_{side.upper()}.npz"
        np.savez(paths[side], v_template=mesh, f=winding.astype(np.uint32), **common)
    return paths
