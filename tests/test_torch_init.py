"""initlab.torch.init_: the catalogue on torch layers, against formulas and torch.nn.init.

Distribution tests compare sample moments with their expected values within 5 standard
errors from sampling theory (the standard error of a sample variance is
``sqrt((m4 - s^4) / n)``, estimated from the sample), and whole distributions with a
two-sample Kolmogorov-Smirnov test at p > 1e-6: tolerances, never one CPU's bits.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from extras import require

torch = require("torch", "torch")
torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine
from scipy import stats as sps  # noqa: E402
from torch import nn  # noqa: E402

from initlab.initializers import get_initializer, initializer_names  # noqa: E402
from initlab.torch import init_, torch_fans  # noqa: E402

Z = 5.0  # standard errors


def values(tensor) -> np.ndarray:
    return tensor.detach().double().numpy().ravel()


def assert_variance(sample: np.ndarray, expected: float, mean: float = 0.0) -> None:
    """Sample variance and mean within Z standard errors of ``expected`` and ``mean``."""
    n = sample.size
    centred = sample - sample.mean()
    s2 = float(np.mean(centred**2))
    se = math.sqrt(max(float(np.mean(centred**4)) - s2**2, 0.0) / n)
    assert abs(s2 - expected) <= Z * se, (s2, expected, se)
    assert abs(sample.mean() - mean) <= Z * math.sqrt(s2 / n), (sample.mean(), mean)


def assert_same_distribution(a: np.ndarray, b: np.ndarray) -> None:
    assert sps.ks_2samp(a, b).pvalue > 1e-6
    va, vb = np.var(a), np.var(b)
    se = math.sqrt(
        (np.mean((a - a.mean()) ** 4) - va**2) / a.size
        + (np.mean((b - b.mean()) ** 4) - vb**2) / b.size
    )
    assert abs(va - vb) <= Z * se, (va, vb, se)


def conv(transposed: bool = False, dtype=torch.float64) -> nn.Module:
    kind = nn.ConvTranspose2d if transposed else nn.Conv2d
    return kind(32, 64, 5, groups=2 if transposed else 1, dtype=dtype)  # 51,200 / 25,600


def linear(dtype=torch.float64) -> nn.Module:
    return nn.Linear(200, 250, dtype=dtype)  # 50,000 weights


# (initlab spec, torch.nn.init call, variance from torch's fans)
AGAINST_TORCH = [
    ("glorot_uniform", lambda w, g: nn.init.xavier_uniform_(w, generator=g),
     lambda fi, fo: 2 / (fi + fo)),
    ("glorot_normal", lambda w, g: nn.init.xavier_normal_(w, generator=g),
     lambda fi, fo: 2 / (fi + fo)),
    ("glorot_normal(gain=1.5)", lambda w, g: nn.init.xavier_normal_(w, gain=1.5, generator=g),
     lambda fi, fo: 1.5**2 * 2 / (fi + fo)),
    ("he_normal(nonlinearity=relu)",
     lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
     lambda fi, fo: 2 / fi),
    ("he_uniform(a=0.1, mode=fan_out)",
     lambda w, g: nn.init.kaiming_uniform_(w, a=0.1, mode="fan_out", generator=g),
     lambda fi, fo: 2 / (1 + 0.01) / fo),
    ("he_normal(nonlinearity=tanh)",
     lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="tanh", generator=g),
     lambda fi, fo: (5 / 3) ** 2 / fi),
    ("truncated_normal", lambda w, g: nn.init.trunc_normal_(w, generator=g),
     lambda fi, fo: float(sps.truncnorm.var(-2, 2))),
    ("truncated_normal(std=0.02, a=-0.03, b=0.05)",
     lambda w, g: nn.init.trunc_normal_(w, std=0.02, a=-0.03, b=0.05, generator=g),
     lambda fi, fo: sps.truncnorm.stats(-1.5, 2.5, scale=0.02, moments="mv")[::-1]),
]  # fmt: skip


@pytest.mark.parametrize(
    "make", [linear, conv, lambda: conv(True)], ids=["linear", "conv", "tconv"]
)
@pytest.mark.parametrize(
    ("spec", "torch_init", "variance"), [pytest.param(*case, id=case[0]) for case in AGAINST_TORCH]
)
def test_init_matches_torch_nn_init_and_the_formula(make, spec, torch_init, variance) -> None:
    ours, theirs = make(), make()
    table = init_(ours, spec, generator=1)
    torch_init(theirs.weight, torch.Generator().manual_seed(1))
    fan_in, fan_out = torch_fans(tuple(ours.weight.shape))
    assert (table.fan_in[0], table.fan_out[0]) == (fan_in, fan_out)
    expected = variance(fan_in, fan_out)
    expected, mean = (float(expected[0]), float(expected[1])) if np.ndim(expected) else (
        expected, 0.0)  # fmt: skip
    assert_variance(values(ours.weight), expected, mean)
    assert_variance(values(theirs.weight), expected, mean)
    assert_same_distribution(values(ours.weight), values(theirs.weight))
    assert table["std"][0] == pytest.approx(values(ours.weight).std(), rel=1e-12)
    if not spec.startswith("truncated_normal("):
        assert table.expected_std[0] == pytest.approx(math.sqrt(expected), rel=1e-12)


def test_transposed_convolution_fans_are_torchs() -> None:
    layer = nn.ConvTranspose2d(8, 12, 3, groups=2)  # weight (8, 6, 3, 3)
    assert tuple(layer.weight.shape) == (8, 6, 3, 3)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(layer.weight)
    assert torch_fans(tuple(layer.weight.shape)) == (fan_in, fan_out) == (54, 72)
    table = init_(layer, "he_normal", generator=0)
    assert (table.fan_in[0], table.fan_out[0]) == (54, 72)


ORTHOGONAL_LAYERS = {
    "linear": lambda: nn.Linear(120, 90, dtype=torch.float64),
    "conv": lambda: nn.Conv2d(16, 40, 5, dtype=torch.float64),
    "tconv": lambda: nn.ConvTranspose2d(16, 40, 5, dtype=torch.float64),
}


@pytest.mark.parametrize("kind", ORTHOGONAL_LAYERS)
def test_orthogonal_matches_torch_orthogonal(kind: str) -> None:
    ours, theirs = ORTHOGONAL_LAYERS[kind](), ORTHOGONAL_LAYERS[kind]()
    init_(ours, "orthogonal(gain=2)", generator=3)
    nn.init.orthogonal_(theirs.weight, gain=2, generator=torch.Generator().manual_seed(3))
    for layer in (ours, theirs):
        rows = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        gram = rows @ rows.T if rows.shape[0] <= rows.shape[1] else rows.T @ rows
        np.testing.assert_allclose(gram.numpy(), 4 * np.eye(gram.shape[0]), atol=1e-10)
    assert_same_distribution(values(ours.weight), values(theirs.weight))


def test_sparse_matches_torch_sparse() -> None:
    ours, theirs = linear(), linear()
    init_(ours, "sparse(sparsity=0.3, std=0.05)", generator=2)
    nn.init.sparse_(theirs.weight, 0.3, std=0.05, generator=torch.Generator().manual_seed(2))
    for layer in (ours, theirs):
        w = layer.weight.detach().numpy()
        zeros = (w == 0).sum(axis=0)
        assert (zeros == math.ceil(0.3 * w.shape[0])).all()
        assert_variance(w[w != 0], 0.05**2)
    assert_same_distribution(values(ours.weight), values(theirs.weight))


@pytest.mark.parametrize("make", [linear, conv], ids=["linear", "conv2d"])
def test_torch_linear_is_torchs_default_reset(make) -> None:
    torch.manual_seed(5)
    theirs = make()  # torch's own reset_parameters
    ours = make()
    init_(ours, "torch_linear", bias="torch_linear", generator=5)
    fan_in, _ = torch_fans(tuple(ours.weight.shape))
    bound = 1 / math.sqrt(fan_in)
    for layer in (ours, theirs):
        assert_variance(values(layer.weight), bound**2 / 3)
        assert np.abs(values(layer.weight)).max() <= bound
        assert np.abs(values(layer.bias)).max() <= bound
        assert_variance(values(layer.bias), bound**2 / 3)
    assert_same_distribution(values(ours.weight), values(theirs.weight))
    assert_same_distribution(values(ours.bias), values(theirs.bias))


DATA_FREE = [
    name for name in initializer_names() if not get_initializer(name).__class__.__name__ == "LSUV"
]


@pytest.mark.parametrize("name", DATA_FREE)
def test_linear_weights_are_initlabs_own_draw(name: str) -> None:
    layer = nn.Linear(30, 20, dtype=torch.float64)
    init_(layer, name, generator=7)
    expected = get_initializer(name)(np.random.default_rng(7), (20, 30))
    np.testing.assert_array_equal(layer.weight.detach().numpy(), expected)
    assert not layer.bias.detach().any()


@pytest.mark.parametrize("name", DATA_FREE)
def test_convolution_statistics_follow_the_formula(name: str) -> None:
    layer = nn.Conv2d(32, 64, 3, dtype=torch.float64)  # 18,432 weights
    table = init_(layer, name, generator=8)
    w = values(layer.weight)
    expected = table.expected_std[0]
    if name in ("identity", "zero_hadamard"):
        assert math.isnan(expected)
        return
    if name in ("zeros", "ones", "constant"):
        assert np.all(w == w[0]) and w.std() == expected
        return
    assert math.isfinite(expected), name
    fan_in, fan_out = torch_fans(tuple(layer.weight.shape))
    mean = get_initializer(name).moments(fan_in, fan_out).mean
    assert_variance(w, expected**2, mean)


def test_identity_on_convolutions_is_torch_dirac() -> None:
    ours, theirs = nn.Conv2d(6, 4, 3), nn.Conv2d(6, 4, 3)
    init_(ours, "identity", generator=0)
    nn.init.dirac_(theirs.weight)
    assert torch.equal(ours.weight, theirs.weight)


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    def model() -> nn.Module:
        return nn.Sequential(nn.Conv1d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(24, 2))

    a, b, c = model(), model(), model()
    init_(a, "he_uniform", generator=11, bias="normal")
    init_(b, "he_uniform", generator=np.random.default_rng(11), bias="normal")
    init_(c, "he_uniform", generator=12, bias="normal")
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
        assert not torch.equal(value, c.state_dict()[key])
    d, e = model(), model()
    init_(d, "he_uniform", generator=torch.Generator().manual_seed(4))
    init_(e, "he_uniform", generator=torch.Generator().manual_seed(4))
    assert torch.equal(d[0].weight, e[0].weight)


def test_layer_selection_by_pattern_and_type() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2, 3))
    before = model.state_dict()
    before = {k: v.clone() for k, v in before.items()}
    table = init_(model, "zeros", layers="3")
    assert list(table.layer) == ["3"]
    assert not model[3].weight.any() and torch.equal(model[0].weight, before["0.weight"])
    table = init_(model, "ones", layers=[nn.Conv2d])
    assert list(table.layer) == ["0"] and bool((model[0].weight == 1).all())


def test_bias_none_keeps_biases_and_bias_schemes_see_torch_fans() -> None:
    layer = nn.Conv2d(4, 8, 3)
    bias = layer.bias.detach().clone()
    init_(layer, "he_normal", bias=None, generator=0)
    assert torch.equal(layer.bias, bias)
    table = init_(layer, "zeros", bias="constant(value=0.5)")
    assert bool((layer.bias == 0.5).all()) and table.bias[0] == "constant(value=0.5)"


def test_custom_initializer_gets_the_torch_shape(tmp_path, monkeypatch) -> None:
    (tmp_path / "torchinits.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            SEEN = []
            def shaped(rng, shape):
                SEEN.append(tuple(shape))
                return np.full(shape, float(len(shape)))
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(3, 1))
    init_(model, "torchinits:shaped")
    import torchinits

    assert torchinits.SEEN == [(3, 2, 3, 3), (1, 3)]
    assert bool((model[0].weight == 4).all()) and bool((model[2].weight == 2).all())


class Reordered(nn.Module):
    """Defined in one order, run in another: LSUV must follow the forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.last = nn.Linear(16, 4)
        self.middle = nn.Linear(16, 16)
        self.first = nn.Linear(8, 16)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.last(torch.tanh(self.middle(torch.relu(self.first(x)))))


