"""Initialization of a plain 8-layer CNN on scikit-learn's 8x8 digits, diagnosed and trained.

Four initializations of the same network (8 convolutions of 16 channels with ReLU, no
normalization, then global average pooling and a linear classifier): torch's default
(``kaiming_uniform_(a=sqrt(5))``, variance ``1 / (3 fan_in)``), ``he_normal``
(``2 / fan_in``), ``orthogonal`` and data-dependent ``lsuv``. Each is diagnosed at
initialization by ``initlab.torch.diagnose`` (per-layer std of the layer outputs, flags)
and trained for a few epochs of SGD with momentum, from the same seed and minibatch order.

    pip install 'initlab[torch]'
    python examples/torch_digits.py --out docs/torch-digits.png

Prints a Markdown table and writes the figure: per-layer std at initialization (left) and
the training loss per epoch (right).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from matplotlib.figure import Figure
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from initlab.torch import diagnose, init_, plot_layer_std

SCHEMES = ("torch default", "he_normal", "orthogonal", "lsuv")
LEARNING_RATE = 0.01


def make_cnn(depth: int = 8, width: int = 16) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 1
    for i in range(depth):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
        if i == depth // 2 - 1:
            layers.append(nn.MaxPool2d(2))  # 8x8 -> 4x4
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 16, 10))


def digits(seed: int) -> tuple[torch.Tensor, ...]:
    X, y = load_digits(return_X_y=True)
    X = (X - X.mean()) / X.std()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    images = [torch.tensor(a, dtype=torch.float32).reshape(-1, 1, 8, 8) for a in (X_train, X_test)]
    labels = [torch.tensor(a, dtype=torch.long) for a in (y_train, y_test)]
    return images[0], images[1], labels[0], labels[1]


def train(model, X, y, X_test, y_test, epochs: int, seed: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)
    order = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for batch in torch.randperm(len(X), generator=order).split(64):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(X))
    with torch.no_grad():
        accuracy = float((model(X_test).argmax(1) == y_test).float().mean())
    return losses, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("torch-digits.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny convolutions: one thread is the fastest here

    X, X_test, y, y_test = digits(args.seed)
    probe, probe_labels = X[:512], y[:512]
    diagnoses, curves, rows = {}, {}, []
    for scheme in SCHEMES:
        start = time.perf_counter()
        torch.manual_seed(args.seed)
        model = make_cnn()
        if scheme != "torch default":
            init_(model, scheme, generator=args.seed, data=X[:256])
        diagnosis = diagnose(model, probe, probe_labels, run=scheme)
        losses, accuracy = train(model, X, y, X_test, y_test, args.epochs, args.seed)
        diagnoses[scheme], curves[scheme] = diagnosis, losses
        stds = diagnosis.statistics.z_std
        flags = "; ".join(f.kind for f in diagnosis.flags) or "healthy"
        rows.append(
            f"| `{scheme}` | {stds[0]:.3g} | {stds[7]:.3g} | {stds[8]:.3g} | {flags} | "
            f"{diagnosis.statistics.loss:.3f} | {losses[-1]:.3f} | {accuracy:.3f} | "
            f"{time.perf_counter() - start:.1f} s |"
        )

    print(
        f"| init | z std, conv 1 | conv 8 | linear | flags at init | loss at init | "
        f"loss, epoch {args.epochs} | test accuracy | time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    for scheme, diagnosis in diagnoses.items():
        for flag in diagnosis.flags:
            print(f"{scheme}: {flag.message}")

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_layer_std(left, diagnoses, title="Layer output std at initialization (512 digits)")
    for scheme, losses in curves.items():
        right.plot(range(1, len(losses) + 1), losses, marker="o", label=scheme)
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("training loss (cross-entropy)")
    right.set_title(
        f"Training: SGD, momentum 0.9, lr {LEARNING_RATE:g}, batches of 64", fontsize=10
    )
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
