"""Packing a population's parameters into one array and back.

The engine stores the parameters of ``M`` models of one architecture as a
single C-contiguous array ``theta`` of shape ``(M, P)``: row ``i`` holds model
``i``'s parameters flattened layer by layer, ``W[1]`` (row-major, shape
``(n_1, n_0)``), then ``b[1]``, then ``W[2]``, ``b[2]`` and so on. ``P`` is
:attr:`initlab.network.Network.n_parameters`. :class:`Layout` gives the offsets.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab.network import Network, Parameters

__all__ = ["Layout", "pack", "unpack"]


@dataclass(frozen=True)
class Layout:
    """Where each layer's ``W`` and ``b`` sit in a flat parameter vector."""

    sizes: np.ndarray  # (L + 1,) int64: n_0 .. n_L
    w_offsets: np.ndarray  # (L,) int64
    b_offsets: np.ndarray  # (L,) int64
    n_parameters: int

    @classmethod
    def of(cls, network: Network) -> Layout:
        sizes = np.asarray(network.layer_sizes, dtype=np.int64)
        w_off, b_off = [], []
        offset = 0
        for n_in, n_out in itertools.pairwise(network.layer_sizes):
            w_off.append(offset)
            offset += n_out * n_in
            b_off.append(offset)
            offset += n_out
        return cls(sizes, np.asarray(w_off, np.int64), np.asarray(b_off, np.int64), int(offset))

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def weight_view(self, theta: np.ndarray, l: int) -> np.ndarray:
        """``W[l+1]`` of every model: a view of shape ``(M, n_out, n_in)``."""
        n_in, n_out = int(self.sizes[l]), int(self.sizes[l + 1])
        start = int(self.w_offsets[l])
        return theta[:, start : start + n_out * n_in].reshape(-1, n_out, n_in)

    def bias_view(self, theta: np.ndarray, l: int) -> np.ndarray:
        """``b[l+1]`` of every model: a view of shape ``(M, n_out, 1)``."""
        n_out = int(self.sizes[l + 1])
        start = int(self.b_offsets[l])
        return theta[:, start : start + n_out].reshape(-1, n_out, 1)


def _check_shapes(network: Network, params: Parameters, index: int) -> None:
    sizes = network.layer_sizes
    if len(params.weights) != network.depth or len(params.biases) != network.depth:
        raise ValueError(
            f"model {index}: expected {network.depth} weight and bias arrays for layer sizes "
            f"{sizes}, got {len(params.weights)} and {len(params.biases)}"
        )
    for l, (W, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        want_w, want_b = (sizes[l + 1], sizes[l]), (sizes[l + 1], 1)
        if np.shape(W) != want_w or np.shape(b) not in (want_b, (sizes[l + 1],)):
            raise ValueError(
                f"model {index}: layer {l + 1} needs W of shape {want_w} and b of shape "
                f"{want_b}, got {np.shape(W)} and {np.shape(b)}"
            )


def pack(network: Network, params_list: Sequence[Parameters], dtype=np.float64) -> np.ndarray:
    """Stack the parameters of every model into ``theta`` of shape ``(M, P)``."""
    layout = Layout.of(network)
    theta = np.empty((len(params_list), layout.n_parameters), dtype=dtype)
    for i, params in enumerate(params_list):
        _check_shapes(network, params, i)
        for l in range(layout.depth):
            layout.weight_view(theta, l)[i] = params.weights[l]
            layout.bias_view(theta, l)[i] = np.reshape(params.biases[l], (-1, 1))
    return theta


def unpack(network: Network, theta: np.ndarray, index: int) -> Parameters:
    """Model ``index``'s parameters as float64 :class:`Parameters` (copies)."""
    layout = Layout.of(network)
    row = theta[index : index + 1]
    weights = [
        np.array(layout.weight_view(row, l)[0], dtype=np.float64) for l in range(layout.depth)
    ]
    biases = [np.array(layout.bias_view(row, l)[0], dtype=np.float64) for l in range(layout.depth)]
    return Parameters(weights, biases)
