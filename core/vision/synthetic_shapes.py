"""Synthetic captioned shapes: the data the tiny CLIP is trained on (no natural photos).

Each scene is one or two coloured shapes (circle, square, triangle, star, diamond, cross) of a
size (small/large) at a position (left/right/top/bottom/middle) on a light background, with a
templated caption such as "a small red circle on the left and a blue square". Images and
captions are a pure function of (split, seed, index): the train and held-out splits draw from
disjoint random streams, so held-out images are unseen draws from the same distribution (not
unseen concepts - every colour/shape pair also occurs in training). ``make_contrast_batch`` gives
hard negatives for training: groups of one scene that differ only in one object's shape or colour.

Arrays: images are uint8 (batch, height, width, 3).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40), "green": (40, 160, 60), "blue": (40, 80, 220),
    "yellow": (235, 200, 30), "purple": (140, 60, 180), "orange": (240, 130, 20),
}
SHAPES = ("circle", "square", "triangle", "star", "diamond", "cross")
SIZES = ("small", "large")
POSITIONS: dict[str, tuple[float, float]] = {   # centre as a fraction of (width, height)
    "on the left": (0.27, 0.5), "on the right": (0.73, 0.5),
    "at the top": (0.5, 0.27), "at the bottom": (0.5, 0.73), "in the middle": (0.5, 0.5),
}
PAIRS = (("on the left", "on the right"), ("at the top", "at the bottom"))
PREFIXES = ("", "a picture of ", "an image of ", "a drawing of ")
SPLITS = {"train": 0, "heldout": 1}


@dataclass(frozen=True)
class ShapesConfig:
    image_size: int = 64
    p_two: float = 0.5            # probability of a two-object scene
    p_drop_size: float = 0.3      # captions sometimes omit an attribute, so short prompts work
    p_drop_position: float = 0.3
    jitter: float = 0.06          # centre jitter as a fraction of the image side


DEFAULT = ShapesConfig()
PRESETS = {"default": DEFAULT}


@dataclass(frozen=True)
class ShapeObject:
    shape: str
    colour: str
    size: str
    position: str

    @property
    def label(self) -> str:
        """The zero-shot class of a single-object scene: "red circle"."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    objects: tuple[ShapeObject, ...]
    caption: str


def _phrase(o: ShapeObject, drop_size: bool, drop_position: bool) -> str:
    size = "" if drop_size else o.size + " "
    pos = "" if drop_position else " " + o.position
    return f"a {size}{o.colour} {o.shape}{pos}"


@dataclass(frozen=True)
class _Draw:
    """A scene's random choices before captioning, so a variant can keep the same caption wording."""
    objects: tuple[ShapeObject, ...]
    drops: tuple[tuple[bool, bool], ...]   # (drop size word, drop position word) per object
    prefix: str

    def scene(self) -> Scene:
        phrases = [_phrase(o, *d) for o, d in zip(self.objects, self.drops)]
        return Scene(self.objects, self.prefix + " and ".join(phrases))


def _draw(rng: np.random.Generator, cfg: ShapesConfig, n_objects: int | None) -> _Draw:
    n = n_objects or (2 if rng.random() < cfg.p_two else 1)
    if n == 1:
        positions = [str(rng.choice(list(POSITIONS)))]
    else:
        positions = list(PAIRS[rng.integers(len(PAIRS))])
        rng.shuffle(positions)
    objs = tuple(ShapeObject(str(rng.choice(SHAPES)), str(rng.choice(list(COLOURS))),
                             str(rng.choice(SIZES)), p) for p in positions)
    drops = tuple((bool(rng.random() < cfg.p_drop_size), bool(rng.random() < cfg.p_drop_position))
                  for _ in objs)
    return _Draw(objs, drops, PREFIXES[rng.integers(len(PREFIXES))])


def sample_scene(rng: np.random.Generator, cfg: ShapesConfig = DEFAULT,
                 n_objects: int | None = None) -> Scene:
    return _draw(rng, cfg, n_objects).scene()


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        angles = np.deg2rad([-90, 30, 150])
        return [(cx + r * np.cos(a), cy + r * np.sin(a) * 1.0 + r * 0.15) for a in angles]
    if shape == "diamond":
        return [(cx, cy - r), (cx + r * 0.75, cy), (cx, cy + r), (cx - r * 0.75, cy)]
    if shape == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.42
            a = np.deg2rad(-90 + 36 * k)
            pts.append((cx + rad * np.cos(a), cy + rad * np.sin(a)))
        return pts
    if shape == "cross":
        w = r * 0.38
        return [(cx - w, cy - r), (cx + w, cy - r), (cx + w, cy - w), (cx + r, cy - w), (cx + r, cy + w),
                (cx + w, cy + w), (cx + w, cy + r), (cx - w, cy + r), (cx - w, cy + w), (cx - r, cy + w),
                (cx - r, cy - w), (cx - w, cy - w)]
    raise ValueError(f"unknown polygon shape {shape!r}")


