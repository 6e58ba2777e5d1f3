"""Scenes of one or two hands, built in the body frame from small parametric recipes.

Body frame: metres, x = the person's right, y = up, z = towards the person (so the
hands are in front, at -z). Each two-hand recipe fixes the relative placement of the
palms and a family of gestures, with random variation:

* ``touch``: palms facing each other, the two hands touching (steeple, fingertips);
* ``cross``: the hands crossed, one over the other, at the palms or the wrists;
* ``clasp``: palms together, fingers of each curled around the other hand;
* ``interlock``: palms facing, fingers spread and curled, offset by half a finger;
* ``palm_over_back``: one palm lying on the back of the other hand;
* ``pinch``: one hand pinching a finger of the other;
* ``near``: two hands near each other without contact (1-10 cm apart).

Hands never interpenetrate: a capsule test (:mod:`handhdr.synth.collision`) moves
one hand along the recipe's contact normal until the skins only touch (or, for
``near``, are the chosen gap apart); a scene that would need more than 15 cm is
rejected and drawn again (counted in ``counters["rejected_interpenetration"]``).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from handhdr.synth.collision import Capsules, hand_capsules, separate
from handhdr.synth.hands import HandKit, PosedHand, frame_from

INTERACTIONS: tuple[str, ...] = (
    "touch",
    "cross",
    "clasp",
    "interlock",
    "palm_over_back",
    "pinch",
    "near",
)
FORWARD = np.array([0.0, 0.0, -1.0])
UP = np.array([0.0, 1.0, 0.0])
RIGHT = np.array([1.0, 0.0, 0.0])
MAX_SCENE_TRIES = 20
MAX_PUSH_M = 0.15  # plus the gap of a ``near`` scene
PALM_JOINTS = (20, 7, 11, 15, 19)  # wrist and the four finger MCPs

OPEN_GESTURES = ("flat", "spread", "relaxed", "five", "together")
CURLED_GESTURES = ("grasp", "claw", "relaxed", "fist")
POINTING_GESTURES = ("point", "one", "flat", "spread", "two")
PINCHING_GESTURES = ("pinch", "ok")


@dataclass
class Scene:
    """Hands in the body frame and how the scene was made."""

    hand_type: str  # "right", "left" or "interacting"
    interaction: str  # "single" or one of INTERACTIONS
    hands: dict[str, PosedHand]
    counters: Counter[str] = field(default_factory=Counter)


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1."""
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by ``angle`` (radians) about ``axis``."""
    k = unit(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def jitter(rng: np.random.Generator, direction: np.ndarray, max_deg: float) -> np.ndarray:
    """``direction`` turned by a random angle up to ``max_deg`` about a random axis."""
    axis = np.cross(unit(direction), unit(rng.normal(size=3)))
    if np.linalg.norm(axis) < 1e-9:
        return unit(direction)
    return axis_rotation(axis, math.radians(rng.uniform(0.0, max_deg))) @ unit(direction)


def palm_centre(hand: PosedHand) -> np.ndarray:
    """Centre of the palm (mean of the wrist and the four finger MCPs)."""
    return hand.joints[list(PALM_JOINTS)].mean(axis=0)


def orient(hand: PosedHand, forward: np.ndarray, normal: np.ndarray) -> PosedHand:
    """Rotate ``hand`` about its wrist so that its fingers point along ``forward`` and its
    palm faces ``normal``."""
    rotation = frame_from(forward, normal, hand.side) @ hand.frame().T
    wrist = hand.joints[20]
    return hand.moved(rotation, wrist - rotation @ wrist)


def put(hand: PosedHand, point: np.ndarray, target: np.ndarray) -> PosedHand:
    """Translate ``hand`` so that its ``point`` lands on ``target``."""
    return hand.shifted(np.asarray(target) - np.asarray(point))


def natural_forward(rng: np.random.Generator) -> np.ndarray:
    """A finger direction of hands held in front of the body: forward to up, +-45 deg yaw."""
    elevation = math.radians(rng.uniform(-20.0, 80.0))
    yaw = math.radians(rng.uniform(-45.0, 45.0))
    f = math.cos(elevation) * FORWARD + math.sin(elevation) * UP
    return axis_rotation(UP, yaw) @ f


def any_normal(rng: np.random.Generator, forward: np.ndarray) -> np.ndarray:
    """A random palm normal perpendicular to ``forward``."""
    v = rng.normal(size=3)
    v -= (v @ forward) * forward
    return unit(v)


class SceneSampler:
    """Draws single-hand and two-hand scenes with a :class:`HandKit`."""

    def __init__(self, kit: HandKit) -> None:
        from handhdr.hand.pose import GESTURES, sample_angles, sample_gesture_angles

        self.kit = kit
        self._gestures = GESTURES
        self._sample_angles = sample_angles
        self._sample_gesture = sample_gesture_angles

    # ---------------------------------------------------------------- hands
    def betas(self, rng: np.random.Generator) -> np.ndarray:
        """One person's hand shape (MANO-like betas)."""
        return np.clip(rng.normal(0.0, 1.0, self.kit.num_betas), -2.5, 2.5)

    def hand(
        self,
        rng: np.random.Generator,
        side: str,
        betas: np.ndarray,
        gestures: tuple[str, ...] | None = None,
    ) -> PosedHand:
        """An articulated hand: near the named gestures, or from the default pose prior."""
        if gestures is None:
            angles, name = self._sample_angles(rng, 1)[0], "prior"
        else:
            subset = {g: self._gestures[g] for g in gestures if g in self._gestures}
            angles = self._sample_gesture(rng, 1, gestures=subset, noise=0.08)[0]
            name = "+".join(sorted(subset))
        own_betas = betas + rng.normal(0.0, 0.05, betas.shape)  # two hands of one person
        return self.kit.articulate(side, angles, own_betas, gesture=name)

    # ---------------------------------------------------------------- scenes
    def single(self, rng: np.random.Generator, side: str) -> Scene:
        """One hand held in front of the body in a random pose."""
        hand = self.hand(rng, side, self.betas(rng))
        forward = natural_forward(rng)
        hand = orient(hand, forward, any_normal(rng, forward))
        return Scene(side, "single", {side: put(hand, palm_centre(hand), np.zeros(3))})

    def interacting(self, rng: np.random.Generator, interaction: str | None = None) -> Scene:
        """Two hands in one of :data:`INTERACTIONS` (random when None)."""
        counters: Counter[str] = Counter()
        for _ in range(MAX_SCENE_TRIES):
            name = interaction or INTERACTIONS[int(rng.integers(len(INTERACTIONS)))]
            recipe = getattr(self, f"_{name}")
            right, left, direction, gap = recipe(rng, self.betas(rng))
            resolved = self._resolve(right, left, direction, gap)
            if resolved is None:
                counters["rejected_interpenetration"] += 1
                continue
            right, left, pushed = resolved
            counters["pushed_apart"] += int(pushed)
            centre = np.concatenate([right.joints, left.joints]).mean(axis=0)
            hands = {"right": right.shifted(-centre), "left": left.shifted(-centre)}
            return Scene("interacting", name, hands, counters)
        raise RuntimeError(
            f"no interpenetration-free {interaction or 'two-hand'} scene in {MAX_SCENE_TRIES} tries"
        )

    def _resolve(
        self, right: PosedHand, left: PosedHand, direction: np.ndarray, gap: float
    ) -> tuple[PosedHand, PosedHand, bool] | None:
        """Move ``left`` along ``direction`` until it no longer penetrates ``right``."""
        ids = self.kit.collision_ids
        caps_r = self.capsules(right)
        caps_l = self.capsules(left)
        shift = separate(
            right.vertices[ids], caps_r, left.vertices[ids], caps_l, direction,
            gap_m=gap, max_push_m=MAX_PUSH_M + gap,
        )  # fmt: skip
        if shift is None:
            return None
        return right, left.shifted(shift), bool(np.linalg.norm(shift) > 1e-6)

    def capsules(self, hand: PosedHand) -> Capsules:
        """The collision capsules of a posed hand."""
        return hand_capsules(hand.joints, hand.vertices[self.kit.collision_ids])

    # ---------------------------------------------------------------- recipes
    # Each returns (right, left, direction in which left is pushed, gap in metres).

    def _touch(self, rng, betas):
        a = math.radians(rng.uniform(0.0, 80.0))
        forward = jitter(rng, math.cos(a) * UP + math.sin(a) * FORWARD, 15.0)
        right = self.hand(rng, "right", betas, OPEN_GESTURES)
        left = self.hand(rng, "left", betas, OPEN_GESTURES)
        right = orient(right, jitter(rng, forward, 12.0), jitter(rng, -RIGHT, 35.0))
        left = orient(left, jitter(rng, forward, 12.0), jitter(rng, RIGHT, 35.0))
        anchor = ("palm", "tips", "index")[int(rng.integers(3))]
        points = {
            "palm": palm_centre,
            "tips": lambda h: h.joints[[0, 4, 8, 12, 16]].mean(axis=0),
            "index": lambda h: h.joints[4],
        }[anchor]
        right = put(right, points(right), np.zeros(3))
        left = put(left, points(left), np.zeros(3))
        return right, left, jitter(rng, -RIGHT, 10.0), 0.0

    def _cross(self, rng, betas):
        right = self.hand(rng, "right", betas)
        left = self.hand(rng, "left", betas)
        facing = (-UP, -FORWARD, FORWARD)
        f_r = jitter(rng, unit(-RIGHT + 0.8 * FORWARD), 20.0)
        f_l = jitter(rng, unit(RIGHT + 0.8 * FORWARD), 20.0)
        right = orient(right, f_r, jitter(rng, facing[int(rng.integers(3))], 25.0))
        left = orient(left, f_l, jitter(rng, facing[int(rng.integers(3))], 25.0))
        at_wrists = rng.random() < 0.4
        point = (lambda h: h.joints[20]) if at_wrists else palm_centre
        offset = rng.normal(0.0, 0.015, 3)
        right = put(right, point(right), np.zeros(3))
        left = put(left, point(left), offset)
        side = 1.0 if rng.random() < 0.5 else -1.0
        return right, left, side * jitter(rng, UP, 10.0), 0.0

    def _clasp(self, rng, betas):
        forward = jitter(rng, unit(FORWARD + 0.3 * UP), 20.0)
        right = self.hand(rng, "right", betas, CURLED_GESTURES)
        left = self.hand(rng, "left", betas, CURLED_GESTURES)
        right = orient(right, forward, -RIGHT)
        turn = math.radians(rng.uniform(60.0, 120.0)) * (1 if rng.random() < 0.5 else -1)
        f_l = axis_rotation(RIGHT, turn) @ forward
        left = orient(left, jitter(rng, f_l, 10.0), jitter(rng, RIGHT, 15.0))
        right = put(right, palm_centre(right), np.zeros(3))
        left = put(left, palm_centre(left), np.zeros(3))
        return right, left, jitter(rng, -RIGHT, 8.0), 0.0

    def _interlock(self, rng, betas):
        forward = jitter(rng, unit(UP + 0.5 * FORWARD), 25.0)
        gestures = ("spread", "claw", "grasp")
        right = orient(self.hand(rng, "right", betas, gestures), forward, -RIGHT)
        left = orient(self.hand(rng, "left", betas, gestures), jitter(rng, forward, 8.0), RIGHT)
        thumb_side = right.frame()[:, 1]
        half_finger = rng.choice([-1.0, 1.0]) * rng.uniform(0.007, 0.012)
        right = put(right, palm_centre(right), np.zeros(3))
        left = put(left, palm_centre(left), half_finger * thumb_side)
        return right, left, jitter(rng, -RIGHT, 5.0), 0.0

    def _palm_over_back(self, rng, betas):
        top_side = "right" if rng.random() < 0.5 else "left"
        hands = {
            side: self.hand(rng, side, betas, OPEN_GESTURES + CURLED_GESTURES)
            for side in ("right", "left")
        }
        yaw = math.radians(rng.uniform(-60.0, 60.0))
        f_bottom = axis_rotation(UP, yaw) @ FORWARD
        f_top = axis_rotation(UP, math.radians(rng.uniform(-90.0, 90.0))) @ f_bottom
        bottom_side = "left" if top_side == "right" else "right"
        bottom = orient(hands[bottom_side], jitter(rng, f_bottom, 10.0), jitter(rng, -UP, 20.0))
        top = orient(hands[top_side], jitter(rng, f_top, 10.0), jitter(rng, -UP, 20.0))
        bottom = put(bottom, palm_centre(bottom), np.zeros(3))
        top = put(top, palm_centre(top), rng.normal(0.0, 0.015, 3) * [1, 0, 1])
        # the pushed hand is always ``left``: push it up when on top, down otherwise
        direction = jitter(rng, UP if top_side == "left" else -UP, 8.0)
        right, left = (top, bottom) if top_side == "right" else (bottom, top)
        return right, left, direction, 0.0

    def _pinch(self, rng, betas):
        pincher_side = "right" if rng.random() < 0.5 else "left"
        target_side = "left" if pincher_side == "right" else "right"
        target = self.hand(rng, target_side, betas, POINTING_GESTURES)
        pincher = self.hand(rng, pincher_side, betas, PINCHING_GESTURES)
        f_t = natural_forward(rng)
        target = orient(target, f_t, any_normal(rng, f_t))
        f_p = natural_forward(rng)
        pincher = orient(pincher, f_p, any_normal(rng, f_p))
        finger = unit(target.joints[4] - target.joints[6])  # index PIP -> tip
        spot = target.joints[6] + rng.uniform(0.2, 0.8) * (target.joints[4] - target.joints[6])
        pinch_axis = unit(pincher.joints[0] - pincher.joints[4])  # index tip -> thumb tip
        wanted = pinch_axis - (pinch_axis @ finger) * finger
        if np.linalg.norm(wanted) > 1e-6:
            align = _rotation_between(pinch_axis, unit(wanted))
            pivot = pincher.joints[[0, 4]].mean(axis=0)
            pincher = pincher.moved(align, pivot - align @ pivot)
        pinch_point = pincher.joints[[0, 4]].mean(axis=0)
        pincher = put(pincher, pinch_point, spot)
        away = palm_centre(pincher) - spot
        away -= (away @ finger) * finger
        right, left = (pincher, target) if pincher_side == "right" else (target, pincher)
        direction = unit(away) if pincher_side == "left" else -unit(away)
        return right, left, direction, 0.0

    def _near(self, rng, betas):
        right, left = self.hand(rng, "right", betas), self.hand(rng, "left", betas)
        f_r, f_l = natural_forward(rng), natural_forward(rng)
        right = orient(right, f_r, any_normal(rng, f_r))
        left = orient(left, f_l, any_normal(rng, f_l))
        right = put(right, palm_centre(right), np.zeros(3))
        left = put(left, palm_centre(left), np.zeros(3))
        direction = jitter(rng, -RIGHT, 50.0)
        return right, left, direction, rng.uniform(0.01, 0.10)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    axis = np.cross(a, b)
    s = float(np.linalg.norm(axis))
    if s < 1e-12:
        return np.eye(3)
    return axis_rotation(axis, math.atan2(s, float(a @ b)))
