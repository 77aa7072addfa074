"""AdamW steps as PyTorch computes them, for assembly/__tests__/adamw.spec.ts.

Run: /usr/bin/python3 scripts/golden/gen_adamw_fixture.py
Writes assembly/__tests__/fixture_adamw_torch.ts (f32 bit patterns; as-pect
tests cannot read files, so the data is compiled in). Deterministic.

Two optimisers, each with and without weight decay, over STEPS steps with a
learning rate that changes every step (as a warmup/decay schedule does):
- "torch": torch.optim.AdamW (the single-tensor CPU path);
- "hf":    the AdamW of transformers 2.1.1, which DynaBERT's official
           run_glue.py uses; replayed here with the same torch ops it issues
           (this script needs no `transformers`).

Why a fixture and not only a scalar reference: on a CPU with FMA (x86 AVX2,
ARM NEON) torch's vectorised `add_(t, alpha=a)` and `addcmul_` fuse the
multiply-add, so `m·β1 + (1−β1)·g` is rounded once, not twice. The script
checks that an unfused replay disagrees with torch on some elements, so a
kernel that forgets the fusion cannot match the fixture by luck.
"""

import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "assembly", "__tests__", "fixture_adamw_torch.ts")
N = 131  # not a multiple of 4 or 8: the kernels' and torch's vector tails both run
STEPS = 4
LRS = [1e-3, 7.5e-4, 2e-3, 3.3e-4]
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
WEIGHT_DECAYS = [0.0, 0.01]

torch.set_num_threads(1)
gen = torch.Generator().manual_seed(20240611)


def log_uniform(lo, hi, n):
    return torch.exp(torch.empty(n).uniform_(math.log(lo), math.log(hi), generator=gen))


def make_inputs():
    param0 = torch.randn(N, generator=gen) * log_uniform(1e-3, 10.0, N)
    grads = []
    for _ in range(STEPS):
        g = torch.randn(N, generator=gen) * log_uniform(1e-7, 1e2, N)
        g[torch.rand(N, generator=gen) < 0.05] = 0.0  # a few exact zeros: v stays 0 there on step 1
        grads.append(g)
    return param0, grads


def run_torch(param0, grads, wd):
    p = param0.clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=LRS[0], betas=(BETA1, BETA2), eps=EPS, weight_decay=wd, foreach=False)
    ps, ms, vs = [], [], []
    for t in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[t]
        p.grad = grads[t].clone()
        opt.step()
        st = opt.state[p]
        ps.append(p.detach().clone())
        ms.append(st["exp_avg"].clone())
        vs.append(st["exp_avg_sq"].clone())
    return ps, ms, vs


def run_hf(param0, grads, wd):
    """transformers 2.1.1 AdamW.step (correct_bias=True) for one tensor, op for op."""
    p = param0.clone()
    m = torch.zeros_like(p)
    v = torch.zeros_like(p)
    ps, ms, vs = [], [], []
    for t in range(STEPS):
        lr, step, grad = LRS[t], t + 1, grads[t]
        m.mul_(BETA1).add_(grad, alpha=1.0 - BETA1)
        v.mul_(BETA2).addcmul_(grad, grad, value=1.0 - BETA2)
        denom = v.sqrt().add_(EPS)
        bias_correction1 = 1.0 - BETA1**step
        bias_correction2 = 1.0 - BETA2**step
        step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        p.addcdiv_(m, denom, value=-step_size)
        if wd > 0.0:
            p.add_(p, alpha=-lr * wd)
        ps.append(p.clone())
        ms.append(m.clone())
        vs.append(v.clone())
    return ps, ms, vs


def unfused_torch_moments(grads):
    """m and v with every product rounded before the add (what a non-FMA build would give)."""
    f = np.float32
    m = np.zeros(N, f)
    v = np.zeros(N, f)
    out = []
    for g in grads:
        g = g.numpy()
        m = m * f(BETA1) + f(1.0 - BETA1) * g
        v = v * f(BETA2) + (f(1.0 - BETA2) * g) * g
        out.append((m.copy(), v.copy()))
    return out


