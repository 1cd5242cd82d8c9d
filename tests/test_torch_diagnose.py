"""initlab.torch.diagnose against initlab's own diagnostics, and its hooks and side effects."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from extras import require

torch = require("torch", "torch")
torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine
from torch import nn  # noqa: E402

from initlab.activations import get_activation  # noqa: E402
from initlab.diagnostics import diagnose as initlab_flags  # noqa: E402
from initlab.diagnostics import network_statistics, to_frame  # noqa: E402
from initlab.diagnostics.stats import LAYER_STATISTICS  # noqa: E402
from initlab.initializers import initialize  # noqa: E402
from initlab.network import Network, Parameters  # noqa: E402
from initlab.torch import diagnose, to_torch  # noqa: E402

CASES = [
    (Network((3, 12, 7, 1), ("relu", "tanh")), "he", 0.0),
    (Network((4, 9, 9, 9, 3), ("leaky_relu(slope=0.2)", "sigmoid", "elu"), "softmax"),
     "glorot_normal", 0.1),
    (Network((2, 10, 5, 1), ("relu", "relu")), "random", 0.0),  # the course's exploding run
    (Network((2, 6, 6, 1), ("relu", "relu")), "zeros", 0.0),  # symmetry
]  # fmt: skip


def canonical(name: str) -> str:
    return name if name in ("sigmoid", "softmax") else get_activation(name).name


def with_biases(params: Parameters, scale: float, rng: np.random.Generator) -> Parameters:
    biases = [b + scale * rng.standard_normal(b.shape) for b in params.biases]
    return Parameters(params.weights, biases)


@pytest.mark.parametrize(("network", "init", "bias"), CASES, ids=[c[1] for c in CASES])
def test_diagnose_equals_initlabs_own_diagnostics(network: Network, init: str, bias) -> None:
    rng = np.random.default_rng(0)
    params = with_biases(initialize(network, init, rng), bias, rng)
    m = 50
    X = rng.standard_normal((network.layer_sizes[0], m))
    Y = rng.integers(0, network.n_classes, size=(1, m))
    expected = network_statistics(network, params, X, Y, learning_rate=0.05)

    model = to_torch(network, params)
    if network.output == "sigmoid":
        loss, target = nn.BCEWithLogitsLoss(), torch.as_tensor(Y.T, dtype=torch.float64)
    else:
        loss, target = nn.CrossEntropyLoss(), torch.as_tensor(Y.ravel())
    got = diagnose(model, X.T, target, loss, learning_rate=0.05)
    default = diagnose(model, X.T, Y.ravel(), learning_rate=0.05)  # the default loss

    for result in (got, default):
        stats = result.statistics
        assert [canonical(a) for a in stats.activations] == [
            canonical(a) for a in expected.activations
        ]
        assert stats.units == expected.units
        assert stats.loss == pytest.approx(expected.loss, rel=1e-10, abs=1e-12)
        for name in LAYER_STATISTICS:
            np.testing.assert_allclose(
                stats.statistic(name), expected.statistic(name), rtol=1e-10, atol=1e-13,
                err_msg=name,
            )  # fmt: skip
        ours = [(f.kind, f.layer) for f in result.flags]
        assert ours == [(f.kind, f.layer) for f in initlab_flags(expected)]
        for flag, theirs in zip(result.flags, initlab_flags(expected), strict=True):
            assert flag.value == pytest.approx(theirs.value, rel=1e-10)
    frame = got.frame()
    reference = to_frame(expected)
    assert list(frame.columns[:5]) == list(reference.columns)
    np.testing.assert_allclose(frame.value, reference.value, rtol=1e-10, atol=1e-13)
    assert list(frame.statistic) == list(reference.statistic)
    assert set(frame.name.dropna()) == {"0", "2", "4", "6"} & set(got.names)


def test_flags_name_the_torch_layers() -> None:
    network, _, _ = CASES[2]
    rng = np.random.default_rng(3)
    params = initialize(network, "random", np.random.RandomState(3))
    X = rng.standard_normal((2, 100))
    Y = rng.integers(0, 2, size=(1, 100))
    result = diagnose(to_torch(network, params), X.T, Y.ravel())
    messages = [f.message for f in result.flags]
    assert any("from layer 1 (0) to layer 3 (4)" in m for m in messages), messages
    assert any("layer 3 (4, sigmoid output)" in m for m in messages), messages


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.ReLU(inplace=True)
        self.fc = nn.Linear(6 * 16, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.fc(torch.flatten(self.act(self.bn(self.conv(x))), 1))


def test_convolution_statistics_through_batchnorm_and_inplace_relu() -> None:
    torch.manual_seed(0)
    model = Net().double()
    with torch.no_grad():
        model.bn.weight[0], model.bn.bias[0] = 0.0, -1.0  # channel 0: relu(-1) = 0, dead
    x = torch.rand(20, 1, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (20,))
    result = diagnose(model, x, y)
    with torch.no_grad():  # the oracle: the same computations written out
        z = nn.functional.conv2d(x, model.conv.weight, model.conv.bias, padding=1)
        bn = nn.functional.batch_norm(z, None, None, model.bn.weight, model.bn.bias, training=True)
        a = torch.relu(bn)
    stats = result.statistics
    assert result.names == ["conv", "fc"] and stats.activations == ["relu", "softmax"]
    assert stats.units == [6, 3]
    assert stats.z_std[0] == pytest.approx(float(z.std(unbiased=False)), rel=1e-12)
    assert stats.a_mean[0] == pytest.approx(float(a.mean()), rel=1e-12)
    dead = (a.transpose(0, 1).reshape(6, -1) == 0).all(dim=1).double().mean()
    assert stats.dead_fraction[0] == float(dead) == 1 / 6
    # dJ/dz of the conv layer by autograd on the written-out model
    zz = z.detach().requires_grad_(True)
    bn2 = nn.functional.batch_norm(zz, None, None, model.bn.weight, model.bn.bias, training=True)
    logits = model.fc(torch.flatten(torch.relu(bn2), 1))
    nn.functional.cross_entropy(logits, y).backward()
    assert stats.signal_std[0] == pytest.approx(float(zz.grad.std(unbiased=False)), rel=1e-9)


def test_inplace_activation_gives_the_statistics_of_the_plain_one() -> None:
    torch.manual_seed(0)
    inplace = nn.Sequential(nn.Linear(5, 7), nn.ReLU(inplace=True), nn.Linear(7, 3)).double()
    plain = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double()
    plain.load_state_dict(inplace.state_dict())
    x, y = torch.randn(20, 5, dtype=torch.float64), torch.randint(0, 3, (20,))
    a, b = diagnose(inplace, x, y).statistics, diagnose(plain, x, y).statistics
    for name in LAYER_STATISTICS:
        np.testing.assert_array_equal(a.statistic(name), b.statistic(name), err_msg=name)


def test_layers_selects_what_is_diagnosed() -> None:
    model = Net()
    x, y = torch.randn(8, 1, 4, 4), torch.randint(0, 3, (8,))
    full = diagnose(model, x, y)
    only = diagnose(model, x, y, layers=[nn.Linear])
    assert only.names == ["fc"] and diagnose(model, x, y, layers="c*").names == ["conv"]
    assert only.statistics.z_std == full.statistics.z_std[1:]
    assert only.statistics.signal_std == full.statistics.signal_std[1:]


def test_diagnose_leaves_the_model_and_its_grads_untouched() -> None:
    model = Net()
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    diagnose(model, torch.randn(8, 1, 4, 4), torch.randint(0, 3, (8,)))
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert all(p.grad is None for p in model.parameters())
    assert not model.conv._forward_hooks and not model.act._forward_hooks


def test_hooks_are_removed_when_the_forward_pass_raises() -> None:
    model = Net()
    with pytest.raises(ValueError, match=r"in layer 'fc' \(Linear\)") as info:
        diagnose(model, torch.randn(8, 1, 5, 5))
    assert "\n" not in str(info.value) and "mat1 and mat2" in str(info.value)
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def test_transposed_convolution_units_are_output_channels() -> None:
    model = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, groups=2), nn.ReLU())
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].weight[:, 0] = 1.0  # output channels 0 (group 0) and 3 (group 1) equal
        model[0].bias.zero_()
    result = diagnose(model, torch.randn(4, 4, 3, 3))
    stats = result.statistics
    assert stats.units == [6]
    rows = {tuple(r) for r in model[0].weight.detach().reshape(2, 2, 3, 3, 3)
            .transpose(1, 2).reshape(6, -1).tolist()}  # fmt: skip
    assert stats.distinct_units == [float(len(rows))] == [2.0]
    assert math.isnan(stats.grad_w_norm[0])  # no target: no backward statistics


def test_shared_layer_is_measured_at_its_first_call() -> None:
    shared = nn.Linear(5, 5)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    x = torch.randn(30, 5)
    result = diagnose(model, x)
    assert result.names == ["0"]
    assert result.statistics.z_std[0] == pytest.approx(
        float(shared(x).detach().std(unbiased=False))
    )


def test_plot_layer_std_draws_one_line_per_diagnosis() -> None:
    from matplotlib.figure import Figure

    from initlab.torch import plot_layer_std

    network, _, _ = CASES[0]
    runs = {}
    for init in ("he", "zeros"):
        params = initialize(network, init, np.random.default_rng(0))
        runs[init] = diagnose(to_torch(network, params), np.ones((4, 3)) * [[1], [2], [3], [4]])
    ax = Figure().subplots()
    plot_layer_std(ax, runs)
    assert len(ax.get_lines()) == 2
    ydata = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(ydata, runs["he"].statistics.z_std)


def test_itertools_pairwise_layers_of_to_torch() -> None:
    network = Network((3, 4, 2), ("selu",), "softmax")
    params = initialize(network, "he", np.random.default_rng(0))
    model = to_torch(network, params)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for (a, b), linear in zip(itertools.pairwise(network.layer_sizes), linears, strict=True):
        assert (linear.in_features, linear.out_features) == (a, b)
    assert isinstance(model[1], nn.SELU)
