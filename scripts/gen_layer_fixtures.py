#!/usr/bin/env python3
"""Generate PyTorch-parity fixtures for Ignis's nn layers and losses.

    python3 scripts/gen_layer_fixtures.py      # writes test/fixtures/layers.json

Needs Python 3 and PyTorch (CPU build). Deterministic (torch.manual_seed(0), fixed case order).
The TypeScript tests (test/nn/layers.test.ts, test/nn/loss.test.ts, test/nn/init.test.ts) only
read the JSON.

Format
------
    { "generator": "torch <version>",
      "layers": [ LAYER, ... ], "losses": [ LOSS, ... ], "gains": [ GAIN, ... ] }

    LAYER = {
      "name":       unique case name,
      "module":     Ignis class name (nn.<module>),
      "args":       positional constructor arguments (JSON),
      "opts":       constructor options object, Ignis camelCase keys (may be {}),
      "training":   whether the module runs in train mode,
      "state":      { ignisKey: TENSOR }  the full state dict to load (Ignis key names),
      "input":      TENSOR,
      "output":     TENSOR,
      "gradOutput": TENSOR | null,        upstream gradient (null: no backward check)
      "grads":      { "input": TENSOR | null, ignisParamKey: TENSOR, ... }
      "stateAfter": { ignisKey: TENSOR }  buffers after the forward (batch norm running stats)
      "repr":       str(module) in PyTorch
    }
    LOSS = { "name", "fn": F.<fn> name, "input": TENSOR, "target": TENSOR,
             "opts": {camelCase options; "weight"/"posWeight" are TENSORs}, "output": TENSOR,
             "gradOutput": TENSOR, "grad": TENSOR (d/d input), "module": class name, "repr": str }
    GAIN  = { "nonlinearity": str, "param": number | null, "value": number }

    TENSOR = { "shape": [...], "dtype": "float32"|"float64"|"int64", "data": [flat values] }
"""

import math
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_util import FIXTURE_DIR, enc, generator, write_json

torch.manual_seed(0)
OUT = os.path.join(FIXTURE_DIR, "layers.json")


def camel(s):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), s)


def ikey(k):
    return ".".join(camel(p) for p in k.split("."))


layers = []


def layer(name, module, args, opts, m, x, training=True, grad=True, randomize=True):
    if randomize:
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if p.dim() == 1 and "norm" in type(m).__name__.lower() else 0.0))
            for bn, b in m.named_buffers():
                if bn.endswith("running_mean"):
                    b.copy_(torch.randn_like(b) * 0.2)
                elif bn.endswith("running_var"):
                    b.copy_(torch.rand_like(b) + 0.5)
    m.train(training)
    state = {ikey(k): enc(v) for k, v in m.state_dict().items()}
    x = x.detach().clone()
    if x.dtype.is_floating_point and grad:
        x.requires_grad_(True)
    y = m(x)
    case = {"name": name, "module": module, "args": args, "opts": opts, "training": training, "state": state,
            "input": enc(x), "output": enc(y), "gradOutput": None, "grads": {}, "repr": str(m)}
    if grad:
        go = torch.randn_like(y)
        params = [(k, p) for k, p in m.named_parameters()]
        ins = ([x] if x.requires_grad else []) + [p for _, p in params]
        gs = torch.autograd.grad(y, ins, go, allow_unused=True)
        case["gradOutput"] = enc(go)
        if x.requires_grad:
            case["grads"]["input"] = enc(gs[0])
            gs = gs[1:]
        for (k, _), g in zip(params, gs):
            case["grads"][ikey(k)] = enc(g)
    case["stateAfter"] = {ikey(k): enc(v) for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}
    layers.append(case)


R = torch.randn

# linear / shape
layer("linear", "Linear", [5, 3], {}, nn.Linear(5, 3), R(4, 5))
layer("linear_3d_nobias", "Linear", [5, 3], {"bias": False}, nn.Linear(5, 3, bias=False), R(2, 3, 5))
layer("linear_1d", "Linear", [4, 2], {}, nn.Linear(4, 2), R(4))
layer("identity", "Identity", [], {}, nn.Identity(), R(2, 3))
layer("flatten", "Flatten", [], {}, nn.Flatten(), R(2, 3, 2, 2))
layer("flatten_0_2", "Flatten", [0, 2], {}, nn.Flatten(0, 2), R(2, 3, 2, 2))
layer("unflatten", "Unflatten", [1, [2, 3]], {}, nn.Unflatten(1, (2, 3)), R(2, 6))

