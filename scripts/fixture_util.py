"""The JSON fixture format shared by scripts/gen_*.py and read by test/util/fixtures.ts.

    TENSOR = { "shape": [...], "dtype": "float32"|"float64"|"int32"|"int64"|"bool",
               "data": [flat row-major values] }

Floats are written at full precision (the Python repr of the value; a float32 is the exact
float32 number widened to double); non-finite floats are the strings "nan", "inf", "-inf", so
the files are strict JSON. Booleans are true / false.
"""

import json
import math
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_DIR = os.path.join(ROOT, "test", "fixtures")

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bool: "bool",
}


def generator():
    """The "generator" field of every fixture file: the torch that wrote it."""
    return "torch " + torch.__version__


def enc_float(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(v)


def enc(t, max_elems=None):
    """A tensor (or None) as a fixture TENSOR; max_elems keeps fixture files small."""
    if t is None:
        return None
    t = t.detach()
    if t.dtype not in DTYPE_NAMES:
        raise ValueError("unsupported dtype %s" % t.dtype)
    assert max_elems is None or t.numel() <= max_elems, "tensor too large: %s" % (list(t.shape),)
    flat = t.contiguous().reshape(-1).tolist()
    if t.dtype.is_floating_point:
        data = [enc_float(v) for v in flat]
    elif t.dtype == torch.bool:
        data = [bool(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype], "data": data}


def write_json(path, doc, compact=True):
    """Writes doc as strict JSON (no bare NaN / Infinity) plus a newline; returns its length."""
    text = json.dumps(doc, allow_nan=False, separators=(",", ":") if compact else None)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text + "\n")
    return len(text)
