"""InterHand2.6M masks from MANO fits, on a fixture written in the real format.

The fixture: ``make_fixture_dataset`` (real ``_data``/``_camera``/``_joint_3d``/
``_MANO_NeuralAnnot`` JSON) with a MANO-format model pair from
``write_mano_stand_in`` (official keys and shapes, finger-like closed mesh). Three
frames are edited: one interacting frame puts the left hand right over the right one
(occlusion in every view), one has a null left fit, one has no MANO entry at all.
"""

import functools
import shutil

import numpy as np
import pytest
import torch

from handhdr.datasets.interhand import InterHandDataset
from handhdr.datasets.interhand_format import (
    DatasetFormatError,
    ManoParams,
    make_fixture_dataset,
    write_interhand_split,
)
from handhdr.datasets.masks import mask_path, read_masks
from handhdr.datasets.render_masks import render_interhand_masks, write_mano_stand_in
from handhdr.hand.layer import HandLayer
from handhdr.hand.mano import load_mano
from handhdr.render.raster import rasterize

SPLIT = "val"
SIZE = (128, 96)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("render_masks")
    mano_dir = base / "mano"
    write_mano_stand_in(mano_dir)
    root = base / "ih"
    fx = make_fixture_dataset(
        root, SPLIT, seed=3, num_captures=2, num_cameras=3, num_frames=3,
        image_size=SIZE, hand_types=("interacting",), write_images=False,
    )  # fmt: skip
    overlap, null_left, no_mano = fx.frames[0], fx.frames[1], fx.frames[2]
    right = overlap.mano["right"]
    overlap.mano["left"] = ManoParams(right.pose.copy(), right.shape.copy(), right.trans + 0.004)
    null_left.mano["left"] = None
    no_mano.mano = None
    write_interhand_split(root, SPLIT, fx.frames, fx.cameras, fx.images)
    summary = render_interhand_masks(root, SPLIT, mano_dir, progress=False)
    return fx, mano_dir, summary


def _frame(fx, image):
    return fx.frame(image.capture, image.frame_idx)


@functools.cache
def _model(path):
    model = load_mano(path)
    return model, HandLayer(model).double()


def _expected_amodal(mano_dir, params, camera, side):
    """An independent render: MANO forward, explicit world-to-camera, raw rasteriser.
    Also gives the pixels of the wrist and index joints: the stand-in mesh is skinned to
    them only, so they lie inside it (the other chains move freely)."""
    model, layer = _model(mano_dir / f"MANO_{side.upper()}.npz")
    args = [torch.tensor(np.asarray(getattr(params, k), np.float64))[None] for k in
            ("pose", "shape", "trans")]  # fmt: skip
    with torch.no_grad():
        out = layer(*args)
    k = np.array([[camera.focal[0], 0, camera.princpt[0]], [0, camera.focal[1], camera.princpt[1]],
                  [0, 0, 1]])  # fmt: skip
    world, joints = (x[0].numpy() * 1000.0 for x in (out.vertices, out.kinematic_joints[:, :4]))
    cam, joints_cam = (np.einsum("ij,vj->vi", camera.camrot, x - camera.campos)
                       for x in (world, joints))  # fmt: skip
    frag = rasterize(cam, model.faces, k.astype(np.float32), *SIZE, cull_back=True)
    uv = np.rint(joints_cam[:, :2] / joints_cam[:, 2:] * k[[0, 1], [0, 1]] + k[:2, 2])
    return frag.mask(), uv.astype(int)


def test_a_mask_file_for_every_image_with_a_fit_and_none_without(dataset):
    fx, _, summary = dataset
    with_fit = [im for im in fx.images if _frame(fx, im).mano is not None]
    assert 0 < len(with_fit) < len(fx.images)
    for im in fx.images:
        assert mask_path(fx.root, SPLIT, im.file_name).is_file() == (im in with_fit)
    assert (summary.images, summary.written) == (len(fx.images), len(with_fit))
    assert summary.without_mano == len(fx.images) - len(with_fit)
    assert summary.skipped == summary.left_over == 0