# conv
layer("conv1d", "Conv1d", [2, 3, 3], {"stride": 2, "padding": 1}, nn.Conv1d(2, 3, 3, stride=2, padding=1), R(2, 2, 7))
layer("conv2d", "Conv2d", [1, 4, 3], {}, nn.Conv2d(1, 4, 3), R(2, 1, 5, 5))
layer("conv2d_groups_stride", "Conv2d", [4, 6, 3], {"stride": 2, "padding": 1, "groups": 2, "bias": False},
      nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False), R(1, 4, 5, 5))
layer("conv2d_same_dilation", "Conv2d", [2, 2, 3], {"padding": "same", "dilation": 2},
      nn.Conv2d(2, 2, 3, padding="same", dilation=2), R(1, 2, 5, 5))
layer("conv2d_rect", "Conv2d", [2, 3, [2, 3]], {"stride": [1, 2], "padding": [1, 0]},
      nn.Conv2d(2, 3, (2, 3), stride=(1, 2), padding=(1, 0)), R(1, 2, 4, 5))
layer("conv2d_reflect", "Conv2d", [1, 2, 3], {"padding": 1, "paddingMode": "reflect"},
      nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), R(1, 1, 4, 4))
layer("conv_transpose2d", "ConvTranspose2d", [2, 3, 3], {"stride": 2, "padding": 1, "outputPadding": 1},
      nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), R(1, 2, 3, 3))

# pooling
layer("maxpool2d", "MaxPool2d", [2], {}, nn.MaxPool2d(2), R(2, 2, 4, 4))
layer("maxpool2d_pad_stride", "MaxPool2d", [3], {"stride": 2, "padding": 1}, nn.MaxPool2d(3, stride=2, padding=1), R(1, 2, 5, 5))
layer("maxpool2d_ceil", "MaxPool2d", [2], {"ceilMode": True}, nn.MaxPool2d(2, ceil_mode=True), R(1, 1, 5, 5))
layer("avgpool2d", "AvgPool2d", [2], {}, nn.AvgPool2d(2), R(2, 2, 4, 4))
layer("avgpool2d_nopadcount", "AvgPool2d", [3], {"stride": 2, "padding": 1, "countIncludePad": False},
      nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), R(1, 2, 5, 5))
layer("adaptive_avgpool2d", "AdaptiveAvgPool2d", [[2, 3]], {}, nn.AdaptiveAvgPool2d((2, 3)), R(2, 2, 5, 7))
layer("adaptive_avgpool2d_1", "AdaptiveAvgPool2d", [1], {}, nn.AdaptiveAvgPool2d(1), R(2, 3, 4, 4))
layer("adaptive_maxpool2d", "AdaptiveMaxPool2d", [2], {}, nn.AdaptiveMaxPool2d(2), R(1, 2, 5, 5))

# normalisation
layer("batchnorm1d_train", "BatchNorm1d", [3], {}, nn.BatchNorm1d(3), R(6, 3))
layer("batchnorm1d_3d_train", "BatchNorm1d", [3], {}, nn.BatchNorm1d(3), R(2, 3, 4))
layer("batchnorm2d_train", "BatchNorm2d", [3], {}, nn.BatchNorm2d(3), R(2, 3, 3, 3))
layer("batchnorm2d_eval", "BatchNorm2d", [3], {}, nn.BatchNorm2d(3), R(2, 3, 3, 3), training=False)
layer("batchnorm2d_momentum_none", "BatchNorm2d", [2], {"momentum": None}, nn.BatchNorm2d(2, momentum=None), R(2, 2, 3, 3))
layer("batchnorm2d_noaffine", "BatchNorm2d", [2], {"affine": False, "momentum": 0.3}, nn.BatchNorm2d(2, affine=False, momentum=0.3), R(2, 2, 3, 3))
layer("batchnorm2d_no_stats", "BatchNorm2d", [2], {"trackRunningStats": False}, nn.BatchNorm2d(2, track_running_stats=False), R(2, 2, 3, 3), training=False)
layer("layernorm", "LayerNorm", [4], {}, nn.LayerNorm(4), R(2, 3, 4))
layer("layernorm_2d", "LayerNorm", [[3, 4]], {"eps": 1e-3}, nn.LayerNorm((3, 4), eps=1e-3), R(2, 3, 4))
layer("groupnorm", "GroupNorm", [2, 4], {}, nn.GroupNorm(2, 4), R(2, 4, 3, 3))

