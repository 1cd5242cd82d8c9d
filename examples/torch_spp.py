"""Signal Propagation Plots (Brock, De and Smith 2021) of an unnormalized ResNet.

Eight pre-activation residual blocks ``y = x + conv(relu(conv(relu(x))))`` of 32 channels,
no normalization, initialized ``he_normal``; then the same model with the last
convolution of every residual branch set to zero (SkipInit: every block starts as the
identity). Gaussian inputs of shape (3, 16, 16).

    pip install 'initlab[torch]'
    python examples/torch_spp.py --out docs/torch-spp.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from initlab.torch import init_, plot_signal_propagation, signal_propagation


class ResidualBlock(nn.Module):
    """Pre-activation and unnormalized: ``y = x + conv(relu(conv(relu(x))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("torch-spp.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), *[ResidualBlock(32) for _ in range(8)])
    init_(model, "he_normal", generator=0)
    he = signal_propagation(model, (3, 16, 16), samples=64, seed=0)
    init_(model, "zeros", layers="*.branch.3")
    skip = signal_propagation(model, (3, 16, 16), samples=64, seed=0)
    print("he_normal:\n" + he.round(3).to_string(index=False))
    print(
        "he_normal, last convolution of each branch zero:\n" + skip.round(3).to_string(index=False)
    )
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_signal_propagation(left, he, title="he_normal: mean and variance grow with depth")
    plot_signal_propagation(right, skip, title="he_normal + zero last branch conv (SkipInit)")
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
