"""Which OpenBLAS kernels the PyTorch scripts run on, shared by torch-peer.py and torch-job.py.

Debian's python3-torch multiplies matrices through OpenBLAS, which picks its kernels for the CPU when it loads, unless
OPENBLAS_CORETYPE names others. An environment that sets it to an older core (Haswell's 256-bit kernels on a CPU with
AVX-512, say) halves PyTorch's matrix products: docs/optimizing-backprop.md, "Nineteenth session". describe() names
the OpenBLAS this process loaded and its kernels, so that every PyTorch number says what it ran on.
"""
import ctypes
import os


def describe():
    """'OpenBLAS 0.3.21 ... Cooperlake ...' for the first OpenBLAS this process loaded (call after importing torch)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "blas" in line and ".so" in line})
    except OSError:
        return "an unknown BLAS"
    for path in paths:
        try:
            config = ctypes.CDLL(path).openblas_get_config
        except (OSError, AttributeError):
            continue
        config.restype = ctypes.c_char_p
        forced = os.environ.get("OPENBLAS_CORETYPE")
        return config().decode() + (f", OPENBLAS_CORETYPE={forced}" if forced else "")
    return "no OpenBLAS (" + (", ".join(os.path.basename(p) for p in paths) or "no BLAS library loaded") + ")"