# embedding, upsample, dropout in eval
layer("embedding", "Embedding", [10, 3], {"paddingIdx": 0}, nn.Embedding(10, 3, padding_idx=0), torch.tensor([[1, 0, 4, 4], [9, 2, 0, 3]]))
layer("upsample_nearest", "Upsample", [{"scaleFactor": 2}], {}, nn.Upsample(scale_factor=2), R(1, 2, 3, 3))
layer("upsample_bilinear", "Upsample", [{"scaleFactor": 2, "mode": "bilinear"}], {}, nn.Upsample(scale_factor=2, mode="bilinear"), R(1, 1, 3, 3))
layer("upsample_bilinear_ac_size", "Upsample", [{"size": [5, 4], "mode": "bilinear", "alignCorners": True}], {},
      nn.Upsample(size=(5, 4), mode="bilinear", align_corners=True), R(1, 1, 3, 3))
layer("dropout_eval", "Dropout", [0.5], {}, nn.Dropout(0.5), R(2, 3), training=False)


# a small CNN end to end: Sequential naming, stateDict keys
class Seed(nn.Module):
    pass


cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(8, 3))
layer("sequential_cnn", "Sequential", [], {}, cnn, R(2, 1, 4, 4))

# ------------------------------------------------------------------------------- losses
losses = []


def loss(name, fn, module, x, t, opts, pt_fn, pt_module):
    x = x.detach().clone().requires_grad_(True)
    y = pt_fn(x, t)
    go = torch.randn_like(y)
    (g,) = torch.autograd.grad(y, [x], go)
    eo = {k: (enc(v) if isinstance(v, torch.Tensor) else v) for k, v in opts.items()}
    losses.append({"name": name, "fn": fn, "module": module, "input": enc(x), "target": enc(t), "opts": eo,
                   "output": enc(y), "gradOutput": enc(go), "grad": enc(g), "repr": str(pt_module)})


def ce_case(name, x, t, **kw):
    opts = {camel(k): v for k, v in kw.items()}
    loss(name, "crossEntropy", "CrossEntropyLoss", x, t, opts, lambda a, b: F.cross_entropy(a, b, **kw), nn.CrossEntropyLoss(**kw))


w5 = torch.rand(5) + 0.5
ce_case("ce_basic", R(4, 5), torch.tensor([1, 0, 4, 2]))
ce_case("ce_sum", R(4, 5), torch.tensor([1, 0, 4, 2]), reduction="sum")
ce_case("ce_none", R(4, 5), torch.tensor([1, 0, 4, 2]), reduction="none")
ce_case("ce_weight", R(4, 5), torch.tensor([1, 0, 4, 2]), weight=w5)
ce_case("ce_ignore", R(4, 5), torch.tensor([1, -100, 4, 2]))
ce_case("ce_ignore_custom_weight", R(4, 5), torch.tensor([1, 3, 4, 3]), ignore_index=3, weight=w5)
ce_case("ce_ignore_none", R(4, 5), torch.tensor([1, 3, 4, 3]), ignore_index=3, reduction="none")
ce_case("ce_smoothing", R(4, 5), torch.tensor([1, 0, 4, 2]), label_smoothing=0.1)
ce_case("ce_smoothing_weight_ignore", R(4, 5), torch.tensor([1, -100, 4, 2]), label_smoothing=0.2, weight=w5)
ce_case("ce_smoothing_sum", R(4, 5), torch.tensor([1, 0, 4, 2]), label_smoothing=0.3, reduction="sum")
ce_case("ce_smoothing_none", R(4, 5), torch.tensor([1, -100, 4, 2]), label_smoothing=0.3, reduction="none")
ce_case("ce_nchw", R(2, 3, 2, 2), torch.randint(0, 3, (2, 2, 2)))
ce_case("ce_nchw_weight_none", R(2, 3, 2, 2), torch.randint(0, 3, (2, 2, 2)), weight=torch.rand(3) + 0.5, reduction="none")
ce_case("ce_nchw_smoothing", R(2, 3, 2, 2), torch.randint(0, 3, (2, 2, 2)), label_smoothing=0.1)
ce_case("ce_unbatched", R(5), torch.tensor(3))
ce_case("ce_probs", R(4, 5), torch.softmax(R(4, 5), 1))
ce_case("ce_probs_weight_smoothing", R(4, 5), torch.softmax(R(4, 5), 1), weight=w5, label_smoothing=0.2)
ce_case("ce_probs_sum", R(4, 5), torch.softmax(R(4, 5), 1), reduction="sum")
ce_case("ce_large_logits", torch.tensor([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]]), torch.tensor([1, 2]))


