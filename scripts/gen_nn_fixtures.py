#!/usr/bin/env python3
"""Generate PyTorch-parity fixtures for Ignis's CNN ops (conv, pooling, normalization, pad,
interpolate).

Regenerate with:

    python3 scripts/gen_nn_fixtures.py

Needs Python 3 and PyTorch (a CPU build is enough). Writes test/fixtures/nn.json, which is
committed; the TypeScript tests (test/nn/*.test.ts) only read it and never need Python.
Deterministic: torch.manual_seed(0) and a fixed case order.

Same JSON conventions as scripts/gen_fixtures.py:

    { "generator": "torch <version>", "cases": [ CASE, ... ] }

    CASE = {
      "name":        unique case name (ends in _f32 or _f64: every case exists in both dtypes),
      "op":          Ignis functional name: conv2d, conv1d, convTranspose2d, maxPool2d, avgPool2d,
                     adaptiveAvgPool2d, adaptiveMaxPool2d, batchNorm, layerNorm, groupNorm, pad,
                     interpolate
      "inputs":      [TENSOR | null, ...]   positional tensor arguments in Ignis's order
                     (conv: x, weight, bias; batchNorm: x, runningMean, runningVar, weight, bias;
                      layerNorm / groupNorm: x, weight, bias); null = argument omitted
      "attrs":       {...}                  the options object / scalar arguments, camelCase keys
      "output":      TENSOR                 single output, or
      "outputs":     [TENSOR, ...]          [output, indices] (returnIndices)
      "gradOutput":  TENSOR                 upstream gradient of the (first) output
      "grads":       [TENSOR | null, ...]   d(sum(output * gradOutput)) / d(input_i); null for
                                            non-differentiable inputs (running stats)
      "runningAfter": [TENSOR, TENSOR]      batchNorm in training: running mean / var after the call
    }

    TENSOR = { "shape": [...], "dtype": "float32"|"float64"|"int64", "data": [row-major values] }

Non-finite floats are the strings "nan", "inf", "-inf". Tensors have at most 400 elements.
"""

import os

import torch
import torch.nn.functional as F

from fixture_util import FIXTURE_DIR, generator, write_json, enc as encode

torch.manual_seed(0)

OUT = os.path.join(FIXTURE_DIR, "nn.json")
MAX_ELEMS = 400


def enc(t):
    return encode(t, MAX_ELEMS)


cases = []
names = set()


def distinct(*shape):
    """Values without ties (a shuffled grid plus jitter), so max pooling picks are unambiguous."""
    n = 1
    for s in shape:
        n *= s
    v = (torch.randperm(n, dtype=torch.float64) - n / 2) * 0.1 + 0.01 * torch.rand(n, dtype=torch.float64)
    return v.reshape(shape)


