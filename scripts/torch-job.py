#!/usr/bin/env python3
"""The whole `backprop train` job in PyTorch, for a whole-process comparison (docs/optimizing-backprop.md, "Ninth
session: the whole job").

What `backprop train --data DIR --validation 10000` does, written as a PyTorch user would: read the four gzipped IDX
files (gzip + numpy, pixels / 255 as float32), hold out the last 10,000 training images, build [784,30,10] with
sigmoid layers and N(0, 1) initial weights and biases (network.py's), and train 30 epochs of mini-batch SGD with the
quadratic cost 1/2 sum ||a - y||^2 over each mini-batch of 10 and optim.SGD(lr = eta / m), eta 3 (network.py's step),
a fresh randperm every epoch; after every epoch count the validation images classified right, and at the end the test
images. Prints the seed's per-epoch line and one line of phase times, like `backprop train --timing`.

    OMP_NUM_THREADS=T OPENBLAS_NUM_THREADS=T OMP_WAIT_POLICY=PASSIVE python3 scripts/torch-job.py DIR T [EPOCHS]

Debian's python3-torch calls OpenBLAS, which torch.set_num_threads does not reach: set the two variables as well. The
timing line names the OpenBLAS kernels that ran; an OPENBLAS_CORETYPE in the environment overrides OpenBLAS's own choice
for the CPU (`env -u OPENBLAS_CORETYPE ...` lets it choose).
"""
import gzip
import os
import sys
import time

start = time.perf_counter()
import numpy as np  # noqa: E402  (imports are part of the start-up being timed)
import torch  # noqa: E402
from torch import nn  # noqa: E402

import openblas_core  # noqa: E402


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    directory, threads = sys.argv[1], int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    sizes, m, eta, validation = [784, 30, 10], 10, 3.0, 10000
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    imported = time.perf_counter()

    def images(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).reshape(-1, 784).astype(np.float32) / 255)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).astype(np.int64))

    x, t = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    test_x, test_t = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    n = x.shape[0] - validation
    x, t, valid_x, valid_t = x[:n], t[:n], x[n:], t[n:]
    y = nn.functional.one_hot(t, 10).to(torch.float32)
    loaded = time.perf_counter()

    layers = []
    for l in range(1, len(sizes)):
        linear = nn.Linear(sizes[l - 1], sizes[l])
        with torch.no_grad():
            linear.weight.normal_()
            linear.bias.normal_()
        layers += [linear, nn.Sigmoid()]
    model = nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=eta / m)

    def correct(inputs, targets):
        with torch.inference_mode():
            return int((model(inputs).argmax(1) == targets).sum())

    training = evaluating = 0.0
    for e in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n)
        for k in range(0, n, m):
            index = order[k:k + m]
            optimizer.zero_grad(set_to_none=True)
            loss = 0.5 * (model(x[index]) - y[index]).pow(2).sum()
            loss.backward()
            optimizer.step()
        t1 = time.perf_counter()
        right = correct(valid_x, valid_t)
        t2 = time.perf_counter()
        training, evaluating = training + t1 - t0, evaluating + t2 - t1
        print(f"Epoch {e}: {right} / {validation}  ({t1 - t0:.2f} s, {n / (t1 - t0):,.0f} samples/s)", flush=True)

    t3 = time.perf_counter()
    right = correct(test_x, test_t)
    end = time.perf_counter()
    print(f"Test: {right} / {test_x.shape[0]}")
    print(f"Timing: start-up and imports {imported - start:.3f} s, loading {loaded - imported:.3f} s, training {training:.3f} s, "
          f"validation {evaluating:.3f} s ({epochs} passes), test {end - t3:.3f} s; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{openblas_core.describe()}")


if __name__ == "__main__":
    main()
