"""Bad input to initlab.torch and to `initlab diagnose --torch-model`: the library raises
ValueError/TypeError naming the value; the CLI prints one line and exits 2, writing
nothing; the model is left unchanged after every failure."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from badinput import assert_one_line_error, files_under, run_cli
from extras import require

torch = require("torch", "torch")
torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine
from torch import nn  # noqa: E402

from initlab.torch import diagnose, init_, signal_propagation  # noqa: E402


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16, 3)
    )


def snapshot(model: nn.Module) -> dict:
    return {key: value.clone() for key, value in model.state_dict().items()}


def assert_unchanged(model: nn.Module, before: dict) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), key


BAD_INIT_CALLS = {
    "no supported layer": (
        lambda m: init_(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)), "he_normal"),
        ValueError, "no layer initlab can initialize",
    ),
    "not a module": (lambda m: init_("model", "he_normal"), TypeError, "torch.nn.Module"),
    "unknown pattern": (
        lambda m: init_(m, "he_normal", layers=["0", "head.*"]), ValueError,
        "'head.*' matches none",
    ),
    "bad selection type": (lambda m: init_(m, "he_normal", layers=[3]), TypeError, "3"),
    "empty selection": (lambda m: init_(m, "he_normal", layers=[]), ValueError, "layers is empty"),
    "unknown initializer": (lambda m: init_(m, "he_normall"), ValueError, "he_normal"),
    "lsuv without data": (lambda m: init_(m, "lsuv"), ValueError, "pass a data batch"),
    "lsuv with data None": (
        lambda m: init_(m, "lsuv", data=None), ValueError, "pass a data batch",
    ),
    "lsuv, data of the wrong shape": (
        lambda m: init_(m, "lsuv", data=torch.randn(8, 1, 5, 5)), ValueError,
        "in layer '3' (Linear)",
    ),
    "lsuv, zero data": (
        lambda m: init_(nn.Sequential(nn.Linear(3, 2, bias=False)), "lsuv", data=np.zeros((4, 3))),
        ValueError, "output variance 0",
    ),
    "lsuv, non-finite data": (
        lambda m: init_(m, "lsuv", data=torch.full((4, 1, 4, 4), float("nan"))), ValueError,
        "non-finite",
    ),
    "data-dependent bias": (lambda m: init_(m, "he_normal", bias="lsuv"), ValueError, "lsuv"),
    "parametrized weight": (
        lambda m: init_(
            nn.Sequential(m, nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))), "he_normal"
        ),
        ValueError, "not a plain parameter",
    ),
    "bad generator": (lambda m: init_(m, "he_normal", generator="seed"), TypeError, "generator"),
    "negative seed": (lambda m: init_(m, "he_normal", generator=-1), ValueError, "-1"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_INIT_CALLS)
def test_init_refuses_bad_input_and_leaves_the_model_unchanged(case: str) -> None:
    call, error, words = BAD_INIT_CALLS[case]
    model = cnn()
    before = snapshot(model)
    with pytest.raises(error) as info:
        call(model)
    assert words in str(info.value)
    assert "\n" not in str(info.value)
    assert_unchanged(model, before)


def test_a_failure_at_the_last_layer_leaves_every_layer_unchanged(tmp_path, monkeypatch) -> None:
    (tmp_path / "failing_inits.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            def second_fails(rng, shape):
                if len(shape) == 2:
                    raise RuntimeError("boom")
                return np.ones(shape)
            def nan(rng, shape):
                return np.full(shape, np.nan)
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    model = cnn()
    before = snapshot(model)
    with pytest.raises(ValueError, match="raised RuntimeError: boom"):
        init_(model, "failing_inits:second_fails")
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match="non-finite"):
        init_(model, "failing_inits:nan")
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match="has no attribute"):
        init_(model, "failing_inits:missing")
    assert_unchanged(model, before)


BAD_DIAGNOSE_CALLS = {
    "no supported layer": (
        lambda m: diagnose(nn.Sequential(nn.Tanh()), torch.randn(4, 3)), ValueError,
        "no layer initlab can initialize or diagnose",
    ),
    "batch of the wrong shape": (
        lambda m: diagnose(m, torch.randn(4, 2, 4, 4)), ValueError, "in layer '0' (Conv2d)",
    ),
    "one example": (lambda m: diagnose(m, torch.randn(1, 1, 4, 4)), ValueError, "at least 2"),
    "text batch": (lambda m: diagnose(m, "pixels"), TypeError, "numeric"),
    "no batch": (lambda m: diagnose(m, None), TypeError, "batch must be a tensor"),
    "a loss that is not callable": (
        lambda m: diagnose(m, torch.randn(4, 1, 4, 4), torch.tensor([0, 1, 2, 1]), loss=5),
        TypeError, "loss must be callable",
    ),
    "unknown pattern": (
        lambda m: diagnose(m, torch.randn(4, 1, 4, 4), layers="conv*"), ValueError, "'conv*'",
    ),
    "target the loss refuses": (
        lambda m: diagnose(m, torch.randn(4, 1, 4, 4), torch.tensor([0, 1, 2, 7])), ValueError,
        "the loss failed",
    ),
    "bad learning rate": (
        lambda m: diagnose(m, torch.randn(4, 1, 4, 4), learning_rate=-1.0), ValueError, "-1.0",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_DIAGNOSE_CALLS)
def test_diagnose_refuses_bad_input(case: str) -> None:
    call, error, words = BAD_DIAGNOSE_CALLS[case]
    model = cnn()
    before = snapshot(model)
    with pytest.raises(error) as info:
        call(model)
    assert words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    assert_unchanged(model, before)
    assert all(p.grad is None for p in model.parameters())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_signal_propagation_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="no residual block found"):
        signal_propagation(cnn(), (1, 4, 4))
    with pytest.raises(ValueError, match="input_shape"):
        signal_propagation(cnn(), (1, 0, 4), blocks="0")
    with pytest.raises(ValueError, match="'nope' matches none"):
        signal_propagation(cnn(), (1, 4, 4), blocks="nope")
    with pytest.raises(ValueError, match=r"in layer '0' \(Conv2d\)"):
        signal_propagation(cnn(), (2, 4, 4), blocks="0")


# --- the command line ---------------------------------------------------------------------

MODELS = """
import torch
from torch import nn

