"""Signal Propagation Plots against the same statistics written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from extras import require

torch = require("torch", "torch")
torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine
from torch import nn  # noqa: E402

from initlab.torch import plot_signal_propagation, signal_propagation  # noqa: E402


class BasicBlock(nn.Module):
    """Pre-activation residual block: ``y = x + branch(x)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )  # fmt: skip

    def forward(self, x):  # type: ignore[no-untyped-def]
        return x + self.branch(x)


class PlainBlock(nn.Module):
    """A residual block without a named branch: ``f = y - x``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return x + self.conv(torch.relu(x))


class ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 6, 3, padding=1)
        self.blocks = nn.Sequential(BasicBlock(6), BasicBlock(6), PlainBlock(6))
        self.head = nn.Linear(6, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def channel_stats(t) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    per = t.transpose(0, 1).reshape(t.shape[1], -1)
    return float((per.mean(1) ** 2).mean()), float(per.var(1, unbiased=False).mean())


def test_signal_propagation_equals_the_statistics_written_out() -> None:
    torch.manual_seed(0)
    model = ResNet().double()
    frame = signal_propagation(model, (2, 5, 5), samples=32, seed=4)
    assert list(frame.name) == ["blocks.0", "blocks.1", "blocks.2"]  # class names *Block
    x = torch.randn((32, 2, 5, 5), generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    with torch.no_grad():
        h = model.stem(x)
        for row, block in zip(frame.itertuples(), model.blocks, strict=True):
            f = block.branch(h) if hasattr(block, "branch") else block(h) - h
            h = block(h)
            squared_mean, variance = channel_stats(h)
            assert row.squared_mean == pytest.approx(squared_mean, rel=1e-12)
            assert row.variance == pytest.approx(variance, rel=1e-12)
            assert row.residual_variance == pytest.approx(channel_stats(f)[1], rel=1e-12)


def test_blocks_by_type_and_the_y_minus_x_branch() -> None:
    torch.manual_seed(1)
    model = ResNet().double()
    frame = signal_propagation(model, (2, 5, 5), blocks=[PlainBlock], samples=16)
    assert list(frame.name) == ["blocks.2"] and list(frame.block) == [1]
    x = torch.randn((16, 2, 5, 5), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        h = model.blocks[1](model.blocks[0](model.stem(x)))
        y = model.blocks[2](h)
    assert frame.residual_variance[0] == pytest.approx(channel_stats(y - h)[1], rel=1e-12)
    frame = signal_propagation(model, (2, 5, 5), blocks="stem", samples=16)
    assert math.isnan(frame.residual_variance[0])  # 2 -> 6 channels: no residual defined


def test_unnormalized_resnet_variance_doubles_per_block() -> None:
    """Linear residual branches ``f(x) = W x`` with ``W ~ N(0, 1/n)``: ``E Var(x_k) = 2^k``
    (Brock et al. 2021, Section 3: the variance of an unnormalized ResNet grows with depth);
    at width 512 and 256 samples one block's variance has a relative standard deviation of
    about 3%, so 15% is five of them."""

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.branch = nn.Linear(512, 512, bias=False, dtype=torch.float64)
            nn.init.normal_(self.branch.weight, std=1 / math.sqrt(512))

        def forward(self, x):  # type: ignore[no-untyped-def]
            return x + self.branch(x)

    torch.manual_seed(2)
    model = nn.Sequential(*[Block() for _ in range(4)])
    frame = signal_propagation(model, (512,), samples=256)
    np.testing.assert_allclose(frame.variance, [2.0, 4.0, 8.0, 16.0], rtol=0.15)
    np.testing.assert_allclose(frame.residual_variance, [1.0, 2.0, 4.0, 8.0], rtol=0.15)
    assert (frame.squared_mean < 0.1 * frame.variance).all()


def test_plot_signal_propagation_draws_three_curves() -> None:
    from matplotlib.figure import Figure

    model = ResNet()
    frame = signal_propagation(model, (2, 5, 5), samples=8)
    ax = Figure().subplots()
    plot_signal_propagation(ax, frame)
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[1].get_ydata(), frame.variance)
