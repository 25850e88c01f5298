#!/usr/bin/env python3
"""Checks the ONNX importer against real torch.onnx.export files (docs/onnx.md, "Checking against PyTorch").

Builds a few dozen small MLPs in the forms the importer reads (nn.Sequential of Linear and activations, Flatten,
x.view / x.reshape flattens, input normalisation, BatchNorm1d, Dropout, weights as plain tensors or used as W.T,
GELU, SiLU, ELU, LeakyReLU(0.2), LogSoftmax) and in forms it rejects (Conv, PReLU, ReLU6, tanh-GELU, ELU alpha 0.5,
a hidden softmax, float64, two inputs or outputs, training-mode exports, modules exported as functions), exports
each at several opsets, with constant folding on and off, fixed and dynamic batch, initializers as inputs,
jit.script and jit.trace, imports it with `backprop import --onnx X --save Y.json`, and compares:

- accepted models: the imported parameters evaluated in float64 against the PyTorch module in float64 and float32,
  on random inputs and on the first 1,000 bundled MNIST digits (argmax), and `backprop predict` (our kernels) on a
  few digits;
- rejected models: exit code 1 and a message naming the operator.

Prints one line per case and a pass/fail count; exits with 1 if any case failed. Needs PyTorch (1.13 was used) and
numpy, and the CLI built in Release (`dotnet build -c Release`), or --cli PATH.

    python3 scripts/torch-onnx-check.py [--cli PATH] [--keep DIR] [--only SUBSTRING]
"""

import argparse
import copy
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CLI = os.path.join(ROOT, "src", "Backprop.Simd.Cli", "bin", "Release", "net10.0", "backprop")
OPSETS = [7, 9, 11, 13, 17]


def digits(count):
    path = os.path.join(ROOT, "data", "mnist-10k")
    with gzip.open(os.path.join(path, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)[:count]
    return (images / np.float32(255)).astype(np.float32)


# --- The imported model file, evaluated in float64 from its float32 parameters -------------------------------------

_erf = np.vectorize(math.erf)


def activate(name, z):
    if name.startswith("leaky-relu"):
        slope = float(np.float32(name.split(":")[1])) if ":" in name else float(np.float32(0.01))
        return np.where(z > 0, z, slope * z)
    if name in ("softmax", "log-softmax"):
        shifted = z - z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return np.exp(shifted - log_sum) if name == "softmax" else shifted - log_sum
    return {
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "relu": lambda: np.maximum(z, 0),
        "identity": lambda: z,
        "elu": lambda: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "gelu": lambda: z * 0.5 * (1 + _erf(z / math.sqrt(2))),
        "silu": lambda: z / (1 + np.exp(-z)),
    }[name]()


def forward_json(model, x):
    a = x.reshape(len(x), -1).astype(np.float64)
    activations = model.get("activations", ["sigmoid"] * (len(model["sizes"]) - 1))
    for w, b, f in zip(model["weights"], model["biases"], activations):
        w = np.array(w, dtype=np.float32).astype(np.float64)
        b = np.array(b, dtype=np.float32).astype(np.float64).reshape(-1)
        a = activate(f, a @ w.T + b)
    return a


# --- Models ----------------------------------------------------------------------------------------------------------

def seeded(seed, build):
    torch.manual_seed(seed)
    model = build()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):  # statistics as after training, so that folding them is tested
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


class Lambda(nn.Module):
    def __init__(self, forward, **modules):
        super().__init__()
        self.fn = forward
        for name, module in modules.items():
            setattr(self, name, module)

    def forward(self, x):
        return self.fn(self, x)


class ViewNorm(nn.Module):  # x.view(x.size(0), -1), then normalisation: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32), nn.Linear(32, 10)

    def forward(self, x):
        x = (x.view(x.size(0), -1) - 0.1307) / 0.3081
        return F.log_softmax(self.fc2(torch.tanh(self.fc1(x))), dim=1)


class ViewMinus1(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 24), nn.Linear(24, 10)

    def forward(self, x):
        return self.fc2(F.leaky_relu(self.fc1(x.view(-1, 28 * 28)), 0.2))


class ReshapeBuffers(nn.Module):  # per-feature normalisation held as buffers, x.reshape(len(x), -1)
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.rand(784) * 0.3)
        self.register_buffer("std", torch.rand(784) + 0.5)
        self.fc1, self.fc2 = nn.Linear(784, 20), nn.Linear(20, 10)

    def forward(self, x):
        x = (x.reshape(len(x), -1) - self.mean) / self.std * 2 + 1
        return self.fc2(torch.sigmoid(self.fc1(x)))


