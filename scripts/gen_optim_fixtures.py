#!/usr/bin/env python3
"""Generate PyTorch-parity fixtures for ignis.optim and ignis.nn.utils.

Regenerate with:

    python3 scripts/gen_optim_fixtures.py

Needs Python 3 and PyTorch (CPU is enough). Writes test/fixtures/optim.json; the TypeScript tests
(test/optim/*.test.ts, test/nn/utils.test.ts) only read it. Deterministic (torch.manual_seed(0)).

Same JSON conventions as scripts/gen_fixtures.py: TENSOR = {"shape", "dtype", "data"} with floats
at full precision and "nan"/"inf"/"-inf" for non-finite values. Option names are Ignis's
(camelCase); OPTS below maps them to PyTorch's keyword arguments.

    {
      "generator": "torch <version>",
      "optimizers": [ {                       fixed gradients, one per parameter per step
          "name", "optimizer": "SGD"|"Adam"|"AdamW"|"RMSprop"|"Adagrad", "dtype",
          "options": {...},                   constructor defaults
          "groups": null | [{"params": [indices], ...overrides}],
          "params": [TENSOR],                 initial values
          "grads": [[TENSOR per param] per step],
          "expected": [[TENSOR per param] after each step],
          "state": {"<param index>": {"step": n, "<ignis state name>": TENSOR}}   after the last step
      } ],
      "models": [ {                           a linear model y = x W^T + b with MSE loss: gradients
          "name", "optimizer", "options", "dtype",   come from autograd on both sides
          "x": TENSOR, "y": TENSOR, "weight": TENSOR, "bias": TENSOR,
          "losses": [loss before each step], "weightAfter": TENSOR, "biasAfter": TENSOR
      } ],
      "schedulers": [ {
          "name", "scheduler", "options", "optimizer": "SGD"|"Adam", "optimizerOptions",
          "groupLrs": [lr per group], "steps": n, "metrics": [..] (ReduceLROnPlateau only),
          "lrs": [[lr per group] after construction, then after each step],
          "momenta": [[momentum or beta1 per group] ...] (OneCycleLR only)
      } ],
      "clip": [ { "name", "dtype", "maxNorm", "normType", "grads": [TENSOR], "totalNorm": number,
                  "clipped": [TENSOR] } ]
    }
"""

import os

import torch

from fixture_util import FIXTURE_DIR, ROOT, enc, enc_float, generator, write_json

torch.manual_seed(0)