def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 16, 3))

def mlp():
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))

def no_layers():
    return nn.Sequential(nn.ReLU())

def not_a_model():
    return 42

def raises():
    raise RuntimeError("factory broke")

class HugeInput(nn.Module):  # nn.Linear(10**12, 1) itself could not be allocated
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(1, 1)
        self.first.in_features = 10**12

    def forward(self, x):
        return self.first(x)

def huge_input():
    return HugeInput()
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch) -> Path:
    name = f"user_models_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.chdir(tmp_path)
    return tmp_path / name


def test_cli_diagnoses_a_torch_model_and_writes_its_files(capsys, models: Path) -> None:
    out = models.parent / "out"
    code, stdout, _ = run_cli(
        capsys, "diagnose", "--torch-model", f"{models.name}:cnn", "--input-shape", "1,4,4",
        "--init", "he_normal", "--init", "lsuv", "--bias-init", "constant(value=0.5)",
        "--out", str(out), "--json", str(out.parent / "copy.json"),
    )  # fmt: skip
    assert code == 0, stdout
    assert (out.parent / "copy.json").read_bytes() == (out / "diagnostics.json").read_bytes()
    assert "he_normal at initialization" in stdout and "lsuv at initialization" in stdout
    files = ["diagnostics.json", "layer_std.png", "report.html"]
    assert [p.name for p in files_under(out)] == files
    import json

    document = json.loads((out / "diagnostics.json").read_text())
    lsuv = document["inits"][1]
    # lsuv rescales each layer on these very inputs: one division makes Var(z) = 1 exactly
    assert [row["z_std"] for row in lsuv["layers"]] == [pytest.approx(1.0, abs=1e-5)] * 2
    assert [row["bias"] for row in lsuv["initialized"]] == ["constant(value=0.5)"] * 2
    code, stdout, _ = run_cli(
        capsys, "diagnose", "--torch-model", f"{models.name}:mlp", "-q", "--out", str(out)
    )
    assert code == 0 and stdout == ""
    document = json.loads((out / "diagnostics.json").read_text())
    assert document["config"]["input_shape"] == [5] and document["inits"][0]["init"] == (
        "torch default"
    )