class HandLinear(nn.Module):  # x @ W.T + b and a bias-free Linear: Transpose of a weight without constant folding
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(32, 784) * 0.05)
        self.b = nn.Parameter(torch.randn(32) * 0.1)
        self.fc2 = nn.Linear(32, 10, bias=False)

    def forward(self, x):
        return self.fc2(torch.relu(x @ self.W.T + self.b))


class PlainTensors(nn.Module):  # weights that are not parameters: Constant nodes
    def __init__(self):
        super().__init__()
        self.W1, self.b1 = torch.randn(16, 784) * 0.05, torch.randn(16) * 0.1
        self.W2, self.b2 = torch.randn(10, 16) * 0.3, torch.randn(10) * 0.1

    def forward(self, x):
        return F.linear(torch.tanh(F.linear(x, self.W1, self.b1)), self.W2, self.b2)

    def _apply(self, fn):  # .double() for the reference converts these too
        self.W1, self.b1, self.W2, self.b2 = fn(self.W1), fn(self.b1), fn(self.W2), fn(self.b2)
        return super()._apply(fn)


class HandActivations(nn.Module):  # GELU and SiLU written out, in other association orders than nn.GELU's
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 24), nn.Linear(24, 16), nn.Linear(16, 10)

    def forward(self, x):
        z = self.fc1(x)
        x = z * 0.5 * (1 + torch.erf(z * 0.7071067811865476))
        z = self.fc2(x)
        x = z * torch.sigmoid(z)
        return self.fc3(x) * 2 - 1  # an affine map after the last layer folds into it


class ScaleAfterLayer(nn.Module):  # elementwise maps between a layer's product and its activation, and after it
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 20), nn.Linear(20, 10)

    def forward(self, x):
        x = torch.tanh(self.fc1(x) * 2 + 1)
        return F.softmax(self.fc2(x / 4 - 0.25), dim=1)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x, y):
        return self.fc(x + y)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        y = self.fc(x)
        return y, torch.relu(y)


def lin(*sizes_and_acts):
    layers, previous = [], None
    for item in sizes_and_acts:
        if isinstance(item, int):
            if previous is not None:
                layers.append(nn.Linear(previous, item))
            previous = item
        else:
            layers.append(item)
    return nn.Sequential(*layers)


def zero_biases(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    return model


# name, builder, input rank, expected: None to accept, else a substring the error must contain.
MODELS = [
    ("relu", lambda: lin(784, 64, nn.ReLU(), 10), 2, None),
    ("alias-biases", lambda: zero_biases(lin(784, 64, nn.ReLU(), 64, nn.ReLU(), 10)), 2, None),
    ("flatten-softmax", lambda: nn.Sequential(nn.Flatten(), *lin(784, 32, nn.Sigmoid(), 10, nn.Softmax(dim=1))), 4, None),
    ("view-norm", ViewNorm, 4, None),
    ("view-minus1", ViewMinus1, 4, None),
    ("reshape-buffers", ReshapeBuffers, 4, None),
    ("batchnorm-dropout", lambda: lin(784, 32, nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), 16, nn.BatchNorm1d(16), nn.Tanh(), 10), 2, None),
    ("dropout", lambda: lin(784, 32, nn.ReLU(), nn.Dropout(0.5), 10), 2, None),
    ("batchnorm-before", lambda: lin(784, 32, nn.ReLU(), nn.BatchNorm1d(32), 10), 2, None),
    ("hand-linear", HandLinear, 2, None),
    ("plain-tensors", PlainTensors, 2, None),
    ("elu-gelu-silu", lambda: lin(784, 32, nn.ELU(), 24, nn.GELU(), 16, nn.SiLU(), 10, nn.LogSoftmax(dim=1)), 2, None),
    ("leaky-0.2", lambda: lin(784, 32, nn.LeakyReLU(0.2), 10, nn.LeakyReLU(-0.5)), 2, None),
    ("hand-gelu-silu", HandActivations, 2, None),
    ("scale-after-layer", ScaleAfterLayer, 2, None),
    ("linear-linear", lambda: lin(784, 16, 10), 2, None),
    ("relu6", lambda: lin(784, 16, nn.ReLU6(), 10), 2, "'Clip' node"),
    ("prelu", lambda: lin(784, 16, nn.PReLU(), 10), 2, "'PRelu' node"),
    ("conv", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10)), 4, "'Conv' node"),
    ("gelu-tanh", lambda: lin(784, 16, nn.GELU(approximate="tanh"), 10), 2, "only GELU and SiLU read a value twice"),
    ("elu-0.5", lambda: lin(784, 16, nn.ELU(alpha=0.5), 10), 2, "(Elu): has alpha=0.5"),
    ("hidden-softmax", lambda: lin(784, 16, nn.Softmax(dim=1), 10), 2, "follows a Softmax"),
    ("hidden-log-softmax", lambda: lin(784, 16, nn.LogSoftmax(dim=1), 10), 2, "follows a LogSoftmax"),
    ("float64", lambda: lin(784, 16, nn.ReLU(), 10).double(), 2, "elem_type 11 (DOUBLE)"),
    ("two-inputs", TwoInputs, 2, "declares 2 inputs"),
    ("two-outputs", TwoOutputs, 2, "declares 2 outputs"),
]


