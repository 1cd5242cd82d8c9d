"""Why a network trains or not from its initialization, layer by layer.

* :mod:`~initlab.diagnostics.stats`: per-layer statistics of any parameter
  snapshot on a batch (forward and backward signals, gradients, dead and
  saturated units, update-to-data ratio) and a tidy DataFrame of them;
* :mod:`~initlab.diagnostics.flags`: plain-words flags from those statistics;
* :mod:`~initlab.diagnostics.jacobian`: exact input-output Jacobians and their
  singular values;
* :mod:`~initlab.diagnostics.meanfield`: mean-field theory (length and
  correlation maps, ``q*``, ``chi_1``, ``xi_c``) and the per-layer variance it
  predicts for a variance-scaling initialization.
"""

from initlab.diagnostics.flags import Flag, diagnose
from initlab.diagnostics.jacobian import input_output_jacobian, singular_values
from initlab.diagnostics.meanfield import (
    MeanField,
    chi_1,
    correlation_map,
    critical_sigma_w2,
    depth_scale,
    fixed_point,
    length_map,
    mean_field,
    predicted_preactivation_variances,
)
from initlab.diagnostics.stats import NetworkStatistics, network_statistics, to_frame

__all__ = [
    "Flag",
    "MeanField",
    "NetworkStatistics",
    "chi_1",
    "correlation_map",
    "critical_sigma_w2",
    "depth_scale",
    "diagnose",
    "fixed_point",
    "input_output_jacobian",
    "length_map",
    "mean_field",
    "network_statistics",
    "predicted_preactivation_variances",
    "singular_values",
    "to_frame",
]