OUT = os.path.join(FIXTURE_DIR, "optim.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
STEPS = 6

# Ignis option name -> PyTorch keyword
OPTS = {
    "lr": "lr", "momentum": "momentum", "dampening": "dampening", "nesterov": "nesterov",
    "weightDecay": "weight_decay", "maximize": "maximize", "betas": "betas", "eps": "eps",
    "amsgrad": "amsgrad", "alpha": "alpha", "centered": "centered", "lrDecay": "lr_decay",
    "initialAccumulatorValue": "initial_accumulator_value",
    # schedulers
    "stepSize": "step_size", "gamma": "gamma", "milestones": "milestones", "TMax": "T_max",
    "etaMin": "eta_min", "startFactor": "start_factor", "endFactor": "end_factor",
    "totalIters": "total_iters", "maxLr": "max_lr", "totalSteps": "total_steps",
    "pctStart": "pct_start", "annealStrategy": "anneal_strategy", "cycleMomentum": "cycle_momentum",
    "baseMomentum": "base_momentum", "maxMomentum": "max_momentum", "divFactor": "div_factor",
    "finalDivFactor": "final_div_factor", "threePhase": "three_phase", "mode": "mode",
    "factor": "factor", "patience": "patience", "threshold": "threshold",
    "thresholdMode": "threshold_mode", "cooldown": "cooldown", "minLr": "min_lr",
    "epochs": "epochs", "stepsPerEpoch": "steps_per_epoch",
}
STATE_NAMES = {
    "momentum_buffer": "momentumBuffer", "exp_avg": "expAvg", "exp_avg_sq": "expAvgSq",
    "max_exp_avg_sq": "maxExpAvgSq", "square_avg": "squareAvg", "grad_avg": "gradAvg", "sum": "sum",
}


def kw(opts):
    out = {}
    for k, v in opts.items():
        out[OPTS[k]] = tuple(v) if k == "betas" else v
    return out


def make_opt(name, params, options, groups=None):
    cls = getattr(torch.optim, name)
    if groups is None:
        return cls(params, **kw(options))
    pg = [dict(kw({k: v for k, v in g.items() if k != "params"}), params=[params[i] for i in g["params"]]) for g in groups]
    return cls(pg, **kw(options))


# ----------------------------------------------------------------------------- optimizers

OPT_CASES = [
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd_wd", "SGD", {"lr": 0.05, "momentum": 0.5, "weightDecay": 0.1}),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True, "weightDecay": 0.01}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam_betas_eps", "Adam", {"lr": 0.02, "betas": [0.8, 0.9], "eps": 1e-6}),
    ("adam_wd", "Adam", {"lr": 0.01, "weightDecay": 0.1}),
    ("adam_amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("adam_maximize", "Adam", {"lr": 0.01, "maximize": True, "amsgrad": True, "weightDecay": 0.05}),
    ("adamw", "AdamW", {"lr": 0.01}),
    ("adamw_wd_amsgrad", "AdamW", {"lr": 0.02, "weightDecay": 0.3, "amsgrad": True}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9, "alpha": 0.9}),
    ("rmsprop_all", "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weightDecay": 0.1, "eps": 1e-4}),
    ("rmsprop_maximize", "RMSprop", {"lr": 0.01, "maximize": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad_decay_wd", "Adagrad", {"lr": 0.1, "lrDecay": 0.05, "weightDecay": 0.1}),
    ("adagrad_init_acc", "Adagrad", {"lr": 0.1, "initialAccumulatorValue": 0.5, "eps": 1e-6}),
    ("adagrad_maximize", "Adagrad", {"lr": 0.1, "maximize": True}),
]

GROUP_CASES = [
    ("sgd_groups", "SGD", {"lr": 0.01, "momentum": 0.9}, [{"params": [0], "lr": 0.1}, {"params": [1], "nesterov": True}]),
    ("adam_groups", "Adam", {"lr": 0.01}, [{"params": [1], "betas": [0.5, 0.6], "amsgrad": True}, {"params": [0], "weightDecay": 0.2}]),
    ("rmsprop_groups", "RMSprop", {"lr": 0.01}, [{"params": [0], "centered": True}, {"params": [1], "momentum": 0.3}]),
]


def gen_opt_case(name, opt_name, options, dtype_name, groups=None):
    dt = DTYPES[dtype_name]
    shapes = [(3, 4), (5,)]
    init = [torch.randn(s, dtype=dt) for s in shapes]
    grads = [[torch.randn(s, dtype=dt) for s in shapes] for _ in range(STEPS)]
    params = [t.clone().requires_grad_(True) for t in init]
    opt = make_opt(opt_name, params, options, groups)
    expected = []
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = g.clone()
        opt.step()
        expected.append([enc(p) for p in params])
    # keyed like state_dict(): parameters numbered across the groups in order
    state = {}
    for idx, st in opt.state_dict()["state"].items():
        s = {}
        for k, v in st.items():
            if k == "step":
                s["step"] = float(v)
            elif torch.is_tensor(v):
                s[STATE_NAMES[k]] = enc(v)
        state[str(idx)] = s
    return {
        "name": "%s_%s" % (name, dtype_name), "optimizer": opt_name, "dtype": dtype_name, "options": options,
        "groups": groups, "params": [enc(t) for t in init], "grads": [[enc(g) for g in gs] for gs in grads],
        "expected": expected, "state": state,
    }


def gen_optimizers():
    cases = []
    for name, opt, options in OPT_CASES:
        for dt in ("float64", "float32"):
            cases.append(gen_opt_case(name, opt, options, dt))
    for name, opt, options, groups in GROUP_CASES:
        cases.append(gen_opt_case(name, opt, options, "float64", groups))
    return cases


MODEL_CASES = [
    ("model_sgd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("model_adam", "Adam", {"lr": 0.05, "amsgrad": True}),
    ("model_adamw", "AdamW", {"lr": 0.05, "weightDecay": 0.1}),
    ("model_rmsprop", "RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("model_adagrad", "Adagrad", {"lr": 0.3, "lrDecay": 0.01}),
]


def gen_models():
    cases = []
    for name, opt_name, options in MODEL_CASES:
        dt = torch.float64
        x = torch.randn(8, 3, dtype=dt)
        y = torch.randn(8, 2, dtype=dt)
        w0 = torch.randn(2, 3, dtype=dt) * 0.5
        b0 = torch.randn(2, dtype=dt) * 0.1
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        opt = make_opt(opt_name, [w, b], options)
        losses = []
        for _ in range(8):
            opt.zero_grad()
            loss = ((x @ w.t() + b - y) ** 2).mean()
            loss.backward()
            losses.append(loss.item())
            opt.step()
        cases.append({
            "name": name, "optimizer": opt_name, "options": options, "dtype": "float64",
            "x": enc(x), "y": enc(y), "weight": enc(w0), "bias": enc(b0),
            "losses": losses, "weightAfter": enc(w), "biasAfter": enc(b),
        })
    return cases


# ----------------------------------------------------------------------------- schedulers

S = torch.optim.lr_scheduler


def build_sched(opt, spec):
    name, options = spec["scheduler"], spec.get("options", {})
    if name == "SequentialLR":
        subs = [build_sched(opt, s) for s in options["schedulers"]]
        return S.SequentialLR(opt, subs, milestones=options["milestones"])
    if name == "LambdaLR":
        # the lambda is fixed by name: decay95 = 0.95 ** epoch
        return S.LambdaLR(opt, lambda e: 0.95 ** e)
    return getattr(S, name)(opt, **kw(options))


SCHED_CASES = [
    {"name": "step", "scheduler": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}, "steps": 12},
    {"name": "step_groups", "scheduler": "StepLR", "options": {"stepSize": 2, "gamma": 0.3}, "steps": 9, "groupLrs": [0.1, 0.02]},
    {"name": "multistep", "scheduler": "MultiStepLR", "options": {"milestones": [2, 5, 5, 9], "gamma": 0.1}, "steps": 12},
    {"name": "exponential", "scheduler": "ExponentialLR", "options": {"gamma": 0.9}, "steps": 10},
    {"name": "cosine", "scheduler": "CosineAnnealingLR", "options": {"TMax": 10, "etaMin": 0.001}, "steps": 35},
    {"name": "cosine_groups", "scheduler": "CosineAnnealingLR", "options": {"TMax": 7}, "steps": 16, "groupLrs": [0.1, 0.5]},
    {"name": "linear", "scheduler": "LinearLR", "options": {"startFactor": 0.25, "totalIters": 4}, "steps": 8},
    {"name": "linear_decay", "scheduler": "LinearLR", "options": {"startFactor": 1.0, "endFactor": 0.1, "totalIters": 6}, "steps": 9},
    {"name": "lambda", "scheduler": "LambdaLR", "options": {"lambda": "decay95"}, "steps": 6},
    {"name": "onecycle", "scheduler": "OneCycleLR", "options": {"maxLr": 1.0, "totalSteps": 20}, "steps": 19},
    {"name": "onecycle_linear_3phase", "scheduler": "OneCycleLR",
     "options": {"maxLr": 0.5, "totalSteps": 15, "annealStrategy": "linear", "threePhase": True, "pctStart": 0.25}, "steps": 14},
    {"name": "onecycle_adam", "scheduler": "OneCycleLR", "optimizer": "Adam",
     "options": {"maxLr": [0.01, 0.02], "epochs": 2, "stepsPerEpoch": 6, "divFactor": 10.0}, "steps": 11, "groupLrs": [0.001, 0.002]},
    {"name": "plateau", "scheduler": "ReduceLROnPlateau", "options": {"patience": 2, "factor": 0.5, "cooldown": 1, "minLr": 0.01},
     "metrics": [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.91, 0.99, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]},
    {"name": "plateau_max_abs", "scheduler": "ReduceLROnPlateau", "options": {"mode": "max", "thresholdMode": "abs", "threshold": 0.05, "patience": 1},
     "metrics": [0.1, 0.2, 0.22, 0.24, 0.3, 0.31, 0.32, 0.4, 0.41]},
    {"name": "sequential_warmup_cosine", "scheduler": "SequentialLR",
     "options": {"schedulers": [{"scheduler": "LinearLR", "options": {"startFactor": 0.1, "totalIters": 3}},
                                {"scheduler": "CosineAnnealingLR", "options": {"TMax": 10}}], "milestones": [3]}, "steps": 15},
    {"name": "sequential_three", "scheduler": "SequentialLR",
     "options": {"schedulers": [{"scheduler": "ExponentialLR", "options": {"gamma": 0.8}},
                                {"scheduler": "StepLR", "options": {"stepSize": 2, "gamma": 0.5}},
                                {"scheduler": "LinearLR", "options": {"startFactor": 0.5, "totalIters": 3}}], "milestones": [3, 7]}, "steps": 12},
]


def gen_schedulers():
    out = []
    for spec in SCHED_CASES:
        group_lrs = spec.get("groupLrs", [0.1])
        opt_name = spec.get("optimizer", "SGD")
        opt_opts = {"lr": group_lrs[0], "momentum": 0.9} if opt_name == "SGD" else {"lr": group_lrs[0]}
        params = [torch.zeros(2, requires_grad=True) for _ in group_lrs]
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)]
        opt = getattr(torch.optim, opt_name)(groups, **kw(opt_opts))
        sched = build_sched(opt, spec)

        def momenta():
            return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]

        lrs = [list(sched.get_last_lr())]
        moms = [momenta()]
        if spec["scheduler"] == "ReduceLROnPlateau":
            for m in spec["metrics"]:
                opt.step()
                sched.step(m)
                lrs.append(list(sched.get_last_lr()))
        else:
            for _ in range(spec["steps"]):
                opt.step()
                sched.step()
                lrs.append(list(sched.get_last_lr()))
                moms.append(momenta())
        case = dict(spec)
        case.update({"optimizer": opt_name, "optimizerOptions": opt_opts, "groupLrs": group_lrs, "lrs": lrs})
        if spec["scheduler"] == "OneCycleLR":
            case["momenta"] = moms
        out.append(case)
    return out


