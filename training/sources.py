"""The genuine photographs the dataset is built from: images bundled inside scikit-image.

Only images whose scikit-image docstring states a licence or the absence of copyright restrictions
are used; `moon`, `page` and `stereo_motorcycle` state none and are left out. The split is by
scene, fixed here, so no scene is in two splits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SKIMAGE = "scikit-image {version} bundled data (skimage.data.{name})"


@dataclass(frozen=True)
class Source:
    name: str
    split: str
    licence: str
    kind: str  # photo | texture | microscopy | astronomy | document


SOURCES = (
    Source("chelsea", "train", "CC0 (photographer Stefan van der Walt)", "photo"),
    Source("clock", "train", "public domain (photographer Stefan van der Walt)", "photo"),
    Source("hubble_deep_field", "train", "public domain (NASA)", "astronomy"),
    Source("immunohistochemistry", "train", "no known copyright restrictions", "microscopy"),
    Source("retina", "train", "CC0 1.0", "microscopy"),
    Source("brick", "train", "CC0 (CC0Textures)", "texture"),
    Source("cell", "train", "CC0", "microscopy"),
    Source("text", "train", "public domain, no known copyright restrictions", "document"),
    Source("coffee", "val", "CC0 (photographer Rachel Michetti)", "photo"),
    Source("camera", "val", "CC0 (photographer Lav Varshney)", "photo"),
    Source("gravel", "val", "CC0 (CC0Textures)", "texture"),
    Source("astronaut", "test", "public domain (NASA)", "photo"),
    Source("coins", "test", "no known copyright restrictions", "photo"),
    Source("rocket", "test", "public domain (SpaceX)", "photo"),
    Source("grass", "test", "CC0 (CC0Textures)", "texture"),
)

LFW = {
    "name": "lfw_subset",
    "licence": "no licence stated by scikit-image; faces from Labeled Faces in the Wild (news photographs, "
               "research use); used only as splice donors and never written to the committed eval sample",
    "split_of_index": lambda i: "train" if i < 60 else ("val" if i < 80 else "test"),
}


def load_rgb(name: str) -> np.ndarray:
    """The source as HxWx3 uint8 (grey images repeated on three channels, alpha dropped)."""
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)())
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def load_lfw_faces() -> np.ndarray:
    """The 100 face crops of skimage's LFW subset as 25x25 uint8 (the other 100 are non-faces)."""
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]
    return np.rint(np.clip(faces, 0, 1) * 255).astype(np.uint8)


def describe() -> list[dict]:
    import skimage

    rows = [{"source": s.name, "split": s.split, "licence": s.licence, "kind": s.kind,
             "origin": SKIMAGE.format(version=skimage.__version__, name=s.name)} for s in SOURCES]
    rows.append({"source": LFW["name"], "split": "faces 0-59 train, 60-79 val, 80-99 test",
                 "licence": LFW["licence"], "kind": "face crops 25x25 grey",
                 "origin": SKIMAGE.format(version=skimage.__version__, name="lfw_subset")})
    return rows