def output_variances(model: nn.Module, batch) -> dict[str, float]:
    seen: dict[str, float] = {}

    def keep(name: str):  # type: ignore[no-untyped-def]
        def hook(module, args, output) -> None:  # type: ignore[no-untyped-def]
            seen.setdefault(name, float(output.double().var(False)))

        return hook

    handles = [
        module.register_forward_hook(keep(name))
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear | nn.Conv2d)
    ]
    with torch.no_grad():
        model(batch)
    for handle in handles:
        handle.remove()
    return seen


def test_lsuv_calibrates_in_execution_order_through_the_real_forward_pass() -> None:
    torch.manual_seed(0)
    model = Reordered()
    batch = torch.randn(256, 8) * 3 + 1
    table = init_(model, "lsuv(tol=0.01)", generator=0, data=batch)
    assert list(table.layer) == ["last", "middle", "first"]  # module order in the table
    variances = output_variances(model, batch)
    for name in ("first", "middle", "last"):
        assert abs(variances[name] - 1) < 0.01, variances
        row = table[table.layer == name].iloc[0]
        assert row.output_variance == pytest.approx(variances[name], rel=1e-5)


def test_lsuv_on_a_cnn_with_batchnorm_leaves_running_statistics_alone() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3),
        nn.Flatten(), nn.Linear(8 * 36, 10),
    )  # fmt: skip
    stats = model[1].running_mean.clone()
    batch = torch.randn(64, 1, 8, 8)
    init_(model, "lsuv", generator=0, data=batch)
    assert torch.equal(model[1].running_mean, stats)
    model.eval()  # BatchNorm with its (untouched) running statistics
    variances = output_variances(model.train(), batch)
    assert abs(variances["0"] - 1) < 0.1 and abs(variances["5"] - 1) < 0.1
