"""Camera rigs and viewpoints of the synthetic studio.

Like InterHand2.6M, every capture has a rig of calibrated cameras (rotation, position,
focal length, principal point), shared by its frames: ``_camera.json`` stays small and
world coordinates differ from camera coordinates, as in the real data. A capture
holds :data:`FRAMES_PER_CAPTURE` consecutive sample indices; its rig is a pure
function of (seed, capture, view, size).

Three views decide where the camera is relative to the person (:func:`body_to_camera`)
and how large the hands look (:data:`VIEW_SPECS`):

* ``studio``: cameras all around the hands (not from behind the body), upright,
  0.5-1.2 m away, normal lenses (InterHand2.6M-like);
* ``ego``: a head-mounted wide-angle camera looking down at the hands, 0.25-0.6 m;
* ``third``: a camera in front of the person (webcam, phone), 0.8-2.5 m, small hands.

The *body frame* used by the scenes (right-handed): x = the person's right, y = up,
z = towards the person (the hands are in front, at -z); metres.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from handhdr.synth.seeding import rig_rng

FRAMES_PER_CAPTURE = 1000
CAMERA_NAME_BASE = 400000  # camera names look like InterHand2.6M's ("400012")


@dataclass(frozen=True)
class ViewSpec:
    """Lens, distance and hand-size ranges of one view."""

    rig_cameras: int
    rig_radius_m: float  # distance of the rig cameras from the world origin
    focal_per_width: tuple[float, float]  # fx = fy = width * U(a, b)
    distance_m: tuple[float, float]  # hand-scene centre to camera
    hand_fraction: tuple[float, float]  # one hand's length over the image height
    roll_deg: float  # std of the roll around the optical axis


VIEW_SPECS: dict[str, ViewSpec] = {
    "studio": ViewSpec(40, 1.0, (1.2, 1.8), (0.5, 1.2), (0.3, 0.7), 20.0),
    "ego": ViewSpec(10, 0.4, (0.55, 0.8), (0.25, 0.6), (0.3, 0.8), 12.0),
    "third": ViewSpec(20, 1.5, (0.8, 1.3), (0.8, 2.5), (0.12, 0.35), 8.0),
}
REFERENCE_HAND_LENGTH_M = 0.19  # wrist to middle fingertip of an average adult hand


@dataclass(frozen=True)
class Camera:
    """One calibrated camera in InterHand2.6M terms: ``X_cam = R (X_world - campos)``."""

    name: str
    rotation: np.ndarray  # (3, 3) world -> camera
    campos: np.ndarray  # (3,) camera position in world coordinates, mm
    focal: np.ndarray  # (2,) fx, fy in pixels
    princpt: np.ndarray  # (2,) cx, cy in pixels

    @property
    def intrinsics(self) -> np.ndarray:
        """3x3 ``K``."""
        from handhdr.camera import intrinsics_matrix

        return intrinsics_matrix(self.focal, self.princpt)


def capture_of(index: int) -> int:
    """Capture id of sample ``index`` (consecutive blocks of FRAMES_PER_CAPTURE)."""
    return index // FRAMES_PER_CAPTURE


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """World->camera rotation of a camera at ``eye`` looking at ``target``.

    Camera axes as in OpenCV / InterHand2.6M: x right, y down, z forward; ``up``
    (world direction) appears upwards in the image.
    """
    forward = np.asarray(target, np.float64) - np.asarray(eye, np.float64)
    forward /= np.linalg.norm(forward)
    up = np.asarray(up, np.float64)
    if abs(float(np.dot(forward, up / np.linalg.norm(up)))) > 0.999:
        up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def roll_about_z(angle: float) -> np.ndarray:
    """Rotation by ``angle`` (radians) about the camera's optical axis."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@functools.lru_cache(maxsize=64)
