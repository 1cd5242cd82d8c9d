"""initlab for PyTorch models (the optional extra: ``pip install 'initlab[torch]'``).

* :func:`init_`: any initializer of initlab's catalogue (LSUV and user code included)
  applied to the ``nn.Linear`` and (transposed) convolution layers of a model, with
  torch's fans, reproducible from a seed, transactional;
* :func:`diagnose`: the per-layer statistics and plain-words flags of
  :mod:`initlab.diagnostics` for any torch model on a batch, by forward and backward
  hooks;
* :func:`signal_propagation`: Signal Propagation Plots (Brock, De and Smith 2021) of
  residual models at initialization.

Importing this package imports torch; without torch it raises
:class:`~initlab.torch._require.TorchMissingError` (an ``ImportError``) naming the extra.
``import initlab`` never imports it.
"""

from initlab.torch._require import require_torch

require_torch()

from initlab.torch.diagnose import (  # noqa: E402
    TorchDiagnosis,
    diagnose,
    layer_std_curves,
    plot_layer_std,
    to_torch,
)
from initlab.torch.init import INIT_COLUMNS, init_  # noqa: E402
from initlab.torch.layers import SUPPORTED, select_layers, torch_fans  # noqa: E402
from initlab.torch.spp import (  # noqa: E402
    SPP_COLUMNS,
    plot_signal_propagation,
    signal_propagation,
)

__all__ = [
    "INIT_COLUMNS",
    "SPP_COLUMNS",
    "SUPPORTED",
    "TorchDiagnosis",
    "diagnose",
    "init_",
    "layer_std_curves",
    "plot_layer_std",
    "plot_signal_propagation",
    "select_layers",
    "signal_propagation",
    "to_torch",
    "torch_fans",
]
