"""A small causal temporal network: per-frame features in, PSPI, AUs and pain_prob out.

Dilated causal convolutions (kernel 3, dilations 1-2-4-8-16: a receptive field of 63
frames, 2.5 s at the model's 25 Hz) with residual connections. Causal, so the same
weights serve a live camera: ``step`` takes one frame and a cache of the past inputs
each layer needs, and gives the same numbers as ``forward`` over the whole sequence.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["HEADS", "StreamState", "TemporalPainNet"]

#: Output channels, in order.
HEADS = ("au4", "au6", "au7", "au9", "au10", "au43", "pain")


class _CausalBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.kernel = kernel
        self.dilation = dilation
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T) -> (B, C, T)``."""
        h = self.conv(F.pad(x, (self.pad, 0)))
        h = self.mix(self.drop(F.gelu(h)))
        return x + h

    def step(self, x: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame ``(B, C)`` with the last ``pad`` inputs ``(B, C, pad)``."""
        window = torch.cat([past, x[:, :, None]], dim=2)  # (B, C, pad + 1)
        taps = window[:, :, :: self.dilation]  # the kernel's inputs, oldest first
        h = torch.einsum("bck,ock->bo", taps, self.conv.weight) + self.conv.bias
        h = F.linear(F.gelu(h), self.mix.weight[:, :, 0], self.mix.bias)
        return x + h, window[:, :, 1:]


StreamState = list[torch.Tensor]


class TemporalPainNet(nn.Module):
    """Causal TCN with per-frame heads.

    Args:
        in_features: features per frame (``features.inputs.N_FEATURES``).
        hidden: channels.
        depth: residual blocks (dilations 1, 2, 4, ...).
        kernel: convolution width.
        dropout: dropout inside the blocks during training.
    """

    def __init__(self, in_features: int, hidden: int = 48, depth: int = 5, kernel: int = 3,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.config = {"in_features": in_features, "hidden": hidden, "depth": depth,
                       "kernel": kernel, "dropout": dropout}
        self.inp = nn.Linear(in_features, hidden)
        self.blocks = nn.ModuleList(
            [_CausalBlock(hidden, kernel, 2**i, dropout) for i in range(depth)])
        self.head = nn.Linear(hidden, len(HEADS))

    @property
    def receptive_field(self) -> int:
        return 1 + sum(b.pad for b in self.blocks)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, F) -> (B, T, hidden)``."""
        if x.is_cuda:
            # cuDNN runs convolutions in TF32 (10-bit mantissa) unless told not to: offline
            # then drifts from ``step`` by ~3e-4 (measured on an H100). Full fp32 keeps the
            # two equal and costs nothing measurable at this size.
            cudnn = torch.backends.cudnn
            with cudnn.flags(enabled=True, benchmark=cudnn.benchmark,
                             deterministic=cudnn.deterministic, allow_tf32=False):
                return self._features(x)
        return self._features(x)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x).transpose(1, 2)
        for block in self.blocks:
            h = block(h)
        return h.transpose(1, 2)

    def forward_head(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        return decode(self.head(h))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(B, T, F)`` features -> dict of ``(B, T)`` outputs (see ``decode``)."""
        return self.forward_head(self.forward_features(x))

    def init_state(self, batch: int = 1, device: torch.device | None = None) -> StreamState:
        """Zero past for every block: as if the sequence started after zero inputs."""
        dev = device or self.head.weight.device
        hidden = self.inp.out_features
        zero = torch.zeros(batch, hidden, device=dev)
        # Padding in forward() is zeros *after* the input projection; match that.
        return [zero[:, :, None].expand(batch, hidden, b.pad).contiguous() for b in self.blocks]

    def step(self, x: torch.Tensor, state: StreamState) -> tuple[dict[str, torch.Tensor],
                                                                  StreamState]:
        """One frame ``(B, F)`` -> outputs ``(B,)`` each, and the new state."""
        h = self.inp(x)
        new_state = []
        for block, past in zip(self.blocks, state, strict=True):
            h, past = block.step(h, past)
            new_state.append(past)
        return decode(self.head(h)), new_state


def decode(raw: torch.Tensor) -> dict[str, torch.Tensor]:
    """Raw head outputs ``(..., 7)`` -> named outputs.

    AU intensities are ``5 * sigmoid`` (0-5); ``au43`` and ``pain_prob`` are
    probabilities; ``pspi`` is the PSPI formula over them (AU43 as its probability),
    so the score is always explained by its AUs. Logits are kept for the losses.
    """
    au = 5.0 * torch.sigmoid(raw[..., :5])
    au43_logit = raw[..., 5]
    pain_logit = raw[..., 6]
    au43 = torch.sigmoid(au43_logit)
    pspi = au[..., 0] + torch.maximum(au[..., 1], au[..., 2]) + torch.maximum(au[..., 3],
                                                                              au[..., 4]) + au43
    return {
        "au4": au[..., 0], "au6": au[..., 1], "au7": au[..., 2], "au9": au[..., 3],
        "au10": au[..., 4], "au43": au43, "pspi": pspi, "pain_prob": torch.sigmoid(pain_logit),
        "au43_logit": au43_logit, "pain_logit": pain_logit,
    }