# ----------------------------------------------------------------------------- clip_grad_norm_

def gen_clip():
    out = []
    for dtype_name in ("float64", "float32"):
        dt = DTYPES[dtype_name]
        for norm_type, max_norm in ((2.0, 1.0), (1.0, 2.0), (float("inf"), 0.5), (3.0, 1.5), (2.0, 100.0)):
            grads = [torch.randn(s, dtype=dt) for s in ((3, 4), (5,), (2, 2, 2))]
            params = [torch.zeros_like(g, requires_grad=True) for g in grads]
            for p, g in zip(params, grads):
                p.grad = g.clone()
            total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
            out.append({
                "name": "clip_%s_%s_%s" % (dtype_name, norm_type, max_norm), "dtype": dtype_name,
                "maxNorm": max_norm, "normType": enc_float(norm_type), "grads": [enc(g) for g in grads],
                "totalNorm": total.item(), "clipped": [enc(p.grad) for p in params],
            })
    return out


def main():
    doc = {
        "generator": generator(),
        "optimizers": gen_optimizers(),
        "models": gen_models(),
        "schedulers": gen_schedulers(),
        "clip": gen_clip(),
    }
    size = write_json(OUT, doc)
    print("%s: %d optimizer cases, %d model cases, %d scheduler cases, %d clip cases, %d bytes" % (
        os.path.relpath(OUT, ROOT), len(doc["optimizers"]), len(doc["models"]), len(doc["schedulers"]), len(doc["clip"]), size))


if __name__ == "__main__":
    main()