def nll_case(name, x, t, **kw):
    opts = {camel(k): v for k, v in kw.items()}
    loss(name, "nllLoss", "NLLLoss", x, t, opts, lambda a, b: F.nll_loss(a, b, **kw), nn.NLLLoss(**kw))


nll_case("nll_basic", torch.log_softmax(R(4, 5), 1), torch.tensor([1, 0, 4, 2]))
nll_case("nll_weight_ignore", torch.log_softmax(R(4, 5), 1), torch.tensor([1, 0, -100, 2]), weight=w5)
nll_case("nll_nchw_sum", torch.log_softmax(R(2, 3, 2, 2), 1), torch.randint(0, 3, (2, 2, 2)), reduction="sum")


def simple(name, fn, module, pt_fn, pt_mod, x, t, **kw):
    opts = {camel(k): v for k, v in kw.items()}
    loss(name, fn, module, x, t, opts, lambda a, b: pt_fn(a, b, **kw), pt_mod(**kw))


simple("mse", "mseLoss", "MSELoss", F.mse_loss, nn.MSELoss, R(3, 4), R(3, 4))
simple("mse_sum", "mseLoss", "MSELoss", F.mse_loss, nn.MSELoss, R(3, 4), R(3, 4), reduction="sum")
simple("l1", "l1Loss", "L1Loss", F.l1_loss, nn.L1Loss, R(3, 4), R(3, 4))
simple("l1_none", "l1Loss", "L1Loss", F.l1_loss, nn.L1Loss, R(3, 4), R(3, 4), reduction="none")
simple("smooth_l1", "smoothL1Loss", "SmoothL1Loss", F.smooth_l1_loss, nn.SmoothL1Loss, R(3, 4) * 2, R(3, 4))
simple("smooth_l1_beta", "smoothL1Loss", "SmoothL1Loss", F.smooth_l1_loss, nn.SmoothL1Loss, R(3, 4) * 2, R(3, 4), beta=0.5)
simple("huber", "huberLoss", "HuberLoss", F.huber_loss, nn.HuberLoss, R(3, 4) * 2, R(3, 4))
simple("huber_delta", "huberLoss", "HuberLoss", F.huber_loss, nn.HuberLoss, R(3, 4) * 2, R(3, 4), delta=0.7, reduction="sum")
simple("bce", "binaryCrossEntropy", "BCELoss", F.binary_cross_entropy, nn.BCELoss, torch.rand(3, 4) * 0.9 + 0.05, torch.rand(3, 4))
simple("bce_weight", "binaryCrossEntropy", "BCELoss", F.binary_cross_entropy, nn.BCELoss, torch.rand(3, 4) * 0.9 + 0.05,
       (torch.rand(3, 4) > 0.5).float(), weight=torch.rand(4))
simple("bce_logits", "binaryCrossEntropyWithLogits", "BCEWithLogitsLoss", F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss,
       R(3, 4) * 3, torch.rand(3, 4))
simple("bce_logits_posweight", "binaryCrossEntropyWithLogits", "BCEWithLogitsLoss", F.binary_cross_entropy_with_logits,
       nn.BCEWithLogitsLoss, R(3, 4) * 3, (torch.rand(3, 4) > 0.5).float(), pos_weight=torch.rand(4) + 0.5, weight=torch.rand(3, 1))
simple("bce_logits_extreme", "binaryCrossEntropyWithLogits", "BCEWithLogitsLoss", F.binary_cross_entropy_with_logits,
       nn.BCEWithLogitsLoss, torch.tensor([[200.0, -200.0, 0.0, 30.0]]), torch.tensor([[0.0, 1.0, 0.5, 1.0]]), reduction="none")