def cases(only):
    for name, build, rank, expected in MODELS:
        if only and only not in name:
            continue
        for opset in OPSETS:
            for fold in (True, False):
                if expected is not None and not fold:
                    continue  # one export per opset is enough to see a rejection
                why = expected
                if "gelu" in name and "tanh" not in name and opset < 9:
                    why = "'Erf' node (of a GELU), which needs opset 9"
                yield dict(name=name, build=build, rank=rank, opset=opset, fold=fold, extra="", expected=why, kw={})
        if expected is not None:
            continue
        dynamic = {"input": {0: "N"}, "output": {0: "N"}}
        yield dict(name=name, build=build, rank=rank, opset=13, fold=True, extra="dynamic", expected=None, kw=dict(dynamic_axes=dynamic))
        yield dict(name=name, build=build, rank=rank, opset=13, fold=True, extra="as-inputs", expected=None, kw=dict(keep_initializers_as_inputs=True))
        training = None if "batchnorm" not in name and "dropout" not in name else "training-mode"
        yield dict(name=name, build=build, rank=rank, opset=13, fold=True, extra="training", expected=training,
                   kw=dict(training=torch.onnx.TrainingMode.TRAINING))
        yield dict(name=name, build=build, rank=rank, opset=17, fold=False, extra="training", expected=training,
                   kw=dict(training=torch.onnx.TrainingMode.TRAINING))
        yield dict(name=name, build=build, rank=rank, opset=13, fold=True, extra="jit.trace", expected=None, kw={}, wrap="trace")
        if name in ("relu", "flatten-softmax", "view-norm", "elu-gelu-silu"):
            yield dict(name=name, build=build, rank=rank, opset=13, fold=True, extra="jit.script", expected=None, kw=dict(dynamic_axes=dynamic), wrap="script")
    if not only or "functions" in only:
        yield dict(name="functions", build=lambda: lin(784, 16, nn.ReLU(), 10), rank=2, opset=15, fold=True, extra="", kw=dict(export_modules_as_functions=True),
                   expected="export_modules_as_functions")


# --- Running a case --------------------------------------------------------------------------------------------------

def export(case, model, path):
    batch = 2 if case["kw"].get("training") is not None else 1  # BatchNorm1d in training mode needs two samples
    shape = (batch, 784) if case["rank"] == 2 else (batch, 1, 28, 28)
    dtype = torch.float64 if case["name"] == "float64" else torch.float32
    example = torch.rand(*shape, dtype=dtype)
    args = (example, example) if case["name"] == "two-inputs" else (example,)
    names = dict(input_names=["input", "y"] if case["name"] == "two-inputs" else ["input"], output_names=["output", "relu"] if case["name"] == "two-outputs" else ["output"])
    wrap = case.get("wrap")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = torch.jit.trace(model, args) if wrap == "trace" else torch.jit.script(model) if wrap == "script" else model
        try:
            torch.onnx.export(exported, args, path, opset_version=case["opset"], do_constant_folding=case["fold"], **names, **case["kw"])
        except Exception as e:  # torch 1.13 writes the file before its checker rejects it (Erf at opset 7)
            if not os.path.exists(path):
                return f"export failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    if case["kw"].get("training") is not None:
        model.eval()  # exporting in training mode leaves the module in training mode
    return None


