"""Plain-words flags from per-layer statistics: what is wrong, where, by how much.

Each :class:`Flag` names its layer (numbered from 1; ``None`` for the whole
network), the measured number and the threshold it crossed:

=========================== ================================================================
kind                        raised when
=========================== ================================================================
``symmetry``                a layer of ``n_l > 1`` units has fewer than ``n_l`` distinct
                            units (rows of ``W[l]`` with their bias): identical units get
                            identical gradients and stay identical forever, so the layer
                            works as fewer units (the zeros initialization gives 1)
``non_finite``              the loss or a forward or backward statistic is inf or NaN
``vanishing_activations``   ``std(z[last]) / std(z[first]) < VANISHING_RATIO``
``exploding_activations``   ``std(z[last]) / std(z[first]) > EXPLODING_RATIO``
``vanishing_gradients``     ``std(dJ/dz[first]) / std(dJ/dz[last]) < VANISHING_RATIO``: the
                            backward signal shrinks on its way down
``exploding_gradients``     ``std(dJ/dz[first]) / std(dJ/dz[last]) > EXPLODING_RATIO``
``dead_units``              dead ReLU fraction ``> DEAD_FRACTION`` in a layer
``saturation``              saturated fraction ``> SATURATED_FRACTION`` in a layer (tanh and
                            sigmoid layers, the sigmoid head)
``update_ratio``            ``learning_rate ||dW|| / ||W||`` outside
                            ``[UPDATE_RATIO_LOW, UPDATE_RATIO_HIGH]`` (healthy: about 1e-3)
``huge_loss``               the loss is over ``HUGE_LOSS_FACTOR`` times that of predicting
                            every class with equal probability (``ln 2`` for a sigmoid head,
                            ``ln k`` for a softmax over ``k`` classes; none for the
                            regression head ``identity``)
=========================== ================================================================

A layer flagged ``symmetry`` with *all* its units identical gets no other flag
(its statistics describe one unit copied ``n_l`` times) and is left out of the
ratios across depth, which compare the first and last of the remaining layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from initlab.diagnostics.stats import SATURATION_RULES, NetworkStatistics

__all__ = [
    "DEAD_FRACTION",
    "EXPLODING_RATIO",
    "FLAG_KINDS",
    "HUGE_LOSS_FACTOR",
    "SATURATED_FRACTION",
    "UPDATE_RATIO_HIGH",
    "UPDATE_RATIO_LOW",
    "VANISHING_RATIO",
    "Flag",
    "diagnose",
]

#: Ratio of the last to the first layer's standard deviation below which a signal vanishes.
VANISHING_RATIO = 1e-2
#: Ratio above which a signal explodes.
EXPLODING_RATIO = 1e2
#: Fraction of dead ReLU units in a layer above which it is flagged.
DEAD_FRACTION = 0.5
#: Fraction of saturated activations (unit x sample) above which a layer is flagged.
SATURATED_FRACTION = 0.5
#: Bounds of a reasonable update-to-data ratio (about 1e-3 is healthy).
UPDATE_RATIO_LOW = 1e-5
UPDATE_RATIO_HIGH = 1e-1
#: A loss over this many times the chance loss ``ln(n_classes)`` is flagged.
HUGE_LOSS_FACTOR = 10.0

FLAG_KINDS: tuple[str, ...] = (
    "symmetry",
    "non_finite",
    "vanishing_activations",
    "exploding_activations",
    "vanishing_gradients",
    "exploding_gradients",
    "dead_units",
    "saturation",
    "update_ratio",
    "huge_loss",
)

_FORWARD = ("z_mean", "z_std", "a_mean", "a_std")
_BACKWARD = ("grad_w_norm", "signal_norm", "signal_std")


@dataclass(frozen=True)
class Flag:
    """A finding: its kind, layer (from 1; None for the network), number and threshold."""

    kind: str
    layer: int | None
    value: float
    threshold: float
    message: str

    def __str__(self) -> str:
        return self.message


def _where(stats: NetworkStatistics, l: int) -> str:
    name = stats.activations[l]
    role = f"{name} output" if l == stats.depth - 1 else name
    return f"layer {l + 1} ({role})"


def _saturation_rule(stats: NetworkStatistics, l: int) -> str:
    rule = SATURATION_RULES.get(stats.activations[l].split("(")[0])
    return "" if rule is None else rule.description


def _ratio_flags(
    stats: NetworkStatistics, layers: list[int], values: list[float], signal: str, downward: bool
) -> list[Flag]:
    """Vanishing/exploding flags from the std of the first and last of ``layers``."""
    if len(layers) < 2:
        return []
    first, last = layers[0], layers[-1]
    start, end = (last, first) if downward else (first, last)
    a, b = values[start], values[end]
    if not (math.isfinite(a) and math.isfinite(b)) or a == 0.0:
        return []
    ratio = b / a
    what = "backward signal dJ/dz" if downward else "pre-activation"
    kind = "gradients" if downward else "activations"
    span = f"from layer {start + 1} to layer {end + 1}"
    if ratio < VANISHING_RATIO:
        return [
            Flag(
                f"vanishing_{kind}",
                end + 1,
                ratio,
                VANISHING_RATIO,
                f"vanishing {kind}: the {what} std shrinks {1 / ratio:.3g}x {span} "
                f"({a:.3g} -> {b:.3g}; ratio {ratio:.3g} < {VANISHING_RATIO:g})",
            )
        ]
    if ratio > EXPLODING_RATIO:
        return [
            Flag(
                f"exploding_{kind}",
                end + 1,
                ratio,
                EXPLODING_RATIO,
                f"exploding {kind}: the {what} std grows {ratio:.3g}x {span} "
                f"({a:.3g} -> {b:.3g}; ratio {ratio:.3g} > {EXPLODING_RATIO:g})",
            )
        ]
    return []


def diagnose(stats: NetworkStatistics) -> list[Flag]:
    """The flags raised by ``stats`` (see the module docstring), in :data:`FLAG_KINDS` order."""
    flags: list[Flag] = []
    symmetric: set[int] = set()
    for l in range(stats.depth):
        units, distinct = stats.units[l], stats.distinct_units[l]
        if units > 1 and distinct < units:
            if distinct == 1:
                symmetric.add(l)
            flags.append(
                Flag(
                    "symmetry",
                    l + 1,
                    distinct,
                    units,
                    f"symmetry not broken: {_where(stats, l)} has only {distinct:.0f} distinct "
                    f"unit(s) among {units} (identical weights and bias get identical "
                    "gradients and stay identical)",
                )
            )
    checked = [l for l in range(stats.depth) if l not in symmetric]

    names = list(_FORWARD) + (list(_BACKWARD) if stats.labelled else [])
    if stats.labelled and not math.isfinite(stats.loss):
        flags.append(
            Flag("non_finite", None, stats.loss, math.inf, f"non-finite loss: {stats.loss}")
        )
    for l in checked:
        bad = [(name, stats.statistic(name)[l]) for name in names]
        bad = [(name, value) for name, value in bad if not math.isfinite(value)]
        if bad:
            listed = ", ".join(f"{name} = {value}" for name, value in bad)
            flags.append(
                Flag(
                    "non_finite",
                    l + 1,
                    bad[0][1],
                    math.inf,
                    f"non-finite values in {_where(stats, l)}: {listed}",
                )
            )

    flags += _ratio_flags(stats, checked, stats.z_std, "z", downward=False)
    if stats.labelled:
        flags += _ratio_flags(stats, checked, stats.signal_std, "dJ/dz", downward=True)

    for l in checked:
        dead = stats.dead_fraction[l]
        if dead > DEAD_FRACTION:
            flags.append(
                Flag(
                    "dead_units",
                    l + 1,
                    dead,
                    DEAD_FRACTION,
                    f"dead units: {dead:.0%} of the units of {_where(stats, l)} output 0 for "
                    f"every sample (threshold {DEAD_FRACTION:.0%})",
                )
            )
    for l in checked:
        saturated = stats.saturated_fraction[l]
        if saturated > SATURATED_FRACTION:
            flags.append(
                Flag(
                    "saturation",
                    l + 1,
                    saturated,
                    SATURATED_FRACTION,
                    f"saturation: {saturated:.0%} of the activations of {_where(stats, l)} are "
                    f"saturated, {_saturation_rule(stats, l)} "
                    f"(threshold {SATURATED_FRACTION:.0%})",
                )
            )
    for l in checked:
        ratio = stats.update_ratio[l]
        if math.isfinite(ratio) and not UPDATE_RATIO_LOW <= ratio <= UPDATE_RATIO_HIGH:
            bound = UPDATE_RATIO_LOW if ratio < UPDATE_RATIO_LOW else UPDATE_RATIO_HIGH
            side = "below" if ratio < UPDATE_RATIO_LOW else "above"
            flags.append(
                Flag(
                    "update_ratio",
                    l + 1,
                    ratio,
                    bound,
                    f"update-to-data ratio {ratio:.3g} in {_where(stats, l)} is {side} "
                    f"{bound:g} (healthy: about 1e-3)",
                )
            )
    if stats.labelled and math.isfinite(stats.loss) and stats.activations[-1] != "identity":
        classes = 2 if stats.activations[-1] == "sigmoid" else stats.units[-1]
        chance = math.log(classes)
        if stats.loss > HUGE_LOSS_FACTOR * chance:
            flags.append(
                Flag(
                    "huge_loss",
                    None,
                    stats.loss,
                    HUGE_LOSS_FACTOR * chance,
                    f"huge loss: {stats.loss:.4g} is {stats.loss / chance:.3g}x the loss of "
                    f"guessing, ln {classes} = {chance:.3g} (threshold {HUGE_LOSS_FACTOR:g}x): "
                    "confident wrong predictions",
                )
            )
    return flags
