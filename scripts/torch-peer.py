#!/usr/bin/env python3
"""The PyTorch peer of the benchmark harness (docs/optimizing-backprop.md, "Sixth session").

Launched by `dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks.Onnx -- --peers`, which writes a
directory with manifest.json, our Network's initial parameters (w1.f32, b1.f32, ...: little-endian float32, row-major
[n_l, n_{l-1}] weights, PyTorch's Linear layout) and the data (train-x.f32, train-y.f32, infer-x.f32). The same
network, nn.Sequential(Linear, Sigmoid, ...), trained as users train it: quadratic cost 1/2 sum ||a - y||^2 over the
mini-batch, autograd, optim.SGD with lr = eta / m (network.py's step), mini-batches gathered with a fresh randperm
each epoch. Thread counts are the harness's: it runs this script once per count with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set (Debian's torch calls OpenBLAS, which torch.set_num_threads does not reach), and with
OMP_WAIT_POLICY=PASSIVE, so that OpenMP's spinning threads leave the cores to OpenBLAS's.

    python3 scripts/torch-peer.py DIR THREADS [--check]
    python3 scripts/torch-peer.py --about

--about prints torch's version and the OpenBLAS this process loaded, with its kernels (openblas_core.py). The harness
runs the script without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so that OpenBLAS reads the CPU itself, unless it is
given --torch-coretype NAME.

--check first trains copies in float32 and float64 on the first check samples in order (no shuffle, one thread)
and writes their parameters to DIR/check32-*.f32 and DIR/check64-*.f64 for the harness to compare with ours.
Prints one JSON line: medians of training samples/s, single-sample latency (us) and batch inference samples/s.
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

import openblas_core


def load(directory, name, shape, dtype=np.float32):
    return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype=dtype).reshape(shape))


def build(directory, sizes, dtype):
    layers = []
    for l in range(1, len(sizes)):
        linear = nn.Linear(sizes[l - 1], sizes[l])
        with torch.no_grad():
            linear.weight.copy_(load(directory, f"w{l}.f32", (sizes[l], sizes[l - 1])))
            linear.bias.copy_(load(directory, f"b{l}.f32", (sizes[l],)))
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers).to(dtype)


def step(model, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)
    loss = 0.5 * (model(x) - y).pow(2).sum()
    loss.backward()
    optimizer.step()


def epoch(model, optimizer, x, y, m, generator):
    order = torch.randperm(x.shape[0], generator=generator)
    for k in range(0, x.shape[0], m):
        index = order[k:k + m]
        step(model, optimizer, x[index], y[index])


def rounds(body, minimum, seconds, maximum):
    """Times body() at least `minimum` times and until `seconds` have passed (at most `maximum`); the sorted times."""
    times, start = [], time.perf_counter()
    while len(times) < minimum or (time.perf_counter() - start < seconds and len(times) < maximum):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return sorted(times)


def median(sorted_values):
    return sorted_values[len(sorted_values) // 2]


def check(directory, manifest, x, y):
    sizes, m, eta, count = manifest["sizes"], manifest["miniBatch"], manifest["eta"], manifest["checkSamples"]
    for dtype, prefix, suffix, numpy_type in ((torch.float32, "check32", "f32", np.float32), (torch.float64, "check64", "f64", np.float64)):
        model = build(directory, sizes, dtype)
        optimizer = torch.optim.SGD(model.parameters(), lr=eta / m)
        xs, ys = x[:count].to(dtype), y[:count].to(dtype)
        for k in range(0, count, m):
            step(model, optimizer, xs[k:k + m], ys[k:k + m])
        linears = [layer for layer in model if isinstance(layer, nn.Linear)]
        for l, linear in enumerate(linears, start=1):
            linear.weight.detach().numpy().astype(numpy_type).tofile(os.path.join(directory, f"{prefix}-w{l}.{suffix}"))
            linear.bias.detach().numpy().astype(numpy_type).tofile(os.path.join(directory, f"{prefix}-b{l}.{suffix}"))


def main():
    if sys.argv[1:] == ["--about"]:
        print(json.dumps({"torch": torch.__version__, "blas": openblas_core.describe()}))
        return
    if len(sys.argv) < 3:
        sys.exit("usage: torch-peer.py DIR THREADS [--check] | torch-peer.py --about")
    directory, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    sizes, m, eta = manifest["sizes"], manifest["miniBatch"], manifest["eta"]
    seconds = manifest["seconds"]
    x = load(directory, "train-x.f32", (manifest["trainSamples"], sizes[0]))
    y = load(directory, "train-y.f32", (manifest["trainSamples"], sizes[-1]))
    batch = load(directory, "infer-x.f32", (manifest["inferenceSamples"], sizes[0]))
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if "--check" in sys.argv:
        check(directory, manifest, x, y)

    model = build(directory, sizes, torch.float32)
    optimizer = torch.optim.SGD(model.parameters(), lr=eta / m)
    generator = torch.Generator().manual_seed(99)
    train = lambda: epoch(model, optimizer, x, y, m, generator)
    train()  # warm-up: allocator, autograd graph, BLAS buffers
    times = rounds(train, manifest["minRepeats"], seconds, 30)
    result["trainSamplesPerSecond"] = x.shape[0] / median(times)
    result["trainRounds"] = len(times)

    model = build(directory, sizes, torch.float32).eval()
    with torch.inference_mode():
        if threads == 1:
            sample = batch[:1].clone()
            for _ in range(200):
                model(sample)
            calls = []
            start = time.perf_counter()
            while len(calls) < 200 or (time.perf_counter() - start < seconds and len(calls) < manifest["latencyCalls"]):
                t0 = time.perf_counter_ns()
                model(sample)
                calls.append(time.perf_counter_ns() - t0)
            calls.sort()
            result["latencyMicroseconds"] = median(calls) / 1e3
            result["latencyCalls"] = len(calls)
        model(batch)
        times = rounds(lambda: model(batch), manifest["minRepeats"], seconds, 30)
        result["inferenceSamplesPerSecond"] = batch.shape[0] / median(times)
        result["inferenceRounds"] = len(times)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