def camera_rig(seed: int, capture: int, view: str, width: int, height: int) -> tuple[Camera, ...]:
    """The cameras of one capture, pointing at the world origin from all around."""
    spec = VIEW_SPECS[view]
    rng = rig_rng(seed, capture)
    cameras = []
    for k in range(spec.rig_cameras):
        azimuth = rng.uniform(0.0, 2.0 * math.pi)
        elevation = math.radians(rng.uniform(-30.0, 70.0))
        eye = spec.rig_radius_m * np.array(
            [
                math.cos(elevation) * math.sin(azimuth),
                math.sin(elevation),
                math.cos(elevation) * math.cos(azimuth),
            ]
        )
        rotation = roll_about_z(math.radians(rng.normal(0.0, 3.0))) @ look_at(
            eye, np.zeros(3), np.array([0.0, 1.0, 0.0])
        )
        f = width * rng.uniform(*spec.focal_per_width)
        princpt = np.array(
            [width / 2 + rng.normal(0.0, 0.01 * width), height / 2 + rng.normal(0.0, 0.01 * height)]
        )
        cameras.append(
            Camera(
                name=str(CAMERA_NAME_BASE + k),
                rotation=rotation,
                campos=eye * 1000.0,
                focal=np.array([f, f]),
                princpt=princpt,
            )
        )
    return tuple(cameras)


def body_to_camera(rng: np.random.Generator, view: str) -> np.ndarray:
    """Rotation from the body frame to the camera frame for one random viewpoint."""
    if view == "studio":
        while True:  # anywhere around the hands, but not from behind the body
            direction = rng.normal(size=3)
            direction /= np.linalg.norm(direction)
            if direction[2] < 0.5:
                break
    elif view == "ego":  # the head: above the hands, on the person's side
        direction = np.array([rng.normal(0.0, 0.12), rng.uniform(0.6, 1.0), rng.uniform(0.3, 0.8)])
    elif view == "third":  # in front of the person, about chest height
        direction = np.array([rng.normal(0.0, 0.35), rng.uniform(-0.05, 0.4), -1.0])
    else:
        raise ValueError(f"unknown view {view!r}; expected one of {sorted(VIEW_SPECS)}")
    direction /= np.linalg.norm(direction)
    rotation = look_at(direction, np.zeros(3), np.array([0.0, 1.0, 0.0]))
    roll = math.radians(rng.normal(0.0, VIEW_SPECS[view].roll_deg))
    return roll_about_z(roll) @ rotation


def place_in_view(
    rng: np.random.Generator,
    points_cam: np.ndarray,
    camera: Camera,
    view: str,
    width: int,
    height: int,
    hand_length_m: float = REFERENCE_HAND_LENGTH_M,
    margin_px: float = 4.0,
) -> np.ndarray:
    """Translation (metres) that puts rotated scene points in the camera's view.

    ``points_cam`` are the scene points (metres) already rotated into camera axes and
    centred near the origin. The distance makes one hand span a random fraction of
    the image height (within the view's distance range, farther if the scene would
    not fit), and the scene is shifted to a random position where it stays inside
    the frame when it can.
    """
    spec = VIEW_SPECS[view]
    f = float(camera.focal[0])
    fraction = rng.uniform(*spec.hand_fraction)
    distance = np.clip(f * hand_length_m / (fraction * height), *spec.distance_m)
    cx, cy = (float(v) for v in camera.princpt)
    for _ in range(8):  # move back until the scene fits into 90% of the frame
        z = points_cam[:, 2] + distance
        if z.min() > 0.05:
            u = f * points_cam[:, 0] / z
            v = f * points_cam[:, 1] / z
            if np.ptp(u) <= 0.9 * width and np.ptp(v) <= 0.9 * height:
                break
        distance *= 1.15
    z = points_cam[:, 2] + distance
    u = f * points_cam[:, 0] / z
    v = f * points_cam[:, 1] / z
    shift = np.zeros(2)
    for axis, (lo, hi, centre, extent) in enumerate(
        ((u.min(), u.max(), cx, width), (v.min(), v.max(), cy, height))
    ):
        low = margin_px - (centre + lo)  # smallest shift that keeps the min edge inside
        high = extent - margin_px - (centre + hi)
        shift[axis] = rng.uniform(low, high) if low < high else 0.5 * (low + high)
    # a shift at the centre's depth moves near points more: correct what leaves the frame
    for _ in range(6):
        lateral = points_cam[:, :2] + shift * distance / f
        pixels = f * lateral / z[:, None] + np.array([cx, cy])
        fix = np.zeros(2)
        for axis, extent in enumerate((width, height)):
            below = margin_px - pixels[:, axis].min()
            above = pixels[:, axis].max() - (extent - margin_px)
            if below > 0 and above <= 0:
                fix[axis] = below
            elif above > 0 and below <= 0:
                fix[axis] = -above
        if not fix.any():
            break
        shift += 1.05 * fix
    return np.array([shift[0] * distance / f, shift[1] * distance / f, distance])