def render(scene: Scene, rng: np.random.Generator, cfg: ShapesConfig = DEFAULT) -> Image.Image:
    """Draw at 4x and downsample (anti-aliased edges), on a random light background."""
    s, k = cfg.image_size, 4
    bg = tuple(int(v) for v in rng.integers(205, 256, size=3))
    img = Image.new("RGB", (s * k, s * k), bg)
    draw = ImageDraw.Draw(img)
    for o in scene.objects:
        fx, fy = POSITIONS[o.position]
        cx = (fx + rng.uniform(-cfg.jitter, cfg.jitter)) * s * k
        cy = (fy + rng.uniform(-cfg.jitter, cfg.jitter)) * s * k
        r = (rng.uniform(0.12, 0.15) if o.size == "small" else rng.uniform(0.19, 0.23)) * s * k
        fill = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in COLOURS[o.colour])
        if o.shape == "circle":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        elif o.shape == "square":
            h = r * 0.85
            draw.rectangle([cx - h, cy - h, cx + h, cy + h], fill=fill)
        else:
            draw.polygon(_polygon(o.shape, cx, cy, r), fill=fill)
    return img.resize((s, s), Image.Resampling.BOX)


def _rng(split: str, seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of one item; stream > 0 keys streams disjoint from make_batch's (stream 0)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}")
    return np.random.default_rng([SPLITS[split], seed, index] + ([stream] if stream else []))


def make_batch(n: int, *, split: str = "train", seed: int = 0, start: int = 0,
               cfg: ShapesConfig = DEFAULT, n_objects: int | None = None):
    """Items start..start+n of a split: (images uint8 (batch, H, W, 3), captions, scenes)."""
    images, captions, scenes = [], [], []
    for i in range(start, start + n):
        rng = _rng(split, seed, i)
        scene = sample_scene(rng, cfg, n_objects)
        images.append(np.asarray(render(scene, rng, cfg)))
        captions.append(scene.caption)
        scenes.append(scene)
    return np.stack(images), captions, scenes


def make_contrast_batch(n_groups: int, group_size: int, *, split: str = "train", seed: int = 0,
                        start: int = 0, cfg: ShapesConfig = DEFAULT, colour_every: int = 0):
    """Groups start..start+n_groups of hard negatives: (images uint8 (n_groups*group_size, H, W, 3), captions, scenes).

    Each group is one scene redrawn group_size times with only one object's shape changed (or its
    colour, in every ``colour_every``-th group): same background, position, size, jitter and caption
    wording, so within a group only that word tells the captions apart. A stream of its own, apart
    from ``make_batch``'s.
    """
    images, captions, scenes = [], [], []
    for g in range(start, start + n_groups):
        attr = "colour" if colour_every and g % colour_every == colour_every - 1 else "shape"
        choices = SHAPES if attr == "shape" else tuple(COLOURS)
        pick = _rng(split, seed, g, stream=1)
        base = _draw(pick, cfg, None)
        k = int(pick.integers(len(base.objects)))                    # the object that varies
        own = getattr(base.objects[k], attr)
        others = [c for c in choices if c != own]
        values = [own] + [others[j] for j in pick.permutation(len(others))[:group_size - 1]]
        for v in values:
            objs = tuple(replace(o, **{attr: v}) if j == k else o for j, o in enumerate(base.objects))
            scene = replace(base, objects=objs).scene()
            rng = _rng(split, seed, g, stream=2)                     # identical render draws per member
            images.append(np.asarray(render(scene, rng, cfg)))
            captions.append(scene.caption)
            scenes.append(scene)
    return np.stack(images), captions, scenes


def class_names() -> list[str]:
    """Zero-shot classes for single-object scenes: every "colour shape" pair (36, chance 1/36)."""
    return [f"{c} {s}" for c in COLOURS for s in SHAPES]


def sample_scene_image(index: int = 1, cfg: ShapesConfig = DEFAULT) -> tuple[Image.Image, str]:
    """Bundled page samples: held-out scenes (odd index: two objects, even: one) and captions."""
    rng = _rng("heldout", 10_000, index)
    scene = sample_scene(rng, cfg, n_objects=2 if index % 2 else 1)
    return render(scene, rng, cfg), scene.caption