def bits(t):
    return [int(x) for x in t.numpy().astype(np.float32).view(np.uint32)]


def ts_array(name, doc, values):
    """A StaticArray<u32> literal, wrapped at commas so every line holds whole literals."""
    lines, cur = [], ""
    for tok in (f"0x{x:08x}" for x in values):
        if cur and len(cur) + 1 + len(tok) > 110:
            lines.append(cur + ",")
            cur = tok
        else:
            cur = tok if not cur else cur + "," + tok
    lines.append(cur + ",")
    return f"/** {doc} */\nexport const {name}: StaticArray<u32> = [\n  " + "\n  ".join(lines) + "\n];\n"


def main():
    param0, grads = make_inputs()
    results = {}
    for wd in WEIGHT_DECAYS:
        results[("torch", wd)] = run_torch(param0, grads, wd)
        results[("hf", wd)] = run_hf(param0, grads, wd)

    # The moments do not depend on the optimiser variant or the weight decay.
    _, ms, vs = results[("torch", 0.0)]
    for key, (_, m2, v2) in results.items():
        for t in range(STEPS):
            assert torch.equal(ms[t], m2[t]) and torch.equal(vs[t], v2[t]), f"moments differ for {key}"

    unfused = unfused_torch_moments(grads)
    differing = sum(int((unfused[t][0] != ms[t].numpy()).sum() + (unfused[t][1] != vs[t].numpy()).sum()) for t in range(STEPS))
    assert differing > 0, "this torch build does not fuse multiply-adds: the fixture would not tell fused from unfused"

    parts = [
        "// Generated by scripts/golden/gen_adamw_fixture.py from PyTorch "
        + torch.__version__
        + " (CPU, one thread). Do not edit.\n"
        + "// f32 values as bit patterns; [step][i] arrays are flattened row-major.\n"
        + f"// {differing} of the {2 * STEPS * N} moment values differ from an unfused (two-rounding) replay.\n",
        f"export const ADAMW_N: i32 = {N};\n",
        f"export const ADAMW_STEPS: i32 = {STEPS};\n",
        f"export const ADAMW_BETA1: f64 = {BETA1!r};\n",
        f"export const ADAMW_BETA2: f64 = {BETA2!r};\n",
        f"export const ADAMW_EPS: f64 = {EPS!r};\n",
        f"export const ADAMW_WEIGHT_DECAY: f64 = {WEIGHT_DECAYS[1]!r};\n",
        "/** Learning rate of step t (0-based; the optimiser's step count is t + 1). */\n"
        + "export const ADAMW_LR: StaticArray<f64> = [" + ", ".join(repr(x) for x in LRS) + "];\n",
        ts_array("ADAMW_PARAM0", "Initial parameters [N].", bits(param0)),
        ts_array("ADAMW_GRADS", "Gradient of each step [STEPS][N].", [b for g in grads for b in bits(g)]),
        ts_array("ADAMW_M", "exp_avg after each step [STEPS][N] (same for every variant).", [b for m in ms for b in bits(m)]),
        ts_array("ADAMW_V", "exp_avg_sq after each step [STEPS][N] (same for every variant).", [b for v in vs for b in bits(v)]),
    ]
    for variant, label in (("torch", "TORCH"), ("hf", "HF")):
        for wd, suffix in ((0.0, "NO_DECAY"), (WEIGHT_DECAYS[1], "DECAY")):
            ps = results[(variant, wd)][0]
            doc = f"Parameters after each step [STEPS][N]: {variant}, weight decay {wd}."
            parts.append(ts_array(f"ADAMW_{label}_PARAM_{suffix}", doc, [b for p in ps for b in bits(p)]))
    with open(OUT, "w") as fh:
        fh.write("\n".join(parts))
    print(f"wrote {os.path.normpath(OUT)}; unfused replay differs on {differing} moment values")


if __name__ == "__main__":
    main()