def run(cli, *args):
    result = subprocess.run([cli, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr.strip()


def check(case, cli, work, inputs, images):
    tag = f"{case['name']}-o{case['opset']}-{'fold' if case['fold'] else 'nofold'}{('-' + case['extra']) if case['extra'] else ''}"
    onnx_path, json_path = os.path.join(work, tag + ".onnx"), os.path.join(work, tag + ".json")
    model = seeded(zlib.crc32(case["name"].encode()), case["build"])
    problem = export(case, model, onnx_path)
    if problem:
        # PyTorch itself refuses some forms at some opsets (torch.erf below opset 9): nothing to import.
        return tag, None if "not implemented for opset" in problem else False, problem
    code, out, err = run(cli, "import", "--onnx", onnx_path, "--save", json_path)
    if case["expected"] is not None:
        ok = code == 1 and case["expected"] in err
        return tag, ok, ("rejected: " if ok else f"expected a rejection with '{case['expected']}', got exit {code}: ") + (err or out).split(": ", 3)[-1][:150]
    if code != 0:
        return tag, False, f"import failed: {err[:300]}"
    with open(json_path) as f:
        imported = json.load(f)
    shape = (-1, 784) if case["rank"] == 2 else (-1, 1, 28, 28)
    reference = copy.deepcopy(model).double()
    worst, scale, float32_error = 0.0, 0.0, 0.0
    for x in inputs:
        ours = forward_json(imported, x)
        with torch.no_grad():
            exact = reference(torch.from_numpy(x.astype(np.float64)).reshape(shape)).numpy()
            single = model(torch.from_numpy(x).reshape(shape)).double().numpy()
        worst = max(worst, float(np.abs(ours - exact).max()))
        scale = max(scale, float(np.abs(exact).max()))
        float32_error = max(float32_error, float(np.abs(single - exact).max()))
    with torch.no_grad():
        theirs = model(torch.from_numpy(images).reshape(shape)).numpy().argmax(axis=1)
    ours = forward_json(imported, images).argmax(axis=1)
    agree = int((ours == theirs).sum())
    within = worst <= 1e-5 * (1 + scale)
    predicted = predict(cli, json_path, model, shape)
    ok = within and agree >= len(images) - 1 and predicted.startswith("ok")
    detail = (f"max |ours - torch64| {worst:.1e} (torch32 {float32_error:.1e}, |y| {scale:.1f}); "
              f"argmax {agree}/{len(images)}; predict {predicted}")
    return tag, ok, detail


def predict(cli, json_path, model, shape, count=3):
    """`backprop predict` (our kernels) on the first digits: the printed outputs (4 decimals) against PyTorch's."""
    images = digits(count)
    with torch.no_grad():
        theirs = model(torch.from_numpy(images).reshape(shape)).double().numpy()
    for i in range(count):
        code, out, err = run(cli, "predict", "--model", json_path, "--index", str(i))
        if code != 0:
            return f"failed: {err.split(': ')[-1][:80]}"
        values = [float(line.split(":")[1].split()[0]) for line in out.splitlines()[1:] if ":" in line]
        if len(values) != theirs.shape[1] or max(abs(v - t) for v, t in zip(values, theirs[i])) > 1e-4 * (1 + np.abs(theirs[i]).max()) + 5e-5:
            return f"differs on digit {i}: {values[:3]}... vs {theirs[i][:3]}..."
    return "ok"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=DEFAULT_CLI, help="the backprop executable (default: the Release build)")
    parser.add_argument("--keep", help="write the models to this directory and keep them")
    parser.add_argument("--only", help="run the cases whose model name contains this")
    args = parser.parse_args()
    if not os.path.exists(args.cli):
        sys.exit(f"torch-onnx-check: {args.cli} does not exist; build it with `dotnet build -c Release`")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = digits(1000)
    inputs = [rng.uniform(0, 1, (64, 784)).astype(np.float32), rng.normal(0, 1, (64, 784)).astype(np.float32), images[:256]]
    work = args.keep or tempfile.mkdtemp(prefix="torch-onnx-check-")
    os.makedirs(work, exist_ok=True)
    print(f"torch {torch.__version__}, CLI {args.cli}, models in {work}")
    passed = failed = skipped = 0
    for case in cases(args.only):
        tag, ok, detail = check(case, args.cli, work, inputs, images)
        passed, failed, skipped = passed + (ok is True), failed + (ok is False), skipped + (ok is None)
        print(f"{'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}  {tag:48} {detail}", flush=True)
    print(f"\n{passed} passed, {failed} failed, {skipped} skipped (PyTorch cannot export them)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