def rnd(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def add(name, op, inputs, attrs, fn, diff=None, multi=False, running=None):
    """inputs: float64 tensors (or None); fn(*inputs) -> tensor or (tensor, indices).
    diff: which inputs are differentiable (default: all tensors). running: indices of inputs
    updated in place (recorded as runningAfter)."""
    for dt, suffix in ((torch.float32, "_f32"), (torch.float64, "_f64")):
        full = name + suffix
        assert full not in names, full
        names.add(full)
        ins = [None if t is None else t.detach().clone().to(dt) for t in inputs]
        d = diff if diff is not None else [t is not None for t in ins]
        for t, di in zip(ins, d):
            if t is not None and di:
                t.requires_grad_(True)
        snapshot = [None if t is None else t.detach().clone() for t in ins]
        out = fn(*ins)
        outs = list(out) if multi else [out]
        y = outs[0]
        g = torch.randn(y.shape, dtype=torch.float64).to(dt)
        wrt = [t for t, di in zip(ins, d) if t is not None and di]
        gr = torch.autograd.grad(y, wrt, g, allow_unused=True) if wrt else []
        grads, k = [], 0
        for t, di in zip(ins, d):
            if t is not None and di:
                gg = gr[k]
                k += 1
                grads.append(enc(gg if gg is not None else torch.zeros_like(t)))
            else:
                grads.append(None)
        case = {
            "name": full,
            "op": op,
            "inputs": [enc(t) for t in snapshot],
            "attrs": attrs,
            "gradOutput": enc(g),
            "grads": grads,
        }
        if multi:
            case["outputs"] = [enc(o) for o in outs]
        else:
            case["output"] = enc(y)
        if running:
            case["runningAfter"] = [enc(ins[i]) for i in running]
        cases.append(case)


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else v


# ---------------------------------------------------------------------------------------- conv2d
def conv2d_case(name, N, C, H, W, O, kh, kw, bias=True, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    x = rnd(N, C, H, W)
    w = rnd(O, C // groups, kh, kw) * 0.5
    b = rnd(O) if bias else None
    attrs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups, "paddingMode": padding_mode}

    def fn(x, w, b):
        if padding_mode == "zeros":
            return F.conv2d(x, w, b, stride=pair(stride), padding=pair(padding), dilation=pair(dilation), groups=groups)
        conv = torch.nn.Conv2d(C, O, (kh, kw), stride=pair(stride), padding=pair(padding), dilation=pair(dilation), groups=groups,
                               bias=b is not None, padding_mode=padding_mode)
        return conv._conv_forward(x, w, b)

    add(name, "conv2d", [x, w, b], attrs, fn)


conv2d_case("conv2d_basic", 2, 3, 5, 5, 4, 3, 3)
conv2d_case("conv2d_nobias", 2, 3, 5, 5, 4, 3, 3, bias=False)
conv2d_case("conv2d_stride_pad", 2, 3, 6, 7, 4, 3, 3, stride=2, padding=1)
conv2d_case("conv2d_asym", 1, 2, 7, 6, 3, 3, 2, stride=[2, 1], padding=[1, 0], dilation=[1, 2])
conv2d_case("conv2d_dilation", 1, 2, 7, 7, 2, 3, 3, dilation=2, padding=2)
conv2d_case("conv2d_groups", 2, 4, 5, 5, 6, 3, 3, groups=2, padding=1)
conv2d_case("conv2d_depthwise", 2, 3, 6, 6, 3, 3, 3, groups=3, padding=1)
conv2d_case("conv2d_depthwise_mult", 1, 3, 5, 5, 6, 3, 3, groups=3, stride=2, padding=1)
conv2d_case("conv2d_1x1", 2, 4, 4, 4, 3, 1, 1)
conv2d_case("conv2d_same_odd", 1, 2, 5, 6, 3, 3, 3, padding="same")
conv2d_case("conv2d_same_even", 1, 2, 5, 6, 3, 4, 2, padding="same")
conv2d_case("conv2d_same_dil", 1, 2, 6, 6, 2, 3, 3, padding="same", dilation=2)
conv2d_case("conv2d_valid", 1, 2, 5, 6, 3, 3, 3, padding="valid")
conv2d_case("conv2d_reflect", 1, 2, 5, 5, 3, 3, 3, padding=1, padding_mode="reflect")
conv2d_case("conv2d_replicate", 1, 2, 5, 5, 3, 3, 3, padding=[2, 1], padding_mode="replicate")
conv2d_case("conv2d_circular", 1, 2, 5, 5, 2, 3, 3, padding=1, padding_mode="circular")
conv2d_case("conv2d_stride_floor", 1, 2, 6, 6, 2, 2, 2, stride=3)


# ---------------------------------------------------------------------------------------- conv1d
def conv1d_case(name, N, C, L, O, k, bias=True, stride=1, padding=0, dilation=1, groups=1):
    x = rnd(N, C, L)
    w = rnd(O, C // groups, k) * 0.5
    b = rnd(O) if bias else None
    attrs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    add(name, "conv1d", [x, w, b], attrs,
        lambda x, w, b: F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups))


conv1d_case("conv1d_basic", 2, 3, 8, 4, 3)
conv1d_case("conv1d_stride_pad", 2, 2, 9, 4, 3, stride=2, padding=1, groups=2)
conv1d_case("conv1d_same", 1, 2, 7, 3, 4, padding="same", dilation=2, bias=False)


# ------------------------------------------------------------------------------ convTranspose2d
def convt_case(name, N, C, H, W, O, kh, kw, bias=True, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    x = rnd(N, C, H, W)
    w = rnd(C, O // groups, kh, kw) * 0.5
    b = rnd(O) if bias else None
    attrs = {"stride": stride, "padding": padding, "outputPadding": output_padding, "groups": groups, "dilation": dilation}
    add(name, "convTranspose2d", [x, w, b], attrs,
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=pair(stride), padding=pair(padding), output_padding=pair(output_padding),
                                           groups=groups, dilation=pair(dilation)))


convt_case("convt_basic", 2, 3, 4, 4, 2, 3, 3)
convt_case("convt_stride", 1, 2, 3, 4, 3, 3, 3, stride=2, padding=1, output_padding=1)
convt_case("convt_groups", 1, 4, 3, 3, 4, 2, 3, stride=[2, 1], groups=2, bias=False)
convt_case("convt_dilation", 1, 2, 3, 3, 2, 3, 2, dilation=2, padding=1)


# ------------------------------------------------------------------------------------- pooling
def maxpool_case(name, shape, k, stride=None, padding=0, dilation=1, ceil=False, ret=False):
    x = distinct(*shape)
    attrs = {"kernelSize": k, "stride": stride, "padding": padding, "dilation": dilation, "ceilMode": ceil, "returnIndices": ret}
    add(name, "maxPool2d", [x], attrs,
        lambda x: F.max_pool2d(x, pair(k), pair(stride) if stride is not None else None, pair(padding), pair(dilation), ceil_mode=ceil,
                               return_indices=ret), multi=ret)


maxpool_case("maxpool_basic", (2, 3, 6, 6), 2)
maxpool_case("maxpool_k3s2p1", (2, 2, 7, 7), 3, stride=2, padding=1)
maxpool_case("maxpool_ceil", (1, 2, 7, 6), 3, stride=2, ceil=True)
maxpool_case("maxpool_ceil_pad", (1, 2, 6, 6), 3, stride=2, padding=1, ceil=True)
maxpool_case("maxpool_dilation", (1, 2, 7, 7), 2, stride=1, dilation=2)
maxpool_case("maxpool_rect", (1, 2, 6, 8), [2, 3], stride=[2, 1], padding=[1, 1])
maxpool_case("maxpool_indices", (2, 2, 5, 5), 2, stride=2, ret=True)
maxpool_case("maxpool_indices_pad", (1, 2, 5, 6), 3, stride=2, padding=1, ceil=True, ret=True)


def avgpool_case(name, shape, k, stride=None, padding=0, ceil=False, include=True, divisor=None):
    x = rnd(*shape)
    attrs = {"kernelSize": k, "stride": stride, "padding": padding, "ceilMode": ceil, "countIncludePad": include, "divisorOverride": divisor}
    add(name, "avgPool2d", [x], attrs,
        lambda x: F.avg_pool2d(x, pair(k), pair(stride) if stride is not None else None, pair(padding), ceil_mode=ceil,
                               count_include_pad=include, divisor_override=divisor))


avgpool_case("avgpool_basic", (2, 3, 6, 6), 2)
avgpool_case("avgpool_pad_include", (1, 2, 5, 5), 3, stride=2, padding=1)
avgpool_case("avgpool_pad_exclude", (1, 2, 5, 5), 3, stride=2, padding=1, include=False)
avgpool_case("avgpool_ceil", (1, 2, 7, 6), 3, stride=2, ceil=True)
avgpool_case("avgpool_ceil_pad", (1, 2, 6, 6), 3, stride=2, padding=1, ceil=True)
avgpool_case("avgpool_ceil_pad_excl", (1, 2, 6, 6), 3, stride=2, padding=1, ceil=True, include=False)
avgpool_case("avgpool_divisor", (1, 2, 6, 6), 2, padding=1, divisor=3)
avgpool_case("avgpool_rect", (1, 2, 6, 8), [2, 3], stride=[2, 1])


def adaptive_case(name, shape, size, mx=False, ret=False):
    x = distinct(*shape) if mx else rnd(*shape)
    if mx:
        add(name, "adaptiveMaxPool2d", [x], {"outputSize": size, "returnIndices": ret},
            lambda x: F.adaptive_max_pool2d(x, pair(size), return_indices=ret), multi=ret)
    else:
        add(name, "adaptiveAvgPool2d", [x], {"outputSize": size}, lambda x: F.adaptive_avg_pool2d(x, pair(size)))


adaptive_case("adaptive_avg_1", (2, 3, 5, 5), 1)
adaptive_case("adaptive_avg_odd", (1, 2, 7, 5), [3, 2])
adaptive_case("adaptive_avg_up", (1, 2, 3, 4), [5, 6])
adaptive_case("adaptive_avg_none", (1, 2, 6, 4), [3, None])
adaptive_case("adaptive_max_odd", (1, 2, 7, 5), [3, 2], mx=True)
adaptive_case("adaptive_max_idx", (2, 2, 6, 6), 4, mx=True, ret=True)


# ------------------------------------------------------------------------------- normalization
def bn_case(name, shape, training, affine=True, running=True, momentum=0.1, eps=1e-5):
    C = shape[1]
    x = rnd(*shape) * 2 + 0.5
    rm = rnd(C) * 0.1 if running else None
    rv = (torch.rand(C, dtype=torch.float64) + 0.5) if running else None
    w = rnd(C) if affine else None
    b = rnd(C) if affine else None
    attrs = {"training": training, "momentum": momentum, "eps": eps}
    add(name, "batchNorm", [x, rm, rv, w, b], attrs,
        lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps),
        diff=[True, False, False, affine, affine], running=[1, 2] if (running and training) else None)


bn_case("bn_train_4d", (3, 4, 3, 3), True)
bn_case("bn_train_2d", (6, 5), True)
bn_case("bn_train_3d", (2, 3, 5), True, momentum=0.3)
bn_case("bn_train_noaffine", (2, 3, 3, 3), True, affine=False)
bn_case("bn_train_norunning", (2, 3, 3, 2), True, running=False, eps=1e-3)
bn_case("bn_eval_4d", (2, 4, 3, 3), False)
bn_case("bn_eval_2d", (4, 3), False, affine=False)


def ln_case(name, shape, ns, affine=True, eps=1e-5):
    x = rnd(*shape)
    w = rnd(*ns) if affine else None
    b = rnd(*ns) if affine else None
    add(name, "layerNorm", [x, w, b], {"normalizedShape": ns, "eps": eps}, lambda x, w, b: F.layer_norm(x, ns, w, b, eps))


ln_case("ln_last", (3, 4, 5), [5])
ln_case("ln_two", (2, 3, 4, 3), [4, 3])
ln_case("ln_noaffine", (4, 6), [6], affine=False, eps=1e-3)


def gn_case(name, shape, groups, affine=True, eps=1e-5):
    x = rnd(*shape)
    C = shape[1]
    w = rnd(C) if affine else None
    b = rnd(C) if affine else None
    add(name, "groupNorm", [x, w, b], {"numGroups": groups, "eps": eps}, lambda x, w, b: F.group_norm(x, groups, w, b, eps))


gn_case("gn_basic", (2, 6, 3, 3), 3)
gn_case("gn_one", (2, 4, 5), 1)
gn_case("gn_instance", (2, 4, 2, 3), 4, affine=False)


# --------------------------------------------------------------------------------- pad, interpolate
def pad_case(name, shape, pads, mode="constant", value=0.0):
    x = rnd(*shape)
    add(name, "pad", [x], {"pads": pads, "mode": mode, "value": value},
        lambda x: F.pad(x, pads, mode=mode, value=value) if mode == "constant" else F.pad(x, pads, mode=mode))


pad_case("pad_const", (2, 3, 4), [1, 2])
pad_case("pad_const_2d", (1, 2, 3, 3), [1, 0, 2, 1], value=1.5)
pad_case("pad_const_crop", (1, 2, 4, 5), [-1, 2, 1, -2])
pad_case("pad_const_3dims", (2, 2, 3), [1, 1, 0, 1, 1, 0])
pad_case("pad_reflect", (1, 2, 4, 5), [2, 1, 3, 1], "reflect")
pad_case("pad_reflect_1d", (2, 3, 5), [2, 4], "reflect")
pad_case("pad_replicate", (1, 2, 3, 4), [2, 1, 0, 3], "replicate")
pad_case("pad_circular", (1, 2, 3, 4), [1, 2, 2, 1], "circular")


def interp_case(name, shape, size=None, scale=None, mode="nearest", align=None):
    x = rnd(*shape)
    attrs = {"size": size, "scaleFactor": scale, "mode": mode, "alignCorners": align}
    add(name, "interpolate", [x], attrs,
        lambda x: F.interpolate(x, size=pair(size) if size is not None else None, scale_factor=pair(scale) if scale is not None else None,
                                mode=mode, align_corners=align))


interp_case("interp_nearest_up", (1, 2, 3, 4), scale=2)
interp_case("interp_nearest_size", (1, 2, 5, 4), size=[3, 7])
interp_case("interp_nearest_frac", (1, 2, 4, 5), scale=[1.5, 0.6])
interp_case("interp_nearest_1d", (2, 2, 5), size=8)
interp_case("interp_bilinear_up", (1, 2, 3, 4), scale=2, mode="bilinear", align=False)
interp_case("interp_bilinear_size", (1, 2, 5, 4), size=[3, 7], mode="bilinear", align=False)
interp_case("interp_bilinear_align", (1, 2, 4, 3), size=[6, 5], mode="bilinear", align=True)
interp_case("interp_bilinear_frac", (1, 1, 5, 6), scale=[1.7, 0.5], mode="bilinear")
interp_case("interp_linear_1d", (2, 2, 5), size=7, mode="linear", align=False)

write_json(OUT, {"generator": generator(), "cases": cases})
print("wrote %d cases to %s (%d bytes)" % (len(cases), OUT, os.path.getsize(OUT)))
