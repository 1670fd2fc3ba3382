"""The two detectors as torch modules. Both take NCHW float32 RGB in [0, 1], 128x128, and end in
a calibrated probability that the crop is synthetic, so the exported ONNX graphs share one contract.
"""
from __future__ import annotations

import math

import torch
from torch import nn

SIZE = 128


class LogPowerSpectrum(nn.Module):
    """Grey -> Hann window -> 2-D DFT as two fixed matmuls -> log power -> ring statistics.

    Returns per-ring mean (`bins` rings) and per-ring max minus mean (`peak_bins` rings) of the
    log power, with the per-image mean removed so global contrast does not matter.
    """

    def __init__(self, size: int = SIZE, bins: int = 64, peak_bins: int = 32):
        super().__init__()
        # A real image's power spectrum is point-symmetric, so columns 0..size/2 hold every value:
        # computing only those halves the graph's constants and its work.
        half = size // 2 + 1
        k = torch.arange(size, dtype=torch.float64)
        angle = 2 * math.pi * torch.outer(k, k) / size
        self.register_buffer("cos", torch.cos(angle).float())
        self.register_buffer("sin", torch.sin(angle).float())
        self.register_buffer("cos_half", torch.cos(angle[:, :half]).float())
        self.register_buffer("sin_half", torch.sin(angle[:, :half]).float())
        hann = torch.hann_window(size, periodic=False, dtype=torch.float64)
        self.register_buffer("window", torch.outer(hann, hann).float())
        self.register_buffer("grey", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))
        f = torch.minimum(k, size - k)
        radius = (torch.sqrt(f[:, None] ** 2 + k[None, :half] ** 2) / (size / 2)).flatten()
        weight = torch.ones(size, half, dtype=torch.float64)
        weight[:, 1:half - 1] = 2.0  # columns mirrored in the unstored half count twice
        self.register_buffer("ring_mean", self._ring_mean(radius, weight.flatten(), bins))
        self.register_buffer("ring_member", self._ring_member(radius, peak_bins))
        self.register_buffer("coarse", self._coarse(bins, peak_bins))

    @staticmethod
    def _ring_index(radius: torch.Tensor, bins: int) -> torch.Tensor:
        return torch.clamp((radius * bins).long(), max=bins)  # index == bins: corner beyond Nyquist

    @classmethod
    def _ring_mean(cls, radius, weight, bins: int) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(cls._ring_index(radius, bins), bins + 1)[:, :bins].double()
        onehot = onehot * weight[:, None]
        return (onehot / onehot.sum(0, keepdim=True)).float()        # (H*half, bins)

    @classmethod
    def _ring_member(cls, radius, bins: int) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(cls._ring_index(radius, bins), bins + 1)[:, :bins]
        return onehot.t().bool().contiguous()                          # (bins, H*half)

    @staticmethod
    def _coarse(bins: int, peak_bins: int) -> torch.Tensor:
        group = bins // peak_bins
        m = torch.zeros(bins, peak_bins)
        for j in range(peak_bins):
            m[j * group:(j + 1) * group, j] = 1.0 / group
        return m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = (x * self.grey).sum(1)
        g = (g - g.mean(dim=(1, 2), keepdim=True)) * self.window
        re = self.cos @ g @ self.cos_half - self.sin @ g @ self.sin_half
        im = self.cos @ g @ self.sin_half + self.sin @ g @ self.cos_half
        logp = torch.log(re * re + im * im + 1e-8).flatten(1)           # (N, H*half)
        mean = logp @ self.ring_mean                                      # (N, bins)
        floor = torch.full_like(logp, -1e4).unsqueeze(1)
        peak = torch.where(self.ring_member, logp.unsqueeze(1), floor).amax(-1)  # (N, peak_bins)
        peak = peak - mean @ self.coarse
        mean = mean - mean.mean(1, keepdim=True)
        return torch.cat([mean, peak], 1)


class SpectrumDetector(nn.Module):
    """Spectrum features -> fixed standardisation -> small MLP -> Platt-calibrated probability."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.features = LogPowerSpectrum()
        n = self.features.ring_mean.shape[1] + self.features.ring_member.shape[0]
        self.register_buffer("mu", torch.zeros(n))
        self.register_buffer("sd", torch.ones(n))
        self.head = nn.Sequential(nn.Linear(n, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, 1))
        self.register_buffer("platt", torch.tensor([1.0, 0.0]))

    def logit_from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.head((f - self.mu) / self.sd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.logit_from_features(self.features(x))
        return torch.sigmoid(self.platt[0] * z + self.platt[1])


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class ArtifactCNN(nn.Module):
    """A small CNN that reads full resolution in its first layer (resampling traces live in the
    highest frequencies) and downsamples with learned strided convolutions before any pooling;
    sized to train on two CPU cores in minutes."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            _block(3, 16, 2), _block(16, 24, 2), _block(24, 32), nn.MaxPool2d(2),
            _block(32, 64), nn.MaxPool2d(2), _block(64, 64))
        self.head = nn.Linear(128, 1)
        self.register_buffer("platt", torch.tensor([1.0, 0.0]))

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x * 2.0 - 1.0)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], 1)
        return self.head(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.platt[0] * self.logit(x) + self.platt[1])


def export_onnx(model: nn.Module, path, output_name: str = "p_synthetic") -> None:
    model.eval()
    dummy = torch.rand(2, 3, SIZE, SIZE)
    torch.onnx.export(model, (dummy,), str(path), input_names=["image"], output_names=[output_name],
                      dynamic_axes={"image": {0: "batch"}, output_name: {0: "batch"}}, opset_version=17,
                      dynamo=False)
