"""The published experiments' own figures: each function draws on the ``ax`` it is given
(never ``show()``) and returns it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

__all__ = ["plot_phase_diagram", "plot_spectra"]


def plot_spectra(ax: Axes, spectra: Mapping[str, Sequence[float]], *, title: str = "") -> Axes:
    """Each set of singular values as an empirical CDF on a log x-axis (the fraction of
    values below ``s``), a dotted line at ``s = 1`` (isometry). Non-positive values
    (below the smallest float) are left out, and the legend says how many."""
    ax.set_xscale("log")
    for label, values in spectra.items():
        s = np.sort(np.asarray(values, dtype=float))
        shown = np.isfinite(s) & (s > 0)
        fraction = np.arange(1, s.size + 1) / max(s.size, 1)
        off = int((~shown).sum())
        name = label if not off else f"{label} ({off} values <= 0 not drawn)"
        median = float(np.median(s)) if s.size else float("nan")
        ax.step(s[shown], fraction[shown], where="post", label=f"{name}, median {median:.3g}")
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("singular value s of the input-output Jacobian")
    ax.set_ylabel("fraction of singular values <= s")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_phase_diagram(
    ax: Axes,
    values: np.ndarray,
    sigma_w2: Sequence[float],
    depths: Sequence[int],
    *,
    label: str,
    theory: tuple[Sequence[float], Sequence[float]] | None = None,
    critical: float | None = None,
    title: str = "",
    vmin: float = 0.0,
    vmax: float = 1.0,
) -> Axes:
    """``values[i, j]`` at ``(sigma_w2[j], depths[i])`` as a heatmap, with the theory's curve
    ``theory = (sigma_w2 grid, depth)`` (e.g. ``6 xi_c``) and a vertical line at
    ``critical`` overlaid."""
    values = np.asarray(values, dtype=float)
    mesh = ax.pcolormesh(
        np.asarray(sigma_w2, dtype=float),
        np.asarray(depths, dtype=float),
        values,
        shading="nearest",
        cmap="viridis",
        vmin=vmin,
        vmax=vmax,
    )
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if theory is not None:
        x, y = theory
        ax.plot(x, y, color="white", linewidth=2, label="theory: 6 xi_c")
    if critical is not None:
        ax.axvline(critical, color="red", linestyle="--", linewidth=1.5,
                   label=f"critical sigma_w^2 = {critical:.3g}")  # fmt: skip
    ax.set_ylim(min(depths), max(depths))
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("depth L")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return ax