CLI_BAD = {
    "module missing": (["--torch-model", "no_such_module_xyz:f"], ["no_such_module_xyz"]),
    "no colon": (["--torch-model", "{m}"], ["package.module:factory"]),
    "attribute missing": (["--torch-model", "{m}:nope"], ["'nope'"]),
    "factory raises": (["--torch-model", "{m}:raises"], ["factory broke"]),
    "not a model": (["--torch-model", "{m}:not_a_model"], ["int", "nn.Module"]),
    "no supported layer": (["--torch-model", "{m}:no_layers"], ["no layer initlab"]),
    "wrong input shape": (
        ["--torch-model", "{m}:cnn", "--input-shape", "1,5,5"], ["in layer '3' (Linear)"],
    ),
    "bad input shape": (["--torch-model", "{m}:cnn", "--input-shape", "1,x"], ["--input-shape"]),
    "conv model without shape": (["--torch-model", "{m}:cnn"], ["--input-shape is needed"]),
    "lsuv on wrong shape": (
        ["--torch-model", "{m}:mlp", "--input-shape", "4", "--init", "lsuv"],
        ["in layer '0' (Linear)"],
    ),
    "own-network option": (["--torch-model", "{m}:mlp", "--hidden", "4"], ["--hidden"]),
    "input shape alone": (["--input-shape", "1,4,4"], ["--torch-model"]),
    "input shape too large for memory": (
        ["--torch-model", "{m}:mlp", "--input-shape", "1000000,1000000"],
        ["--input-shape", "1000000,1000000", "memory"],
    ),
    "inferred input shape too large for memory": (
        ["--torch-model", "{m}:huge_input"], ["input shape", "memory"],
    ),
    "unknown init": (["--torch-model", "{m}:mlp", "--init", "he_nromal"], ["he_nromal"]),
}  # fmt: skip


@pytest.mark.parametrize("case", CLI_BAD)
def test_cli_bad_input_is_one_line_and_writes_nothing(capsys, models: Path, case: str) -> None:
    args, words = CLI_BAD[case]
    out = models.parent / "out"
    args = [a.replace("{m}", models.name) for a in args]
    code, _, stderr = run_cli(capsys, "diagnose", *args, "--out", str(out))
    assert_one_line_error(code, stderr, *words)
    assert files_under(out) == []


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env,
        timeout=300,
    )  # fmt: skip


def test_torch_missing_names_the_extra(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules['torch'] = None\n"
    library = run_python(
        blocked + "try:\n    import initlab.torch\nexcept ImportError as e:\n    print(e)\n",
        tmp_path,
    )
    assert "pip install 'initlab[torch]'" in library.stdout, library
    cli = run_python(
        blocked + "from initlab.cli import main\n"
        "sys.exit(main(['diagnose', '--torch-model', 'm:f', '--out', 'out']))\n",
        tmp_path,
    )
    assert_one_line_error(cli.returncode, cli.stderr, "initlab[torch]", "--torch-model")
    assert files_under(tmp_path / "out") == []


def test_import_initlab_and_initlab_course_do_not_import_torch(tmp_path: Path) -> None:
    result = run_python(
        "import sys, initlab\n"
        "assert 'torch' not in sys.modules, 'import initlab imported torch'\n"
        "from initlab.cli import main\n"
        "code = main(['course', '--iterations', '3', '--engine', 'reference', '-q', "
        "'--out', 'out'])\n"
        "print(code, 'torch' in sys.modules)\n",
        tmp_path,
    )
    assert result.stdout.split() == ["0", "False"], result