# ------------------------------------------------------------------------------- init gains
gains = []
for nl, param in [("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)]:
    gains.append({"nonlinearity": nl, "param": param, "value": nn.init.calculate_gain(nl, param)})

# ------------------------------------------------------------------------------- fused activations
# Ignis's `activation` option on Linear / Conv1d / Conv2d / ConvTranspose2d (as Keras's Dense(activation=) has it).
# PyTorch has no such option: the reference is the layer followed by the functional activation, in a
# subclass that keeps the layer's state dict keys and prints Ignis's repr. (Last, so the random
# inputs of the cases above stay as they were.)
def with_act(cls, act, params, fn):
    class WithAct(cls):
        def forward(self, x):
            return fn(super().forward(x))

        def extra_repr(self):
            ps = "(" + ", ".join("%s=%r" % kv for kv in params.items()) + ")" if params else ""
            return super().extra_repr() + ", activation=" + act + ps

        def _get_name(self):
            return cls.__name__

    return WithAct


def act_opts(act, params, **kw):
    return {**kw, "activation": act, **({"activationParams": params} if params else {})}


layer("linear_act_gelu", "Linear", [5, 3], act_opts("gelu", None), with_act(nn.Linear, "gelu", None, F.gelu)(5, 3), R(4, 5))
layer("linear_act_gelu_tanh", "Linear", [6, 5], act_opts("gelu", {"approximate": "tanh"}),
      with_act(nn.Linear, "gelu", {"approximate": "tanh"}, lambda y: F.gelu(y, approximate="tanh"))(6, 5), R(3, 6))
layer("linear_act_leaky_3d_nobias", "Linear", [5, 4], act_opts("leaky_relu", {"negativeSlope": 0.2}, bias=False),
      with_act(nn.Linear, "leaky_relu", {"negativeSlope": 0.2}, lambda y: F.leaky_relu(y, 0.2))(5, 4, bias=False), R(2, 3, 5))
layer("linear_act_silu_1d", "Linear", [4, 2], act_opts("silu", None), with_act(nn.Linear, "silu", None, F.silu)(4, 2), R(4))
layer("linear_act_sigmoid", "Linear", [7, 9], act_opts("sigmoid", None), with_act(nn.Linear, "sigmoid", None, torch.sigmoid)(7, 9), R(5, 7))
layer("conv2d_act_elu", "Conv2d", [2, 3, 3], act_opts("elu", {"alpha": 0.7}, padding=1),
      with_act(nn.Conv2d, "elu", {"alpha": 0.7}, lambda y: F.elu(y, 0.7))(2, 3, 3, padding=1), R(2, 2, 5, 5))
layer("conv2d_act_mish_stride", "Conv2d", [2, 4, 3], act_opts("mish", None, stride=2),
      with_act(nn.Conv2d, "mish", None, F.mish)(2, 4, 3, stride=2), R(1, 2, 7, 7))
layer("conv1d_act_tanh", "Conv1d", [3, 2, 3], act_opts("tanh", None), with_act(nn.Conv1d, "tanh", None, torch.tanh)(3, 2, 3), R(2, 3, 8))
layer("conv_transpose2d_act_sigmoid", "ConvTranspose2d", [3, 2, 3], act_opts("sigmoid", None, stride=2, padding=1),
      with_act(nn.ConvTranspose2d, "sigmoid", None, torch.sigmoid)(3, 2, 3, stride=2, padding=1), R(2, 3, 4, 4))

# cross entropy where no row counts (appended last, so the random draws above are unchanged): PyTorch's
# NaN mean with a zero gradient for ignored rows, 0 for the sum, NaN / NaN where every weight is zero
ce_case("ce_all_ignored", R(3, 4), torch.tensor([-100, -100, -100]))
ce_case("ce_all_ignored_custom", R(3, 4), torch.tensor([2, 2, 2]), ignore_index=2)
ce_case("ce_all_ignored_sum", R(3, 4), torch.tensor([-100, -100, -100]), reduction="sum")
ce_case("ce_zero_weights", R(3, 4), torch.tensor([1, 2, 3]), weight=torch.tensor([1.0, 0.0, 0.0, 0.0]))

write_json(OUT, {"generator": generator(), "layers": layers, "losses": losses, "gains": gains}, compact=False)
print("wrote %s: %d layer cases, %d loss cases, %d gains" % (OUT, len(layers), len(losses), len(gains)))
