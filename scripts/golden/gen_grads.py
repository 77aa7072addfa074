"""Golden gradients for `dynabert grad` and `dynabert importance`, from PyTorch autograd.

Run: /usr/bin/python3 scripts/golden/gen_grads.py   (after gen_inference.py)
Reads the committed models tests/fixtures/golden/{h12,h6odd}; writes
tests/fixtures/grads/ (see scripts/golden/README.md). Expected values are
computed in float64 from the stored float32 weights; every case is checked by
finite differences, exact zeros outside the reached slices, and a float32
rerun that must pass the engine's comparison with a 10x margin. Any failed
check raises. Deterministic: fixed seeds, one thread, sorted names.
"""

import json
import os
import random
import shutil
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bert_reference as ref  # noqa: E402
import training_reference as tr  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GOLDEN = "tests/fixtures/golden"
OUT = "tests/fixtures/grads"
STUDENT = OUT + "/h12_student"
SIZE_LIMIT = 4_000_000

# Labels for the fixtures' 3-row batches (every class appears in h12).
LABELS = {"h12": [2, 0, 1], "h6odd": [1, 0, 1]}

# The student of the distillation cases is h12 plus this much Gaussian noise on
# every weight: enough that student and teacher differ at full width (so every
# loss term has a gradient), small next to the weights (std 0.12–0.5).
STUDENT_NOISE_STD, STUDENT_SEED = 0.02, 777

# What the engine test uses (README): per tensor ‖g − g_ref‖ / max(‖g_ref‖, TINY)
# ≤ REL_TOL and per element |g − g_ref| ≤ REL_TOL · max|g_ref|; losses and the
# global norm relative REL_TOL_SCALAR. Our own float32 rerun must pass each
# with SELF_MARGIN to spare, or the tolerance would be eaten by rounding alone.
REL_TOL, REL_TOL_SCALAR, TINY, SELF_MARGIN = 1e-3, 1e-4, 1e-30, 10.0

# ∂loss/∂(key bias) is exactly 0 in exact arithmetic: the bias adds q·b_k to
# every score of a query alike and softmax ignores a common shift. Autograd
# gives rounding noise (~1e-17 of the global norm in f64, ~1e-9 in f32), which
# may even be exactly 0 by chance. The goldens store the true value, 0, and
# the engine test checks ‖g‖ ≤ ZERO_TOL · grad_global_norm for these tensors
# instead of the relative and exact-zero rules.
ANALYTICALLY_ZERO = "attention.self.key.bias"
ZERO_TOL, ZERO_TOL_F64 = 1e-6, 1e-13

FD_STEP, FD_REL_TOL = 1e-4, 1e-6
FD_SAMPLES_IN, FD_SAMPLES_OUT = 8, 4

# Full gradients of all 8 h12 cases alone are 4.1 MB, over SIZE_LIMIT. The two
# variant cases (other λ / teacher width: same backward, different loss
# weights) keep loss, per-subnet losses, global norm and per-tensor gradient
# norms but no grads.safetensors unless this is True.
STORE_VARIANT_GRADS = False


def case_list():
    """(case folder, model fixture, options, student folder, teacher folder, store grads)."""
    h12, h6, student = GOLDEN + "/h12", GOLDEN + "/h6odd", STUDENT
    ft = lambda w, d: tr.Options("finetune", w, d)  # noqa: E731
    return [
        ("finetune/h12_w1_d1", "h12", ft([1.0], [1.0]), h12, None, True),
        ("finetune/h12_w0.5_d0.75", "h12", ft([0.5], [0.75]), h12, None, True),
        ("finetune/h12_w0.25_d0.5", "h12", ft([0.25], [0.5]), h12, None, True),
        ("finetune/h12_multi", "h12", ft([1.0, 0.5], [1.0, 0.5]), h12, None, True),
        ("finetune/h6odd_w1_d1", "h6odd", ft([1.0], [1.0]), h6, None, True),
        ("finetune/h6odd_w0.25_d0.5", "h6odd", ft([0.25], [0.5]), h6, None, True),
        ("width/h12_lambda_1_0.1_1", "h12", tr.Options("width", [1.0, 0.75, 0.5, 0.25], [1.0], (1.0, 0.1, 1.0)),
         student, h12, True),
        ("width/h12_lambda_1_0.1_0.1", "h12", tr.Options("width", [1.0, 0.75, 0.5, 0.25], [1.0], (1.0, 0.1, 0.1)),
         student, h12, STORE_VARIANT_GRADS),
        ("depth/h12_teacher_same", "h12", tr.Options("depth", [1.0, 0.5], [1.0, 0.75, 0.5], (1.0, 1.0, 1.0), "same"),
         student, h12, True),
        ("depth/h12_teacher_full", "h12", tr.Options("depth", [1.0, 0.5], [1.0, 0.75, 0.5], (1.0, 1.0, 1.0), "full"),
         student, h12, STORE_VARIANT_GRADS),
    ]


