"""The manipulations that make the synthetic class, each a pure function of pixels and a seeded RNG.

Every function takes and returns HxWx3 uint8 arrays and returns a `detail` dict of the parameters it
drew, so the manifest can say exactly what was done to each sample.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

SIZE = 128
_PIL_FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def box_downscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Integer area averaging: shrinks without leaving periodic resampling traces."""
    if factor == 1:
        return img
    h, w = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
    blocks = img[:h, :w].reshape(h // factor, factor, w // factor, factor, 3).astype(np.float32)
    return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)


def _resize(img: np.ndarray, size: int, method: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((size, size), method))


def resample_up(crop: np.ndarray, rng: np.random.Generator, method: str):
    """Shrink (antialiased) and enlarge back with `method`: the trace an upscaler leaves."""
    factor = float(rng.choice([2.0, 3.0, 4.0])) if rng.random() < 0.5 else float(rng.uniform(1.3, 4.0))
    low = _resize(crop, max(8, round(SIZE / factor)), Image.LANCZOS)
    return _resize(low, SIZE, _PIL_FILTERS[method]), {"factor": round(factor, 3)}


def _tconv_kernel(rng: np.random.Generator, k: int, stride: int) -> np.ndarray:
    """A smooth, randomly perturbed kernel; its taps are not balanced across the stride phases,
    which is what makes the checkerboard of transposed convolutions."""
    tri = 1.0 - np.abs(np.linspace(-1, 1, k + 2)[1:-1])
    strength = rng.uniform(0.05, 0.35)  # from barely visible to an obvious checkerboard
    base = np.outer(tri, tri) * (1.0 + strength * rng.standard_normal((k, k)))
    base = np.clip(base, 0.0, None) + 1e-3
    return base * (stride * stride / base.sum())


def transposed_conv_up(crop: np.ndarray, rng: np.random.Generator):
    """Generator-style upsampling: zero insertion plus a k x k kernel, optionally a 3x3 refinement."""
    stride = int(rng.choice([2, 2, 3]))
    k = int(rng.choice([s for s in (3, 4, 5, 6, 7) if s >= stride]))
    n_low = SIZE // stride + 3
    low = _resize(crop, n_low, Image.LANCZOS).astype(np.float32)
    up = np.zeros((n_low * stride, n_low * stride, 3), np.float32)
    up[::stride, ::stride] = low
    kernel = _tconv_kernel(rng, k, stride)
    # one kernel for all channels: a grey scene stays grey, so colour is never the cue
    out = np.stack([ndimage.convolve(up[..., c], kernel, mode="mirror") for c in range(3)], axis=-1)
    refine = bool(rng.random() < 0.5)
    if refine:
        r = np.zeros((3, 3), np.float32)
        r[1, 1] = 1.0
        r += 0.08 * rng.standard_normal((3, 3))
        r /= r.sum()
        out = np.stack([ndimage.convolve(out[..., c], r, mode="mirror") for c in range(3)], axis=-1)
    off = (out.shape[0] - SIZE) // 2
    out = out[off:off + SIZE, off:off + SIZE]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), {"stride": stride, "kernel": k, "refine": refine}


def _ellipse_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    ry, rx = (h / 2 - 2) * rng.uniform(0.75, 1.0), (w / 2 - 2) * rng.uniform(0.75, 1.0)
    return (((yy - (h - 1) / 2) / ry) ** 2 + ((xx - (w - 1) / 2) / rx) ** 2 <= 1.0).astype(np.float32)


def splice(host: np.ndarray, donor: np.ndarray, rng: np.random.Generator, blend: str):
    """Paste `donor` (already sized) into `host` inside an ellipse, by feathered alpha or Poisson."""
    if (host[..., 0] == host[..., 1]).all() and (host[..., 0] == host[..., 2]).all():
        donor = np.repeat(np.rint(donor.astype(np.float32).mean(axis=2, keepdims=True)), 3, 2).astype(np.uint8)
    h, w = donor.shape[:2]
    y = int(rng.integers(4, SIZE - h - 4))
    x = int(rng.integers(4, SIZE - w - 4))
    mask = _ellipse_mask(h, w, rng)
    if blend == "alpha":
        sigma = float(rng.uniform(1.5, 4.0))
        alpha = ndimage.gaussian_filter(mask, sigma)[..., None]
        region = host[y:y + h, x:x + w].astype(np.float32)
        out = host.copy()
        out[y:y + h, x:x + w] = np.rint(alpha * donor + (1 - alpha) * region).astype(np.uint8)
        return out, {"blend": "alpha", "box": [x, y, w, h], "feather_sigma": round(sigma, 2)}
    center = (x + w // 2, y + h // 2)
    out = cv2.seamlessClone(np.ascontiguousarray(donor[..., ::-1]), np.ascontiguousarray(host[..., ::-1]),
                            (mask * 255).astype(np.uint8), center, cv2.NORMAL_CLONE)[..., ::-1]
    return np.ascontiguousarray(out), {"blend": "poisson", "box": [x, y, w, h]}


def face_donor(face_gray: np.ndarray, host: np.ndarray, rng: np.random.Generator):
    """An LFW face (25x25 grey) enlarged bilinearly and tinted towards the host's colour."""
    side = int(rng.integers(40, 73))
    face = np.asarray(Image.fromarray(face_gray).resize((side, side), Image.BILINEAR)).astype(np.float32)
    mean = host.reshape(-1, 3).astype(np.float32).mean(axis=0) + 1.0
    tint = mean / mean.mean()
    rgb = np.clip(face[..., None] * tint[None, None, :], 0, 255)
    return np.rint(rgb).astype(np.uint8), {"donor": "lfw_face", "donor_side": side}


def scene_donor(other: np.ndarray, rng: np.random.Generator):
    """A region of another scene, rescaled bilinearly (a copy-move or splice from elsewhere)."""
    side = int(rng.integers(32, 65))
    scale = float(rng.uniform(0.6, 1.6))
    src = max(8, min(SIZE, round(side / scale)))
    y, x = rng.integers(0, SIZE - src + 1, size=2)
    region = other[y:y + src, x:x + src]
    donor = np.asarray(Image.fromarray(region).resize((side, side), Image.BILINEAR))
    return donor, {"donor": "scene_region", "donor_side": side, "donor_scale": round(scale, 3)}


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode as JPEG (Pillow defaults: 4:2:0 chroma) and decode again."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))
