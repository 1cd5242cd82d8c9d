"""``initlab inits`` and ``initlab activations``, and the shared spec options."""

from __future__ import annotations

import json

import click
import pytest

from initlab.cli import main
from initlab.cli.output import stdout
from initlab.cli.specs import activation_option, bias_init_option, initializer_option
from initlab.initializers import CATALOGUE


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(stdout, "width", 240)


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, out: str, err: str, *fragments: str) -> None:
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("initlab: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_inits_lists_every_initializer(capsys):
    rc, out, err = run(capsys, "inits")
    assert rc == 0 and not err
    for name, info in CATALOGUE.items():
        assert name in out
        assert info.citation.split()[0] in out
    for fragment in ("keras_he_normal", "(2, fan_in, truncated_normal)", "std=1.0", "Martens 2010"):
        assert fragment in out


def test_inits_list_with_fans_adds_second_moments(capsys):
    rc, out, _ = run(capsys, "inits", "--fan-in", "100", "--fan-out", "300")
    assert rc == 0
    assert "E[w^2] at 100->300" in out
    assert "0.005" in out  # glorot: 2 / (100 + 300)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["he_normal", "--fan-in", "100", "--fan-out", "50"], ["E[w^2] 0.02", "kaiming_normal"]),
        (["kaiming_normal(mode=fan_out)", "--fan-in", "100", "--fan-out", "50"], ["E[w^2] 0.04"]),
        (["keras_he_normal", "--fan-in", "8"], ["he_normal_truncated", "E[w^2] 0.25"]),
        (["torch_linear", "--fan-in", "3"], ["E[w^2] 0.111111", "layer's fans"]),
        (["zero_hadamard", "--fan-in", "2", "--fan-out", "3"], ["E[w^2] 0.25", "2^(m/2)"]),
        (["lsuv"], ["data-dependent", "Mishkin"]),
        (["normal(std=0.5)"], ["E[w^2] 0.25", "std 0.5"]),
    ],
)
def test_inits_shows_one_in_full(capsys, args, fragments):
    rc, out, err = run(capsys, "inits", *args)
    assert rc == 0, err
    for fragment in fragments:
        assert fragment in out


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["inits", "he_norml"], ["unknown initializer 'he_norml'", "did you mean 'he_normal'"]),
        (["inits", "normal(std=-1)"], ["std must be a number in [0, 1e+150], got -1"]),
        (["inits", "normal(std="], ["malformed"]),
        (["inits", "sparse(sparsity=1.5)"], ["[0, 1)"]),
        (["inits", "variance_scaling(mode=fan_sum)"], ["unknown mode 'fan_sum'"]),
        (["inits", "no_such_module_xyz:f"], ["cannot import module"]),
        (["inits", "math:pi"], ["not callable"]),
        (["inits", "he", "--fan-in", "0"], ["--fan-in"]),
        (["activations", "rellu"], ["did you mean 'relu'"]),
        (["activations", "leaky_relu(slope=x)"], ["slope must be a number"]),
        (["activations", "elu(alpha=-1)"], ["alpha must be a number in [0, 1e+150]"]),
        (["course", "--init", "he_norml"], ["--init", "did you mean 'he_normal'"]),
        (["course", "--bias-init", "lsuv"], ["--bias-init", "data-dependent"]),
        (["course", "--bias-init", "normal(std=-2)"], ["--bias-init", "std must be a number in"]),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, args, fragments):
    assert_one_line_error(*run(capsys, *args), *fragments)


def test_activations_list_and_one(capsys):
    rc, out, _ = run(capsys, "activations")
    assert rc == 0
    for name in ("relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "silu", "swish"):
        assert name in out
    assert "1.66667" in out and "5/3 (torch)" in out
    rc, out, _ = run(capsys, "activations", "leaky_relu(slope=0.1)")
    assert rc == 0
    assert "1.4071950894605838" in out  # sqrt(2 / 1.01)
    rc, out, _ = run(capsys, "activations", "tanh")
    assert "1.5925374" in out  # the unit second-moment rule beside torch's 5/3


def test_course_takes_spec_strings(capsys, tmp_path):
    rc, _, err = run(
        capsys,
        "course",
        "--init",
        "he_normal(mode=fan_out)",
        "--bias-init",
        "normal(std=0.1)",
        "--iterations",
        "3",
        "--print-every",
        "1",
        "--out",
        str(tmp_path),
        "-q",
    )
    assert rc == 0, err
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["runs"][0]["init"] == "he_normal(mode=fan_out)"
    assert document["config"]["bias_init"] == "normal(std=0.1)"


@click.command()
@initializer_option(multiple=True)
@bias_init_option()
@activation_option()
def _probe(inits, bias_init, activation):
    click.echo(f"{inits}|{bias_init}|{activation}")


def test_spec_options_for_other_commands(capsys):
    _probe.main(
        ["--init", "normal(std=0.1)", "--init", "he", "--activation", "swish"],
        standalone_mode=False,
    )
    assert capsys.readouterr().out.strip() == "('normal(std=0.1)', 'he')|zeros|swish"
    for args, fragment in (
        (["--init", "nope"], "unknown initializer"),
        (["--bias-init", "lsuv"], "data-dependent"),
        (["--activation", "relu(1)"], "bad parameters"),
    ):
        with pytest.raises(click.BadParameter, match=fragment):
            _probe.main(args, standalone_mode=False)