def test_amodal_masks_equal_an_independent_render_and_contain_the_joints(dataset):
    fx, mano_dir, _ = dataset
    reader = InterHandDataset(fx.root, SPLIT, load_images=False, load_hdr_gt=False)
    checked = 0
    for im in fx.images:
        frame = _frame(fx, im)
        if frame.mano is None:
            continue
        masks = reader[reader.index_of(im.file_name)].masks  # read back by the reader
        assert masks is not None and masks.shape == (4, SIZE[1], SIZE[0])
        camera = fx.camera(im.capture, im.camera)
        for side, amodal in (("right", masks[0]), ("left", masks[2])):
            params = frame.mano[side]
            if params is None:
                assert not masks[2].any() and not masks[3].any()
                continue
            expected, joints_uv = _expected_amodal(mano_dir, params, camera, side)
            np.testing.assert_array_equal(amodal, expected)
            inside = (joints_uv >= 0).all(1) & (joints_uv < SIZE).all(1)
            assert inside.sum() >= 3
            assert amodal[joints_uv[inside, 1], joints_uv[inside, 0]].all()
            checked += 1
    assert checked >= 8


def test_visible_masks_are_depth_tested_inside_amodal(dataset):
    fx, _, _ = dataset
    occluded = 0
    for im in fx.images:
        path = mask_path(fx.root, SPLIT, im.file_name)
        if not path.is_file():
            continue
        ra, rv, la, lv = read_masks(path)
        assert not (rv & ~ra).any() and not (lv & ~la).any()
        assert not (rv & lv).any()
        np.testing.assert_array_equal(rv | lv, ra | la)  # every hand pixel is someone's
        frame = _frame(fx, im)
        if frame is fx.frames[0]:  # the left hand lies over the right one
            occluded += int((ra & ~rv).any() or (la & ~lv).any())
        if frame is fx.frames[1]:  # null left fit: nothing hides the right hand
            np.testing.assert_array_equal(rv, ra)
            assert ra.any() and not la.any() and not lv.any()
    assert occluded == 3  # in every camera of that frame


def test_resume_skips_existing_files_and_rerendering_gives_identical_bytes(dataset, tmp_path):
    fx, mano_dir, _ = dataset
    root = tmp_path / "copy"
    shutil.copytree(fx.root, root)
    files = sorted((root / "masks").rglob("*.png"))
    before = {p: p.read_bytes() for p in files}
    stamps = {p: p.stat().st_mtime_ns for p in files}
    for p in files[::2]:
        p.unlink()
    summary = render_interhand_masks(root, SPLIT, mano_dir, progress=False)
    assert summary.written == len(files[::2])
    assert summary.skipped == len(files) - len(files[::2])
    assert {p: p.read_bytes() for p in files} == before
    assert all(p.stat().st_mtime_ns == stamps[p] for p in files[1::2])
    again = render_interhand_masks(root, SPLIT, mano_dir, progress=False)
    assert (again.written, again.skipped) == (0, len(files))


def test_shards_split_frames_and_limit_stops_early(dataset, tmp_path):
    fx, mano_dir, full = dataset
    root = tmp_path / "shards"
    shutil.copytree(fx.root / "annotations", root / "annotations")
    first = render_interhand_masks(root, SPLIT, mano_dir, limit=2, progress=False)
    assert first.written == 2 and first.left_over == full.written - 2
    written = []
    for i in range(2):
        part = render_interhand_masks(root, SPLIT, mano_dir, shard=(i, 2), progress=False)
        written.append(part.written)
        assert part.images < full.images
    assert sum(written) == full.written - 2
    produced = sorted(p.relative_to(root) for p in (root / "masks").rglob("*.png"))
    assert produced == sorted(p.relative_to(fx.root) for p in (fx.root / "masks").rglob("*.png"))


def test_missing_mano_files_are_named(dataset, tmp_path):
    fx, mano_dir, _ = dataset
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        render_interhand_masks(fx.root, SPLIT, tmp_path / "nowhere", progress=False)
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(mano_dir / "MANO_RIGHT.npz", half)
    with pytest.raises(FileNotFoundError, match="MANO_LEFT"):
        render_interhand_masks(fx.root, SPLIT, half, progress=False)
    root = tmp_path / "no_fits"
    shutil.copytree(fx.root / "annotations", root / "annotations")
    annotation = root / "annotations" / SPLIT / f"InterHand2.6M_{SPLIT}_MANO_NeuralAnnot.json"
    annotation.unlink()
    with pytest.raises(DatasetFormatError, match="MANO_NeuralAnnot.json: file not found"):
        render_interhand_masks(root, SPLIT, mano_dir, progress=False)
