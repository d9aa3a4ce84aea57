#!/usr/bin/env python3
"""Generate the safetensors interop fixtures for Ignis's checkpoint reader/writer (src/serialize.ts).

Regenerate with:

    python3 scripts/gen_safetensors_fixture.py

Needs Python 3 and PyTorch (a CPU build is enough). The `safetensors` package is NOT needed: the
format is written by hand here with struct and json, exactly as the reference implementation lays
it out (and, when `safetensors` happens to be installed, the files are checked against it):

    8 bytes   little-endian uint64 N, the header length
    N bytes   JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}, ...}
              compact separators, padded with spaces so that 8 + N is a multiple of 8
    rest      the tensors' raw little-endian bytes, back to back; offsets relative to the data start

Tensors are ordered like the reference implementation: by dtype (I64, F64, F32, I32, BOOL, i.e. its
dtype enum in reverse), then by name. The header lists them in that order, after __metadata__.

Writes (committed; the TypeScript tests only read them and never need Python):
  test/fixtures/torch_tensors.safetensors  every dtype Ignis has, 0-d / empty / odd shapes, plus an
                                           input and the expected output of the model below
  test/fixtures/torch_model.safetensors    state_dict of a small torch.nn.Sequential CNN
                                           (Conv2d(1,2,3) ReLU MaxPool2d(2) Flatten Linear(8,3)),
                                           metadata {"format": "pt", ...}
Deterministic: torch.manual_seed(0).
"""
import json
import os
import struct

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "test", "fixtures")

DTYPES = {
    torch.int64: ("I64", 4),
    torch.float64: ("F64", 3),
    torch.float32: ("F32", 2),
    torch.int32: ("I32", 1),
    torch.bool: ("BOOL", 0),
}


def to_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def serialize(tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0].encode("utf-8")))
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    at = 0
    for name, t in items:
        b = to_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        at += len(b)
        chunks.append(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def write(name, tensors, metadata=None):
    data = serialize(tensors, metadata)
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    try:  # cross-check with the reference implementation when it is installed
        from safetensors.torch import load as st_load, save as st_save

        back = st_load(data)
        assert back.keys() == tensors.keys()
        for k, v in tensors.items():
            assert torch.equal(back[k], v), k
        assert st_save(tensors, metadata=metadata) == data, "layout differs from safetensors"
        print("  checked against the safetensors package")
    except ImportError:
        pass
    print(f"wrote {path} ({len(data)} bytes, {len(tensors)} tensors)")


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    )
    x = torch.randn(2, 1, 6, 6)
    with torch.no_grad():
        y = model(x)
    tensors = {
        "f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5,
        "f64": torch.tensor([0.1, -2.5, 1e300, -0.0, float("inf")], dtype=torch.float64),
        "i32": torch.tensor([[-(2**31), -1, 0], [1, 7, 2**31 - 1]], dtype=torch.int32),
        "i64": torch.tensor([-(2**62), -3, 0, 2**53, 2**62], dtype=torch.int64),
        "mask": torch.tensor([[True, False, True], [False, False, True]]),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "odd.bool": torch.tensor([True]),  # a dotted name, like state_dict keys
        "model_input": x,
        "model_output": y,
    }
    write("torch_tensors.safetensors", tensors, {"generator": f"torch {torch.__version__}", "note": "ignis interop fixture"})
    write("torch_model.safetensors", dict(model.state_dict()), {"format": "pt"})


if __name__ == "__main__":
    main()