# ---------------------------------------------------------------- files


def path(rel):
    return os.path.join(REPO, rel)


def load_model(folder):
    """(config dict, params keyed without `bert.`) from an HF checkpoint folder (F32 weights)."""
    with open(path(folder + "/config.json")) as f:
        cfg = json.load(f)
    stored = read_safetensors(path(folder + "/model.safetensors"))
    return cfg, {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in stored.items()}


def hf_names(tensors):
    return {(k if k.startswith("classifier.") else "bert." + k): v for k, v in tensors.items()}


def load_inputs(fixture):
    with open(path(f"{GOLDEN}/{fixture}/inputs.json")) as f:
        inputs = json.load(f)
    inputs["labels"] = LABELS[fixture]
    return inputs


def write_json(file, obj):
    with open(file, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def write_input(file, inputs):
    # One row per line so the [batch][seq] arrays read as a grid.
    parts = []
    for key, value in inputs.items():
        if isinstance(value[0], list):
            parts.append(f' "{key}": [\n' + ",\n".join("  " + json.dumps(r) for r in value) + "\n ]")
        else:
            parts.append(f' "{key}": {json.dumps(value)}')
    with open(file, "w") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


def write_student():
    """h12 + seeded noise as its own HF folder (config.json and vocab.txt copied byte for byte)."""
    os.makedirs(path(STUDENT), exist_ok=True)
    for name in ("config.json", "vocab.txt"):
        shutil.copyfile(path(f"{GOLDEN}/h12/{name}"), path(f"{STUDENT}/{name}"))
    _, teacher = load_model(GOLDEN + "/h12")
    g = torch.Generator().manual_seed(STUDENT_SEED)
    student = {k: teacher[k] + torch.randn(teacher[k].shape, generator=g) * STUDENT_NOISE_STD for k in sorted(teacher)}
    write_safetensors(path(STUDENT + "/model.safetensors"), hf_names(student), "F32")
    _, back = load_model(STUDENT)
    assert all(torch.equal(back[k], student[k]) for k in student), "student weights changed on round trip"


# ---------------------------------------------------------------- checks


def reach_masks(cfg, params, batch, opts):
    """{name: bool tensor}: True where some sub-network of the step can move the loss.

    Built from the slicing rules directly, not from the gradients, so the
    exact-zero check below tests the forward/backward slicing."""
    masks = {k: torch.zeros(v.shape, dtype=torch.bool) for k, v in params.items()}
    heads_total, head_dim = cfg["num_attention_heads"], ref.head_size(cfg)
    for width, depth in tr.schedule(opts.widths, opts.depths):
        attn = ref.kept_heads(heads_total, width) * head_dim
        inter = ref.width_sliced_size(heads_total, width, cfg["intermediate_size"])
        for layer in ref.kept_layers(cfg["num_hidden_layers"], depth):
            p = f"encoder.layer.{layer}."
            for n in ("query", "key", "value"):
                masks[p + f"attention.self.{n}.weight"][:attn] = True
                masks[p + f"attention.self.{n}.bias"][:attn] = True
            masks[p + "attention.output.dense.weight"][:, :attn] = True
            masks[p + "intermediate.dense.weight"][:inter] = True
            masks[p + "intermediate.dense.bias"][:inter] = True
            masks[p + "output.dense.weight"][:, :inter] = True
            for n in ("attention.output.dense.bias", "output.dense.bias", "attention.output.LayerNorm.weight",
                      "attention.output.LayerNorm.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"):
                masks[p + n][:] = True
    used_words = sorted(set(batch.input_ids.flatten().tolist()) - {cfg["pad_token_id"]})
    masks["embeddings.word_embeddings.weight"][used_words] = True
    masks["embeddings.position_embeddings.weight"][: batch.input_ids.shape[1]] = True
    masks["embeddings.token_type_embeddings.weight"][sorted(set(batch.token_type_ids.flatten().tolist()))] = True
    for k in masks:
        if k.startswith(("embeddings.LayerNorm.", "pooler.", "classifier.")):
            masks[k][:] = True
    return masks


def check_reach(name, grads, masks, norm):
    """Exactly 0 outside the reach, nonzero everywhere inside it (rounding noise
    for the analytically-zero key biases). Returns element counts."""
    outside = inside = 0
    for k, g in grads.items():
        m = masks[k]
        bad = (g[~m] != 0).sum().item()
        assert bad == 0, f"{name}: {k} has {bad} nonzero gradients outside the kept slices"
        if k.endswith(ANALYTICALLY_ZERO):
            assert g.norm().item() <= ZERO_TOL_F64 * norm, f"{name}: {k} = {g.norm().item()} should be ~0"
        else:
            zero = (g[m] == 0).sum().item()
            assert zero == 0, f"{name}: {k} has {zero} exactly-zero gradients inside the kept slices"
        outside += (~m).sum().item()
        inside += m.sum().item()
    return {"elements_exactly_zero_outside_reach": outside, "elements_nonzero_inside_reach": inside}


def central_difference(loss_at, h=FD_STEP):
    """d/dt loss_at(t) at 0 with the 4-point stencil (error O(h⁴))."""
    return (8 * (loss_at(h) - loss_at(-h)) - (loss_at(2 * h) - loss_at(-2 * h))) / (12 * h)


def perturbed(params, key, index, t):
    out = dict(params)
    out[key] = params[key].clone()
    out[key][index] += t
    return out


def check_finite_differences(name, opts, params, cfg, batch, teacher, grads, masks, pad_row):
    """Autograd vs a central difference of the float64 total loss at sampled elements:
    in-reach elements agree to FD_REL_TOL, out-of-reach ones leave the loss bit-identical."""
    rng = random.Random(name)
    results = []
    base = tr.total_loss(opts, params, cfg, batch, teacher)

    def pick(candidates_of, exclude_zero=True):
        keys = [k for k in sorted(params) if candidates_of(k).any() and not (exclude_zero and k.endswith(ANALYTICALLY_ZERO))]
        k = rng.choice(keys)
        flat = candidates_of(k).flatten().nonzero().flatten().tolist()
        return k, tuple(int(i) for i in np.unravel_index(rng.choice(flat), tuple(params[k].shape)))

    for _ in range(FD_SAMPLES_IN):
        # Elements with a gradient near the tensor's largest, so 1e-6 relative is above FD noise.
        k, idx = pick(lambda k: masks[k] & (grads[k].abs() >= 1e-2 * grads[k].abs().max()))
        fd = central_difference(lambda t: tr.total_loss(opts, perturbed(params, k, idx, t), cfg, batch, teacher))
        ag = grads[k][idx].item()
        rel = abs(fd - ag) / abs(ag)
        assert rel <= FD_REL_TOL, f"{name}: {k}{list(idx)} autograd {ag} vs finite difference {fd} (rel {rel:.1e})"
        results.append({"param": k, "index": list(idx), "autograd": ag, "finite_difference": fd, "rel_diff": rel})
    for _ in range(FD_SAMPLES_OUT):
        not_pad = lambda k: ~masks[k] if k != pad_row[0] else ~masks[k] & (torch.arange(params[k].shape[0]) != pad_row[1])[:, None]  # noqa: E731
        k, idx = pick(not_pad)
        moved = tr.total_loss(opts, perturbed(params, k, idx, 0.5), cfg, batch, teacher)
        assert moved == base, f"{name}: out-of-reach {k}{list(idx)} changed the loss by {moved - base}"
        results.append({"param": k, "index": list(idx), "autograd": grads[k][idx].item(), "finite_difference": 0.0,
                        "rel_diff": 0.0})
    # A reached key-bias element: a large nudge moves the loss by rounding only.
    k, idx = pick(lambda k: masks[k] if k.endswith(ANALYTICALLY_ZERO) else torch.zeros(1, dtype=torch.bool), False)
    moved = tr.total_loss(opts, perturbed(params, k, idx, 0.5), cfg, batch, teacher) - base
    assert abs(moved) <= 1e-12 * abs(base), f"{name}: key bias {k}{list(idx)} moved the loss by {moved}"
    results.append({"param": k, "index": list(idx), "autograd": grads[k][idx].item(), "loss_change_for_0.5": moved,
                    "rel_diff": 0.0})
    return results


def compare_like_engine(name, grads, ref_grads, norm):
    """The engine test's comparison (README), applied to our float32 rerun."""
    worst_tensor, worst_elem, worst_name, worst_zero = 0.0, 0.0, None, 0.0
    for k, r in ref_grads.items():
        g = grads[k].double()
        if k.endswith(ANALYTICALLY_ZERO):
            worst_zero = max(worst_zero, g.norm().item() / norm)
            continue
        assert torch.equal(g[r == 0], torch.zeros_like(g[r == 0])), f"{name}: f32 {k} nonzero where the f64 gradient is 0"
        rel = ((g - r).norm() / max(r.norm().item(), TINY)).item()
        elem = ((g - r).abs().max() / max(r.abs().max().item(), TINY)).item()
        if rel > worst_tensor:
            worst_tensor, worst_name = rel, k
        worst_elem = max(worst_elem, elem)
    assert worst_tensor * SELF_MARGIN <= REL_TOL, f"{name}: f32 gradient {worst_name} off f64 by {worst_tensor:.1e}"
    assert worst_elem * SELF_MARGIN <= REL_TOL, f"{name}: an f32 gradient element off f64 by {worst_elem:.1e} of its tensor max"
    assert worst_zero * SELF_MARGIN <= ZERO_TOL, f"{name}: f32 key bias gradient {worst_zero:.1e} of the global norm"
    return {"max_tensor_rel": worst_tensor, "worst_tensor": worst_name, "max_element_dev_over_tensor_max": worst_elem,
            "max_key_bias_norm_over_global_norm": worst_zero}


def rel_diff(a, b):
    return abs(a - b) / max(abs(b), TINY)


# ---------------------------------------------------------------- cases


def run_step(opts, params, teacher_params, cfg, batch, dtype):
    cast = lambda p: {k: v.to(dtype) for k, v in p.items()}  # noqa: E731
    student = cast(params)
    teacher = tr.TeacherOutputs(cast(teacher_params), cfg, batch) if teacher_params is not None else None
    subnets, grads, norm, pad_row_norm = tr.grad_step(opts, student, cfg, batch, teacher)
    return student, teacher, subnets, grads, norm, pad_row_norm


NOTES = {
    "finetune": "task loss: cross-entropy vs labels, mean over the batch; lambdas and teacher unused",
    "width": "DynaBERT_W distillation: teacher at full width and depth, no gradients; student state j meets "
             "teacher state j",
    "depth": "DynaBERT distillation: teacher at width w (teacher_width same) or 1 (full), full depth, no "
             "gradients; student state j meets teacher state teacher_states[j] of [emb, layer0_out, ...]",
}


def subnet_entry(opts, cfg, width, depth, kept, loss):
    heads_total, layers = cfg["num_attention_heads"], cfg["num_hidden_layers"]
    entry = {"width": width, "depth": depth, "kept_layers": kept, "heads": ref.kept_heads(heads_total, width),
             "intermediate": ref.width_sliced_size(heads_total, width, cfg["intermediate_size"]), "loss": loss}
    if opts.phase in tr.DISTILL_PHASES:
        entry["teacher_width"] = width if opts.teacher_width == "same" else 1.0
        entry["teacher_states"] = tr.teacher_state_index(layers, kept)
    return entry


def write_case(folder, fixture, opts, student_folder, teacher_folder, store_grads, log):
    name = folder
    cfg, params = load_model(student_folder)
    teacher_params = load_model(teacher_folder)[1] if teacher_folder else None
    inputs = load_inputs(fixture)
    batch = tr.Batch(inputs)

    p64, teacher64, subnets, grads, norm, pad_row_norm = run_step(opts, params, teacher_params, cfg, batch, torch.float64)
    _, _, subnets32, grads32, norm32, _ = run_step(opts, params, teacher_params, cfg, batch, torch.float32)
    total = sum(s[3] for s in subnets)
    total32 = sum(s[3] for s in subnets32)

    masks = reach_masks(cfg, params, batch, opts)
    reach = check_reach(name, grads, masks, norm)
    fd = check_finite_differences(name, opts, p64, cfg, batch, teacher64, grads, masks,
                                  (tr.PAD_ROW_PARAM, cfg["pad_token_id"]))
    for k in grads:
        if k.endswith(ANALYTICALLY_ZERO):
            grads[k] = torch.zeros_like(grads[k])
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values())).item()
    f32 = compare_like_engine(name, grads32, grads, norm)
    f32["total_loss_rel"] = rel_diff(total32, total)
    f32["grad_global_norm_rel"] = rel_diff(norm32, norm)
    f32["max_subnet_loss_rel"] = max(rel_diff(a[3], b[3]) for a, b in zip(subnets32, subnets))
    for key in ("total_loss_rel", "grad_global_norm_rel", "max_subnet_loss_rel"):
        assert f32[key] * SELF_MARGIN <= REL_TOL_SCALAR, f"{name}: f32 {key} = {f32[key]:.1e}"

    out = path(f"{OUT}/{folder}")
    os.makedirs(out, exist_ok=True)
    write_input(os.path.join(out, "input.json"), inputs)
    stored_names = sorted(read_safetensors(path(student_folder + "/model.safetensors")))
    named = hf_names(grads)
    assert sorted(named) == stored_names, f"{name}: gradient names differ from the checkpoint's"
    if store_grads:
        write_safetensors(os.path.join(out, "grads.safetensors"), named, "F32")
    write_json(os.path.join(out, "case.json"), {
        "command": "grad",
        "phase": opts.phase,
        "widths": opts.widths,
        "depths": opts.depths,
        "lambda_logit": opts.lambda_logit,
        "lambda_emb": opts.lambda_emb,
        "lambda_hidden": opts.lambda_hidden,
        "teacher_width": opts.teacher_width,
        "student": student_folder,
        "teacher": teacher_folder,
        "input": "input.json",
        "notes": NOTES[opts.phase],
        "total_loss": total,
        "grad_global_norm": norm,
        "subnets": [subnet_entry(opts, cfg, *s) for s in subnets],
        "grads": "grads.safetensors" if store_grads else None,
        "grad_norms": {k: named[k].norm().item() for k in sorted(named)},
        "analytically_zero": sorted(k for k in named if k.endswith(ANALYTICALLY_ZERO)),
        "tolerance": {"rel_per_tensor": REL_TOL, "rel_per_element_of_tensor_max": REL_TOL,
                      "rel_losses_and_global_norm": REL_TOL_SCALAR, "tiny": TINY,
                      "analytically_zero_norm_over_global_norm": ZERO_TOL},
        "f32_vs_f64": f32,
        "self_check": dict(reach, pad_row_grad_norm_dropped_by_padding_idx=pad_row_norm, finite_differences=fd,
                           max_fd_rel_diff=max(r["rel_diff"] for r in fd)),
    })
    log(f"  {folder:30s} loss {total:.6f}  |g| {norm:.6f}  subnets {len(subnets)}  "
        f"f32 tensor {f32['max_tensor_rel']:.1e} elem {f32['max_element_dev_over_tensor_max']:.1e}  "
        f"fd {max(r['rel_diff'] for r in fd):.1e}{'' if store_grads else '  (no grads file)'}")
    return {"case": folder, "phase": opts.phase, "total_loss": total, "grad_global_norm": norm}


