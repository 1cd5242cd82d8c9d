"""The initializer catalogue against its formulas, table-driven.

Statistical checks draw N = 100 000 entries and allow 6 standard errors
(estimated from the sample itself), so a correct implementation fails with
probability below 1e-8 per check, while a wrong constant (e.g. a variance off
by 1 %) is caught: 6 SE of a second moment is about 6 * sqrt(2 / N) = 2.7 %
relative for a normal draw, and the bounds checks catch wrong limits exactly.
"""

from __future__ import annotations

import itertools
import math
import sys
import textwrap
from importlib.metadata import EntryPoint

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from initlab.initializers import (
    CATALOGUE,
    INITIALIZERS,
    LSUV,
    TRUNCATED_STD,
    get_initializer,
    initialize,
    initializer_info,
)
from initlab.initializers import registry as registry_module
from initlab.network import Network, forward
from initlab.spec import format_spec, parse_spec

SHAPES = [(1, 1), (1, 7), (7, 1), (6, 6), (4, 9), (9, 4)]
SHAPE_IDS = ["1x1", "1xn", "nx1", "square", "wide", "tall"]

#: Parameters to build each catalogue entry with in the shape/determinism table.
BUILD = {"constant": "constant(value=0.5)", "sparse": "sparse(sparsity=0.3, std=1)"}
DRAWABLE = sorted(name for name in CATALOGUE if name != "lsuv")
DETERMINISTIC = {name for name, info in CATALOGUE.items() if not info.random}


def spec_for(name: str) -> str:
    return BUILD.get(name, name)


def test_every_catalogue_name_is_listed_and_documented():
    for name, info in CATALOGUE.items():
        assert INITIALIZERS[name] is info.factory
        assert info.formula and info.citation and info.doc, name
        for alias in info.aliases:
            assert get_initializer(alias) == get_initializer(name) or alias == "ZerO"


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("name", DRAWABLE)
def test_shape_dtype_and_determinism(name, shape):
    init = get_initializer(spec_for(name))
    first = init(np.random.default_rng(0), shape)
    assert first.shape == shape
    assert first.dtype == np.float64
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, init(np.random.default_rng(0), shape))
    legacy = init(np.random.RandomState(0), shape)
    np.testing.assert_array_equal(legacy, init(np.random.RandomState(0), shape))
    if name in DETERMINISTIC:
        np.testing.assert_array_equal(first, init(np.random.default_rng(1), shape))
        return
    # a 1x1 orthogonal matrix is +-gain, a one-row sparse column is all zeros: nothing to vary
    if (name == "orthogonal" and shape == (1, 1)) or (name == "sparse" and shape[0] == 1):
        return
    assert not np.array_equal(first, init(np.random.default_rng(1), shape))


