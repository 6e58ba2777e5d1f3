"""Rendering of one or two hands with every label HDR trains on.

Public API (see :mod:`handhdr.render.renderer`)::

    renderer = Renderer(backgrounds=ProceduralBackgrounds())     # or FolderBackgrounds(dir)
    camera = PinholeCamera(K, width, height)                     # camera frame: x right,
    hands = [HandGeometry.from_model(model, vertices_mm, joints_mm), ...]  # y down, z fwd, mm
    scene = Scene(camera, hands, forearms=True)
    look = renderer.sample_look(rng, scene)      # skin, light, background, arms, camera effects
    result = renderer.render(scene, look=look)   # or renderer.render(scene, rng)
    labels = renderer.labels(scene, look)        # masks and occlusion only, about 2x faster

``result``: ``image`` (H, W, 3) uint8; ``masks`` (4, H, W) bool in
``handhdr.datasets.schema.MASK_NAMES`` order; ``hdr_gt[side]`` the frame with only that
hand, complete (for every hand whose amodal mask is not empty); ``depth`` (H, W) float32
mm (inf where no hand or forearm); ``occlusion[side]`` = 1 - visible / amodal area.

Guarantees (tested in ``tests/render``): visible within amodal; the two visible masks
never overlap; a hand's amodal mask equals the mask of a render of that hand alone;
forearms are in no mask; the same look gives identical output. ``hdr_gt[t]`` is a clean
frame of its own (background, forearms, hand ``t``; no other hand) under the image's
camera effects (same blur kernel and noise field, its own JPEG round trip): it equals
the image exactly outside the two hands' amodal masks dilated by the effects'
footprint (:func:`handhdr.render.effects.footprint`: blur radius + 1 px, 0 without
blur, + 16 px with JPEG); nearer to the removed hand it shows the background as it
would look without that hand.

Backend and determinism. Rasterisation is our own, in numpy
(:mod:`handhdr.render.raster`): vertex positions are snapped to a 1/256-pixel grid and
coverage is decided by integer edge functions; depth order by elementwise float64
arithmetic (no BLAS, no GPU, no fused multiply-add). Masks are therefore a pure function
of the vertex positions, the camera and the look's forearm shapes: bit-identical on any
machine for the same inputs. Shading uses float32 and vectorised transcendental
functions, so pixels are identical on the same platform (numpy, OpenCV and CPU type) and
may differ by a grey level elsewhere. No OpenGL/EGL or GPU is needed, so nothing can fail
to open a context; the hand model's forward pass is where a GPU helps, and callers that
want labels bit-identical across machines should run it in float64 on the CPU.
"""

from handhdr.render.background import BackgroundSource, FolderBackgrounds, ProceduralBackgrounds
from handhdr.render.effects import CameraEffects
from handhdr.render.renderer import (
    HandGeometry,
    Look,
    PinholeCamera,
    Renderer,
    RenderResult,
    Scene,
    SceneLabels,
    sample_look,
)

__all__ = [
    "BackgroundSource",
    "CameraEffects",
    "FolderBackgrounds",
    "HandGeometry",
    "Look",
    "PinholeCamera",
    "ProceduralBackgrounds",
    "RenderResult",
    "Renderer",
    "Scene",
    "SceneLabels",
    "sample_look",
]