def write_importance_case(log):
    folder, model = "importance/h12", GOLDEN + "/h12"
    cfg, params = load_model(model)
    inputs = load_inputs("h12")
    batch = tr.Batch(inputs)
    p64 = {k: v.double() for k, v in params.items()}
    loss, mask_grad, head_imp, neuron_imp, grads = tr.importance(p64, cfg, batch)
    loss32, mask_grad32, _, neuron_imp32, _ = tr.importance(params, cfg, batch)

    # The plain finetune step must give the same parameter gradients (mask of ones is a no-op).
    _, plain, _, _ = tr.grad_step(tr.Options("finetune", [1.0], [1.0]), p64, cfg, batch, None)
    assert all(torch.equal(plain[k], grads[k]) for k in grads), "head mask of ones changed the gradients"

    ones = torch.ones(cfg["num_hidden_layers"], cfg["num_attention_heads"], dtype=torch.float64)
    opts = tr.Options("finetune", [1.0], [1.0])

    def loss_with(p, mask):
        with torch.no_grad():
            return tr.subnet_loss(opts, p, cfg, batch, 1.0, 1.0, None, head_mask=mask).item()

    rng = random.Random(folder)
    checks = []
    for _ in range(6):
        l, h = rng.randrange(cfg["num_hidden_layers"]), rng.randrange(cfg["num_attention_heads"])
        fd = central_difference(lambda t: loss_with(p64, perturbed({"m": ones}, "m", (l, h), t)["m"]))
        rel = rel_diff(fd, mask_grad[l, h].item())
        assert rel <= FD_REL_TOL, f"{folder}: head mask [{l}][{h}] autograd {mask_grad[l, h].item()} vs fd {fd}"
        checks.append({"head_mask": [l, h], "autograd": mask_grad[l, h].item(), "finite_difference": fd, "rel_diff": rel})
    # Independent route to neuron importance: Σ W1·∂W1 + b1·∂b1 is d/dt of the loss with
    # neuron j's W1 row and b1 scaled by (1+t); Σ W2·∂W2 likewise for its W2 column.
    for _ in range(6):
        l, j = rng.randrange(cfg["num_hidden_layers"]), rng.randrange(cfg["intermediate_size"])
        p = f"encoder.layer.{l}."

        def scaled(t, which):
            q = dict(p64)
            for key, index in which:
                q[key] = p64[key].clone()
                q[key][index] *= 1 + t
            return loss_with(q, None)

        inner = central_difference(lambda t: scaled(t, [(p + "intermediate.dense.weight", j), (p + "intermediate.dense.bias", j)]))
        outer = central_difference(lambda t: scaled(t, [(p + "output.dense.weight", (slice(None), j))]))
        fd = abs(inner) + abs(outer)
        rel = rel_diff(fd, neuron_imp[l, j].item())
        assert rel <= FD_REL_TOL, f"{folder}: neuron [{l}][{j}] importance {neuron_imp[l, j].item()} vs scaling fd {fd}"
        checks.append({"neuron": [l, j], "importance": neuron_imp[l, j].item(), "finite_difference": fd, "rel_diff": rel})

    mask_dev = ((mask_grad32.double() - mask_grad).abs().max() / mask_grad.abs().max()).item()
    neuron_dev = ((neuron_imp32.double() - neuron_imp).abs().max() / neuron_imp.abs().max()).item()
    loss_dev = rel_diff(loss32, loss)
    assert max(mask_dev, neuron_dev) * SELF_MARGIN <= REL_TOL and loss_dev * SELF_MARGIN <= REL_TOL_SCALAR, \
        f"{folder}: f32 importance too far from f64 ({mask_dev:.1e}, {neuron_dev:.1e}, {loss_dev:.1e})"

    out = path(f"{OUT}/{folder}")
    os.makedirs(out, exist_ok=True)
    write_input(os.path.join(out, "input.json"), inputs)
    write_json(os.path.join(out, "case.json"), {
        "command": "importance",
        "model": model,
        "input": "input.json",
        "notes": "one batch, full width and depth, loss = cross-entropy vs labels (mean over the batch); "
                 "parameter gradients are those of finetune/h12_w1_d1; compare values with a tolerance, "
                 "not orderings (near-equal importances may swap in f32)",
        "loss": loss,
        "head_mask_grad": mask_grad.tolist(),
        "head_importance": head_imp.tolist(),
        "neuron_importance": neuron_imp.tolist(),
        "tolerance": {"rel_of_max": REL_TOL, "rel_loss": REL_TOL_SCALAR},
        "f32_vs_f64": {"head_mask_grad_max_dev_over_max": mask_dev, "neuron_importance_max_dev_over_max": neuron_dev,
                       "loss_rel": loss_dev},
        "self_check": {"finite_differences": checks, "max_fd_rel_diff": max(c["rel_diff"] for c in checks)},
    })
    log(f"  {folder:30s} loss {loss:.6f}  max|dL/dm| {head_imp.max().item():.4f}  "
        f"max neuron {neuron_imp.max().item():.4f}  f32 {max(mask_dev, neuron_dev):.1e}")
    return {"case": folder, "phase": "importance", "loss": loss}


def tree_size(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    assert tr.schedule([0.5, 1.0], [0.5, 1.0]) == [(1.0, 1.0), (0.5, 1.0), (1.0, 0.5), (0.5, 0.5)]
    assert tr.teacher_state_index(6, [0, 2, 4]) == [0, 2, 4, 6]
    if os.path.isdir(path(OUT)):
        shutil.rmtree(path(OUT))  # no stale case folders
    write_student()
    print(f"writing {OUT}")
    index = [write_case(*case, log=print) for case in case_list()]
    index.append(write_importance_case(print))
    write_json(path(OUT + "/cases.json"), index)
    total = tree_size(path(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB")
    assert total < SIZE_LIMIT, f"gradient fixtures must stay under {SIZE_LIMIT / 1e6:g} MB"


if __name__ == "__main__":
    main()
