"""initlab: see and measure how weight initialization shapes neural-network training.

The public API::

    import numpy as np
    from initlab import Network, initialize, gradient_descent, accuracy, course_circles

    data = course_circles()
    net = Network.course()
    params = initialize(net, "he", np.random.RandomState(3))
    trained, history = gradient_descent(
        net, params, data.X_train, data.Y_train, learning_rate=0.01, iterations=15000
    )
    accuracy(net, trained, data.X_test, data.Y_test)  # 0.96
"""

import initlab._startup  # noqa: F401  (first: Ctrl-C while the command starts exits quietly)
from initlab.datasets import Dataset, course_circles, load_dataset
from initlab.engine import PopulationResult, train_population
from initlab.fit import History, fit, gradient_descent
from initlab.initializers import INITIALIZERS, get_initializer, initialize
from initlab.network import (
    Network,
    Parameters,
    accuracy,
    backward,
    binary_cross_entropy_from_logits,
    forward,
    loss_and_gradients,
    predict,
    predict_proba,
)
from initlab.optimizers import get_optimizer

__version__ = "0.1.0"

__all__ = [
    "INITIALIZERS",
    "Dataset",
    "History",
    "Network",
    "Parameters",
    "PopulationResult",
    "__version__",
    "accuracy",
    "backward",
    "binary_cross_entropy_from_logits",
    "course_circles",
    "fit",
    "forward",
    "get_initializer",
    "get_optimizer",
    "gradient_descent",
    "initialize",
    "load_dataset",
    "loss_and_gradients",
    "predict",
    "predict_proba",
    "train_population",
]