def _truncnorm_mean_var(mean, std, a, b):
    """Closed-form moments of N(mean, std^2) truncated to [a, b] (the oracle)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    z = ndtr(beta) - ndtr(alpha) if alpha <= 0 else ndtr(-alpha) - ndtr(-beta)
    shift = (phi(alpha) - phi(beta)) / z
    var = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - shift**2)
    return mean + std * shift, var


FI, FO = 250, 400
TN = _truncnorm_mean_var(1.0, 2.0, 0.0, 3.0)
TN_TAIL = _truncnorm_mean_var(0.0, 1.0, 8.0, 9.0)  # far tail: needs the reflected inversion
AVG = (FI + FO) / 2

# (spec, mean, variance, bound) for W of shape (FO, FI); bound is None, "uniform"
# (+-sqrt(3 var)), "trunc" (+-2 std / 0.8796...), (low, high) (attained within 1 %),
# or (low, high, "within") (only respected: the far tail is too thin to reach its end)
STATS = [
    ("normal(mean=0.5, std=2)", 0.5, 4.0, None),
    ("uniform(low=-1, high=3)", 1.0, 16 / 12, (-1.0, 3.0)),
    ("truncated_normal(mean=1, std=2, a=0, b=3)", TN[0], TN[1], (0.0, 3.0)),
    ("truncated_normal(a=8, b=9)", TN_TAIL[0], TN_TAIL[1], (8.0, 9.0, "within")),
    ("random", 0.0, 100.0, None),
    ("he", 0.0, 2 / FI, None),
    ("variance_scaling(scale=2, mode=fan_avg, distribution=uniform)", 0.0, 2 / AVG, "uniform"),
    ("variance_scaling(scale=3, mode=fan_out, distribution=truncated_normal)", 0, 3 / FO, "trunc"),
    ("variance_scaling(mode=fan_geo_avg, distribution=normal)", 0.0, 1 / math.sqrt(FI * FO), None),
    ("variance_scaling", 0.0, 1 / FI, "trunc"),
    ("glorot_normal(gain=2)", 0.0, 4 * 2 / (FI + FO), None),
    ("glorot_uniform", 0.0, 2 / (FI + FO), "uniform"),
    ("glorot_normal_truncated", 0.0, 2 / (FI + FO), "trunc"),
    ("he_normal", 0.0, 2 / FI, None),
    ("he_normal(mode=fan_out, nonlinearity=tanh)", 0.0, (5 / 3) ** 2 / FO, None),
    ("he_normal(a=0.5)", 0.0, 2 / 1.25 / FI, None),
    ("he_uniform", 0.0, 2 / FI, (-math.sqrt(6 / FI), math.sqrt(6 / FI))),
    ("he_uniform(a=2.2360679774997896)", 0.0, 1 / (3 * FI), "uniform"),
    ("he_normal_truncated", 0.0, 2 / FI, "trunc"),
    ("lecun_normal", 0.0, 1 / FI, None),
    ("lecun_uniform", 0.0, 1 / FI, (-math.sqrt(3 / FI), math.sqrt(3 / FI))),
    ("lecun_normal_truncated", 0.0, 1 / FI, "trunc"),
    ("torch_linear", 0.0, 1 / (3 * FI), (-1 / math.sqrt(FI), 1 / math.sqrt(FI))),
    ("keras_dense", 0.0, 2 / (FI + FO), "uniform"),
    ("sklearn_mlp", 0.0, 6 / (FI + FO) / 3, "uniform"),
    ("sklearn_mlp(activation=logistic)", 0.0, 2 / (FI + FO) / 3, "uniform"),
    ("sparse(sparsity=0.3, std=2)", 0.0, 4 * (FO - math.ceil(0.3 * FO)) / FO, None),
]


@pytest.mark.parametrize("spec, mean, var, bound", STATS, ids=[s[0] for s in STATS])
def test_large_draw_statistics(spec, mean, var, bound):
    init = get_initializer(spec)
    # the formula the catalogue reports (initlab inits NAME) is the test's formula
    reported = init.moments(FI, FO)
    assert reported.mean == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert reported.variance == pytest.approx(var, rel=1e-9)
    w = init(np.random.default_rng(12345), (FO, FI)).ravel()
    n = w.size
    se_mean = math.sqrt(var / n)
    assert abs(w.mean() - mean) < 6 * se_mean
    centred_sq = (w - mean) ** 2
    se_var = centred_sq.std() / math.sqrt(n)
    assert abs(centred_sq.mean() - var) < 6 * se_var
    if bound == "uniform":
        bound = (-math.sqrt(3 * var), math.sqrt(3 * var))
    elif bound == "trunc":
        cut = 2 * math.sqrt(var) / TRUNCATED_STD
        bound = (-cut, cut)
    if bound is not None:
        low, high = bound[:2]
        assert w.min() >= low and w.max() <= high
        if len(bound) == 3:
            return
        # the bounds are reached, not just respected (a too-narrow law would pass the first test)
        width = high - low
        assert w.min() < low + 0.01 * width and w.max() > high - 0.01 * width


def test_truncated_std_constant():
    z = np.linspace(-2, 2, 200001)
    density = np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    mass = ndtr(2) - ndtr(-2)
    second = np.trapezoid(z**2 * density, z) / mass
    assert math.sqrt(second) == pytest.approx(TRUNCATED_STD, abs=1e-9)


def test_course_schemes_reproduce_the_course_weights():
    net = Network.course()
    for name, scale in (("he", None), ("he_normal", None), ("random", 10.0)):
        rng = np.random.RandomState(3)
        expected = []
        for fan_in, fan_out in ((2, 10), (10, 5), (5, 1)):
            draw = rng.standard_normal((fan_out, fan_in))
            expected.append(draw * (scale if scale else np.sqrt(2.0 / fan_in)))
        params = initialize(net, name, np.random.RandomState(3))
        for got, want in zip(params.weights, expected, strict=True):
            np.testing.assert_array_equal(got, want)
        assert all((b == 0).all() for b in params.biases)
    # the course's printed first He weight
    he = initialize(net, "he", np.random.RandomState(3))
    assert he.weights[0][0, 0] == pytest.approx(1.78862847)


@pytest.mark.parametrize("gain", [1.0, 3.0])
@pytest.mark.parametrize("shape", [*SHAPES, (50, 120), (120, 50)])
def test_orthogonal_gram_matrix(shape, gain):
    w = get_initializer("orthogonal", gain=gain)(np.random.default_rng(7), shape)
    rows, cols = shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(shape)), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    # Without the sign fix numpy's QR makes Q[0, 0] = -|a_11| / |a_1| < 0 always.
    rng = np.random.default_rng(3)
    init = get_initializer("orthogonal")
    first = np.array([init(rng, (3, 3))[0, 0] for _ in range(3000)])
    assert abs(first.mean()) < 6 * math.sqrt(1 / 3 / first.size)
    assert first.var() == pytest.approx(1 / 3, rel=0.1)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_identity_exact(shape):
    w = get_initializer("identity(gain=2.5)")(np.random.default_rng(0), shape)
    expected = np.zeros(shape)
    for i in range(min(shape)):
        expected[i, i] = 2.5
    np.testing.assert_array_equal(w, expected)


def test_zero_hadamard_exact_matrices():
    init = get_initializer("zero_hadamard")
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(init(rng, (3, 5)), np.eye(3, 5))
    np.testing.assert_array_equal(init(rng, (4, 4)), np.eye(4))
    # fan_out 3 > fan_in 2: m = 2, p = 4, c = 2^(-m/2) = 1/2, H_4's top-left 3x2 block
    np.testing.assert_array_equal(init(rng, (3, 2)), np.array([[1, 1], [1, -1], [1, 1]]) / 2)
    for fan_out, fan_in in ((6, 3), (9, 4), (33, 7), (1, 1), (2, 1)):
        m = math.ceil(math.log2(fan_out))
        block = scipy.linalg.hadamard(2**m)[:fan_out, :fan_in]
        np.testing.assert_allclose(
            init(rng, (fan_out, fan_in)),
            block / 2 ** (m / 2) if fan_out > fan_in else np.eye(fan_out, fan_in),
            rtol=1e-15,
        )
        paper = get_initializer("zero_hadamard(constant=paper)")(rng, (fan_out, fan_in))
        if fan_out > fan_in:
            np.testing.assert_allclose(paper, block * 2 ** (-(m - 1) / 2), rtol=1e-15)
    # fan_out a power of two: an exact isometry
    w = init(rng, (8, 3))
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-15)
    assert get_initializer("ZerO") == init


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.95])
@pytest.mark.parametrize("shape", [(1, 5), (7, 1), (10, 10), (20, 13)])
def test_sparse_zeros_per_column(shape, sparsity):
    w = get_initializer("sparse", sparsity=sparsity, std=1.0)(np.random.default_rng(5), shape)
    expected = math.ceil(sparsity * shape[0])
    assert ((w == 0).sum(axis=0) == expected).all()


def test_sparse_zero_positions_are_random():
    """Each column zeroes a uniformly random set of 20 of its 40 rows, independently.

    Then a row is zeroed in Binomial(200, 1/2) columns (mean 100, variance 50), and two
    columns share a hypergeometric number of zeroed rows (mean 20 * 20 / 40 = 10,
    variance 20 (1/2)(1/2)(20/39) = 2.56). The same rows in every column, or rows
    picked by a column-dependent rule, are far outside both.
    """
    w = get_initializer("sparse(sparsity=0.5, std=1)")(np.random.default_rng(5), (40, 200))
    zeroed = (w == 0).astype(float)
    counts = zeroed.sum(axis=1)
    dispersion = float(np.sum((counts - 100.0) ** 2) / 50.0)  # about chi2 with 39 dof
    assert scipy.stats.chi2.ppf(1e-6, 39) < dispersion < scipy.stats.chi2.ppf(1 - 1e-6, 39)
    overlaps = zeroed.T @ zeroed
    pairs = overlaps[np.triu_indices(200, k=1)]
    assert abs(pairs.mean() - 10.0) < 0.2  # standard error about 0.011
    assert pairs.var() == pytest.approx(20 * 0.25 * 20 / 39, rel=0.15)


def test_framework_biases_use_the_layer_fans():
    net = Network((30, 20, 1), ("relu",))
    params = initialize(net, "torch_linear", np.random.default_rng(0), bias_init="torch_linear")
    for w, b in zip(params.weights, params.biases, strict=True):
        limit = 1 / math.sqrt(w.shape[1])
        assert np.abs(w).max() <= limit and np.abs(b).max() <= limit
        assert np.abs(b).max() > 0.5 * limit or b.size == 1
    keras = initialize(net, "keras_dense", np.random.default_rng(0), bias_init="keras_dense")
    assert all((b == 0).all() for b in keras.biases)


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
def test_sklearn_mlp_matches_scikit_learn(activation):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(activation=activation)
    if not hasattr(clf, "_init_coef"):  # pragma: no cover - private scikit-learn API
        pytest.skip("scikit-learn no longer has MLPClassifier._init_coef")
    clf._random_state = np.random.RandomState(4)
    sizes = (6, 5, 3, 1)
    expected = [clf._init_coef(a, b, np.float64) for a, b in itertools.pairwise(sizes)]
    init = get_initializer("sklearn_mlp", activation=activation)
    params = initialize(
        Network(sizes, ("relu", "relu")), init, np.random.RandomState(4), bias_init=init
    )
    for (coef, intercept), w, b in zip(expected, params.weights, params.biases, strict=True):
        np.testing.assert_array_equal(w, coef.T)
        np.testing.assert_array_equal(b.ravel(), intercept)


# --- LSUV ------------------------------------------------------------------------------


def _tanh_net(depth: int = 10, width: int = 64) -> Network:
    return Network((20, *([width] * (depth - 1)), 1), ("tanh",) * (depth - 1))


def test_lsuv_reaches_unit_variance_on_a_10_layer_tanh_network():
    net = _tanh_net()
    X = 3.0 * np.random.default_rng(1).standard_normal((20, 512))
    params = initialize(net, "lsuv", np.random.default_rng(2), data=X)
    cache = forward(net, params, X)
    variances = [float(np.var(z)) for z in cache.preactivations]
    assert len(variances) == 10
    assert all(abs(v - 1) < 0.1 for v in variances), variances
    result = LSUV().fit(net, np.random.default_rng(2), X)
    np.testing.assert_allclose(result.variances, variances, rtol=1e-12)
    assert all(result.converged) and all(r >= 1 for r in result.rescalings)


def test_lsuv_with_random_biases_iterates_to_tolerance():
    net = _tanh_net(depth=6, width=32)
    X = np.random.default_rng(1).standard_normal((20, 256))
    result = LSUV(tol=0.01, max_iter=50).fit(
        net, np.random.default_rng(0), X, bias_init="normal(std=0.5)"
    )
    assert all(abs(v - 1) < 0.01 for v in result.variances), result.variances
    assert max(result.rescalings) > 1
    short = LSUV(tol=1e-9, max_iter=1).fit(net, np.random.default_rng(0), X, "normal(std=0.5)")
    assert not all(short.converged) and max(short.rescalings) == 1


def test_lsuv_starts_orthonormal_and_only_rescales():
    net = Network((8, 8, 8, 1), ("tanh", "tanh"))
    X = np.random.default_rng(1).standard_normal((8, 100))
    params = initialize(net, "lsuv", np.random.default_rng(0), data=X)
    ortho = initialize(net, "orthogonal", np.random.default_rng(0))
    for w, q in zip(params.weights, ortho.weights, strict=True):
        ratio = w / q
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-10)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda net, X: initialize(net, "lsuv", np.random.default_rng(0)), "data-dependent"),
        (lambda net, X: initialize(net, "he", np.random.default_rng(0), "lsuv"), "bias"),
        (lambda net, X: get_initializer("lsuv")(np.random.default_rng(0), (3, 3)), "data"),
        (lambda net, X: initialize(net, "lsuv", np.random.default_rng(0), data=X.T), "shape"),
        (lambda net, X: initialize(net, "lsuv", np.random.default_rng(0), data=X * np.nan), "non"),
        (lambda net, X: initialize(net, "lsuv", np.random.default_rng(0), data=X * 0), "varia"),
    ],
)
def test_lsuv_bad_input(call, message):
    net = Network((4, 6, 1), ("tanh",))
    X = np.random.default_rng(0).standard_normal((4, 10))
    with pytest.raises(ValueError, match=message):
        call(net, X)


# --- specs, custom code, entry points, bad input ------------------------------------------


def test_spec_forms_agree():
    assert get_initializer("normal(std=0.01)") == get_initializer("normal", std=0.01)
    assert get_initializer("normal(0.5, 2)") == get_initializer("normal", mean=0.5, std=2)
    vs = get_initializer("variance_scaling(scale=2, mode=fan_avg, distribution=uniform)")
    assert (vs.scale, vs.mode, vs.distribution) == (2.0, "fan_avg", "uniform")
    assert get_initializer("variance_scaling(distribution=untruncated_normal)").distribution == (
        "normal"
    )
    assert get_initializer("he") == get_initializer(" he ")
    assert get_initializer("kaiming_normal(mode=fan_out)") == get_initializer(
        "he_normal(mode='fan_out')"
    )


identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in ("true", "false", "none", "inf", "nan")
)
values = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    identifiers,
    st.sampled_from(["true", "None", "inf", "NaN", "1e5", "-3", "a'b", 'c"d']),
    st.text(alphabet="abc ,()=-", min_size=1, max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(name=identifiers, params=st.dictionaries(identifiers, values, max_size=4))
def test_spec_round_trip(name, params):
    parsed_name, args, kwargs = parse_spec(format_spec(name, params))
    assert parsed_name == name and args == ()
    assert dict(kwargs) == params


BAD = [
    ("he_norml", "did you mean 'he_normal'"),
    ("xavier_norml", "did you mean 'xavier_normal'"),
    ("nothing_like_it", "choose one of: "),
    ("normal(stdd=1)", "stdd"),
    ("normal(std=-1)", r"normal: std must be a number in \[0, 1e\+150\], got -1"),
    ("normal(std=abc)", "std must be a number in .*, got 'abc'"),
    ("normal(std=nan)", "std must be a number in .*, got nan"),
    ("normal(std=", "malformed"),
    ("normal(std=1", "malformed"),
    ("normal(std=1)(x)", "malformed"),
    ("normal(1, 2, 3)", "bad parameters"),
    ("normal(std=1, std=2)", "given twice"),
    ("normal(std=1, 2)", "positional"),
    ("normal(std=[1])", "malformed"),
    ("normal(std=__import__('os'))", "malformed"),
    ("", "malformed"),
    ("sparse(sparsity=1)", r"\[0, 1\)"),
    ("sparse(sparsity=-0.1)", r"\[0, 1\)"),
    ("sparse(std=-1)", r"std must be a number in \[0, 1e\+150\]"),
    ("variance_scaling(mode=fan_sum)", "unknown mode 'fan_sum'; choose one of: fan_in"),
    ("variance_scaling(distribution=cauchy)", "unknown distribution"),
    ("variance_scaling(scale=0)", r"scale must be a number in \(0, 1e\+300\], got 0"),
    ("uniform(low=2, high=1)", "low must be <= high"),
    ("truncated_normal(a=1, b=0)", "a must be < b"),
    ("truncated_normal(std=0)", r"std must be a number in \(0, 1e\+150\], got 0"),
    ("truncated_normal(a=100, b=101)", "too far in the tail"),
    ("he_normal(a=1, nonlinearity=relu)", "only used with nonlinearity=leaky_relu"),
    ("he_normal(nonlinearity=softmax)", "unknown activation 'softmax'"),
    ("he_normal(mode=fan_avg)", "unknown mode"),
    ("zero_hadamard(constant=other)", "unknown constant"),
    ("lsuv(tol=0)", "tol must be a positive finite number, got 0"),
    ("lsuv(max_iter=0)", "max_iter must be a positive integer"),
    ("sklearn_mlp(activation=gelu)", "unknown activation 'gelu'"),
    ("constant(value=inf)", r"value must be a number with \|value\| <= 1e\+150, got inf"),
    ("random(scale=abc)", "scale must be a number"),
    ("orthogonal(gain=true)", "gain must be a number"),
    ("no_such_module_xyz:fn", "cannot import module 'no_such_module_xyz'"),
    ("json:nope", "has no attribute 'nope'"),
    ("math:pi", "not callable"),
    (":fn", "malformed"),
]


@pytest.mark.parametrize("spec, message", BAD, ids=[b[0] or "empty" for b in BAD])
def test_bad_specs_raise_value_error(spec, message):
    with pytest.raises(ValueError, match=message):
        get_initializer(spec)


def test_non_string_names_and_clashing_params():
    with pytest.raises(ValueError, match="must be a string"):
        get_initializer(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="given twice"):
        get_initializer("normal(std=1)", std=2)
    with pytest.raises(ValueError, match="bad parameters"):
        get_initializer("he", scale=3)


def test_shape_checks():
    for name in ("orthogonal", "identity", "sparse", "zero_hadamard"):
        with pytest.raises(ValueError, match="2-D"):
            get_initializer(name)(np.random.default_rng(0), (3, 4, 5))
    for name in ("he_normal", "glorot_uniform", "torch_linear", "sklearn_mlp", "orthogonal"):
        with pytest.raises(ValueError, match="positive integers"):
            get_initializer(name)(np.random.default_rng(0), (0, 4))


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    source = textwrap.dedent(
        """
        import numpy as np

        def good(rng, shape):
            return 0.1 * rng.standard_normal(shape)

        def scaled(scale=1.0):
            return lambda rng, shape: scale * np.ones(shape)

        class Halves:
            def __init__(self, value=0.5):
                self.value = value

            def __call__(self, rng, shape):
                return np.full(shape, self.value)

        def wrong_shape(rng, shape):
            return np.zeros((2, 2))

        def not_finite(rng, shape):
            return np.full(shape, np.nan)

        def not_an_array(rng, shape):
            return "weights"

        def broken_factory(scale=1.0):
            return 42
        """
    )
    (tmp_path / "initlab_user_inits.py").write_text(source)
    (tmp_path / "initlab_broken_module.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "initlab_user_inits"
    for module in ("initlab_user_inits", "initlab_broken_module"):
        sys.modules.pop(module, None)


def test_custom_initializers(user_module):
    net = Network((3, 4, 1), ("relu",))
    rng = np.random.default_rng(0)
    params = initialize(net, f"{user_module}:good", rng)
    np.testing.assert_array_equal(
        params.weights[0], 0.1 * np.random.default_rng(0).standard_normal((4, 3))
    )
    twos = initialize(net, f"{user_module}:scaled(scale=2)", rng)
    assert (twos.weights[1] == 2).all()
    halves = initialize(net, "zeros", rng, bias_init=f"{user_module}:Halves")
    assert (halves.biases[0] == 0.5).all()
    assert (initialize(net, f"{user_module}:Halves(0.25)", rng).weights[0] == 0.25).all()


@pytest.mark.parametrize(
    "attr, message",
    [
        ("wrong_shape", r"returned shape \(2, 2\) for W\[1\], expected \(4, 3\)"),
        ("not_finite", "non-finite"),
        ("not_an_array", "not an array"),
        ("broken_factory(scale=2)", "not callable"),
        ("good(scale=2)", "bad parameters"),
    ],
)
def test_bad_custom_initializers(user_module, attr, message):
    net = Network((3, 4, 1), ("relu",))
    with pytest.raises(ValueError, match=message):
        initialize(net, f"{user_module}:{attr}", np.random.default_rng(0))


def test_custom_module_that_fails_to_import(user_module):
    with pytest.raises(ValueError, match="RuntimeError: boom"):
        get_initializer("initlab_broken_module:fn")


def test_entry_point_initializers(user_module, monkeypatch):
    eps = [
        EntryPoint("plugin_scaled", f"{user_module}:scaled", registry_module.ENTRY_POINT_GROUP),
        EntryPoint("he", f"{user_module}:scaled", registry_module.ENTRY_POINT_GROUP),
        EntryPoint("plugin_broken", "initlab_broken_module:x", registry_module.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: eps)
    registry_module._entry_point_infos.cache_clear()
    try:
        init = get_initializer("plugin_scaled(scale=3)")
        assert (init(np.random.default_rng(0), (2, 2)) == 3).all()
        assert "plugin_scaled" in registry_module.initializer_names()
        assert initializer_info("plugin_scaled").source.startswith("entry point")
        assert get_initializer("he") == get_initializer("he")  # built-in wins
        with pytest.raises(ValueError, match="failed to load"):
            get_initializer("plugin_broken")
    finally:
        registry_module._entry_point_infos.cache_clear()


def test_initialize_rejects_non_initializers():
    net = Network((3, 4, 1), ("relu",))
    with pytest.raises(ValueError, match="weight_init must be"):
        initialize(net, 3.0, np.random.default_rng(0))  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    fan_in=st.integers(1, 40),
    fan_out=st.integers(1, 40),
    name=st.sampled_from(DRAWABLE),
)
def test_any_shape_draws_finite_arrays_with_reported_moments(fan_in, fan_out, name):
    init = get_initializer(spec_for(name))
    w = init(np.random.default_rng(0), (fan_out, fan_in))
    assert w.shape == (fan_out, fan_in) and np.isfinite(w).all()
    moments = init.moments(fan_in, fan_out)
    expected = expected_second_moment(name, fan_in, fan_out)
    assert moments.second_moment == pytest.approx(expected, rel=1e-12, abs=1e-300)
    if name in DETERMINISTIC:
        assert float(np.mean(w * w)) == pytest.approx(expected, rel=1e-12, abs=0)


def _zero_hadamard_second_moment(fan_in: int, fan_out: int, paper: bool = False) -> float:
    """ZerO in closed form: I* has fan_out ones among fan_out fan_in entries; c H has c^2."""
    if fan_out <= fan_in:
        return 1.0 / fan_in
    m = math.ceil(math.log2(fan_out))
    return 2.0 ** -(m - 1) if paper else 2.0**-m


def expected_second_moment(name: str, fan_in: int, fan_out: int) -> float:
    """E[w^2] of each catalogue entry built by ``spec_for``, from its published formula."""
    avg = (fan_in + fan_out) / 2
    formulas = {
        "zeros": 0.0,
        "ones": 1.0,
        "constant": 0.25,  # value 0.5
        "normal": 1.0,  # N(0, 1)
        "uniform": 1.0 / 3.0,  # U(0, 1)
        "truncated_normal": TRUNCATED_STD**2,  # N(0, 1) cut to [-2, 2]
        "random": 100.0,  # 10 N(0, 1)
        "he": 2.0 / fan_in,
        "variance_scaling": 1.0 / fan_in,
        "glorot_normal": 1.0 / avg,
        "glorot_uniform": 1.0 / avg,
        "glorot_normal_truncated": 1.0 / avg,
        "he_normal": 2.0 / fan_in,
        "he_uniform": 2.0 / fan_in,
        "he_normal_truncated": 2.0 / fan_in,
        "lecun_normal": 1.0 / fan_in,
        "lecun_uniform": 1.0 / fan_in,
        "lecun_normal_truncated": 1.0 / fan_in,
        "torch_linear": 1.0 / (3.0 * fan_in),
        "keras_dense": 1.0 / avg,
        "sklearn_mlp": 2.0 / (fan_in + fan_out),  # bound^2 / 3 with bound^2 = 6 / (fi + fo)
        "orthogonal": 1.0 / max(fan_in, fan_out),
        "identity": min(fan_in, fan_out) / (fan_in * fan_out),
        "sparse": (fan_out - math.ceil(0.3 * fan_out)) / fan_out,  # sparsity 0.3, std 1
        "zero_hadamard": _zero_hadamard_second_moment(fan_in, fan_out),
    }
    return formulas[name]


def test_every_drawable_entry_has_a_second_moment_formula():
    for name in DRAWABLE:  # a new catalogue entry needs its formula (KeyError otherwise)
        assert math.isfinite(expected_second_moment(name, 3, 5)), name


@pytest.mark.parametrize(
    "fan_in, fan_out", [(5, 3), (4, 4), (2, 3), (3, 8), (7, 9), (7, 33), (1, 2), (300, 1000)]
)
def test_zero_hadamard_moments_against_closed_forms(fan_in, fan_out):
    """Mean and E[w^2] of ZerO from an independent construction (scipy's Hadamard matrix)."""
    if fan_out <= fan_in:
        mean = second = 1.0 / fan_in
    else:
        m = math.ceil(math.log2(fan_out))
        block = scipy.linalg.hadamard(2**m)[:fan_out, :fan_in]
        mean, second = float(block.mean()) * 2.0 ** (-m / 2), 2.0**-m
    for spec, factor in (("zero_hadamard", 1.0), ("zero_hadamard(constant=paper)", 2.0)):
        moments = get_initializer(spec).moments(fan_in, fan_out)
        scale = 1.0 if fan_out <= fan_in else factor
        assert moments.second_moment == pytest.approx(second * scale, rel=1e-14)
        assert moments.second_moment == pytest.approx(
            _zero_hadamard_second_moment(fan_in, fan_out, paper=factor == 2.0), rel=1e-14
        )
        assert moments.mean == pytest.approx(mean * math.sqrt(scale), rel=1e-14, abs=1e-300)
