"""Golden masked-LM loss and gradients for `dynabert pretrain`, from PyTorch autograd.

Run: /usr/bin/python3 scripts/golden/gen_mlm.py   (after gen_inference.py; ~3 s)
Reads the committed encoder tests/fixtures/golden/h12 and writes
tests/fixtures/mlm/ (1.05 MB, limit 1.5 MB asserted; byte-identical on rerun):
  head.safetensors     the seeded random head, cls.predictions.* (F32)
  input.json           the corrupted batch: input_ids, attention_mask, token_type_ids, labels [3][9] (-100 = not predicted)
  cases.json           index: model, head, input, [{case, width, depth, loss, grad_global_norm}]
  cases/<case>/        case.json (loss, global norm, kept layers, tolerances, self-checks) and
                       grads.safetensors: the gradient of every trained tensor under its HF
                       BertForMaskedLM name (bert.* without pooler and classifier, cls.predictions.*)
Cases: full model (w1_d1) and the sub-network width 0.5, depth 0.75 (layers 0,1,2,4).
The engine test compares as tests/train/grad-golden.test.ts does (scripts/golden/README.md,
"How the engine test should compare"), plus the pad row of the word embeddings on its own.

The head is HF's BertForMaskedLM `cls.predictions`: dense D→D → exact GELU →
LayerNorm(layer_norm_eps) → decoder tied to the word embeddings
(logits = h·Eᵀ + cls.predictions.bias). Logits are computed at every position
and the loss is F.cross_entropy(ignore_index=-100), mean over the labelled
positions, exactly as BertForMaskedLM does; the word-embedding lookup uses
F.embedding(padding_idx=pad_token_id) like HF's nn.Embedding, so the pad
row's gradient is the decoder's alone. Values in float64 from the stored
float32 weights; checked by finite differences, exact zeros outside the kept
slices, the pad-row rule, and a float32 rerun that must pass the engine's
comparison with a 10x margin. Deterministic: fixed seeds, one thread.
"""

import json
import os
import random
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bert_reference as ref  # noqa: E402
import gen_grads as gg  # noqa: E402  (shared helpers: files, reach masks, finite differences)
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

MODEL = "tests/fixtures/golden/h12"
OUT = "tests/fixtures/mlm"
SIZE_LIMIT = 1_500_000
HEAD_SEED = 2024
WORD = "embeddings.word_embeddings.weight"
IGNORE = -100

# The corrupted batch: h12's inputs with BERT-style corruption at fixed positions.
# Row 0 (a sentence pair): pos 1 and 7 → [MASK] (id 4), pos 3 → random token 17,
# pos 6 kept as itself. Row 1: pos 2 → [MASK], pos 3 → random token 0 — the pad
# id at a real position, so padding_idx must drop its lookup gradient while the
# decoder's gradient for row 0 still flows. Row 2 ([CLS] only) predicts nothing.
MASKED = {
    "input_ids": [
        [2, 4, 64, 17, 3, 72, 114, 4, 3],
        [2, 89, 4, 0, 3, 0, 0, 0, 0],
        [2, 0, 0, 0, 0, 0, 0, 0, 0],
    ],
    "labels": [
        [IGNORE, 87, IGNORE, 113, IGNORE, IGNORE, 114, 116, IGNORE],
        [IGNORE, IGNORE, 7, 63, IGNORE, IGNORE, IGNORE, IGNORE, IGNORE],
        [IGNORE] * 9,
    ],
}

CASES = [("w1_d1", 1.0, 1.0), ("w0.5_d0.75", 0.5, 0.75)]

HEAD_NAMES = {
    "dense_w": "cls.predictions.transform.dense.weight",
    "dense_b": "cls.predictions.transform.dense.bias",
    "ln_w": "cls.predictions.transform.LayerNorm.weight",
    "ln_b": "cls.predictions.transform.LayerNorm.bias",
    "bias": "cls.predictions.bias",
}


# Added to the [PAD] token's output bias: makes softmax give [PAD] a real share,
# so the decoder's gradient of the pad row (the one padding_idx must not drop)
# is of the size of the other rows' instead of ~1e-4 of the tensor's norm.
PAD_BIAS_BOOST = 9.0


def random_head(cfg):
    """Head weights far from BERT's init (std 0.02) so a wrong op shows: dense std 0.2, LN γ 1 ± 0.2."""
    d, v = cfg["hidden_size"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(HEAD_SEED)
    n = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
    head = {
        HEAD_NAMES["dense_w"]: n(d, d) * 0.2,
        HEAD_NAMES["dense_b"]: n(d) * 0.1,
        HEAD_NAMES["ln_w"]: 1 + n(d) * 0.2,
        HEAD_NAMES["ln_b"]: n(d) * 0.1,
        HEAD_NAMES["bias"]: n(v) * 0.5,
    }
    head[HEAD_NAMES["bias"]][cfg["pad_token_id"]] += PAD_BIAS_BOOST
    return head


class Batch:
    def __init__(self, inputs):
        self.input_ids = torch.tensor(inputs["input_ids"])
        self.attention_mask = torch.tensor(inputs["attention_mask"])
        self.token_type_ids = torch.tensor(inputs["token_type_ids"])
        self.labels = torch.tensor(inputs["labels"])


def mlm_loss(params, cfg, batch, width, depth, lookup="padding_idx"):
    """BertForMaskedLM's loss of the (width, depth) sub-network. `params` holds the
    encoder (BertModel names) and the head (cls.predictions.*). `lookup` is HF's
    "padding_idx" embedding; the pad-row check also uses "detached" (no lookup
    gradient at all) and "plain" (the true derivative, pad row included)."""
    dtype = params[WORD].dtype
    eps = cfg["layer_norm_eps"]
    heads = ref.kept_heads(cfg["num_attention_heads"], width)
    inter = ref.width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"])
    mask_add = ((1.0 - batch.attention_mask.to(dtype)) * ref.MASK_NEG)[:, None, None, :]
    seq = batch.input_ids.shape[1]
    if lookup == "padding_idx":
        x = F.embedding(batch.input_ids, params[WORD], padding_idx=cfg["pad_token_id"])
    else:
        x = F.embedding(batch.input_ids, params[WORD].detach() if lookup == "detached" else params[WORD])
    x = x + params["embeddings.token_type_embeddings.weight"][batch.token_type_ids]
    x = x + params["embeddings.position_embeddings.weight"][torch.arange(seq)][None, :, :]
    x = ref.layer_norm(x, params, "embeddings.LayerNorm", eps)
    for layer in ref.kept_layers(cfg["num_hidden_layers"], depth):
        x = ref.encoder_layer(params, cfg, layer, x, mask_add, heads, inter)
    h = F.gelu(F.linear(x, params[HEAD_NAMES["dense_w"]], params[HEAD_NAMES["dense_b"]]))
    h = F.layer_norm(h, (h.shape[-1],), params[HEAD_NAMES["ln_w"]], params[HEAD_NAMES["ln_b"]], eps)
    logits = F.linear(h, params[WORD], params[HEAD_NAMES["bias"]])  # the tied decoder
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), batch.labels.view(-1), ignore_index=IGNORE)


def trained_params(encoder, head):
    """What pre-training updates: the encoder without pooler and classifier, plus the head."""
    out = {k: v for k, v in encoder.items() if not k.startswith(("pooler.", "classifier."))}
    out.update(head)
    return out


def hf_name(k):
    return k if k.startswith("cls.") else "bert." + k


def grads_of(params, cfg, batch, width, depth):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    loss = mlm_loss(leaves, cfg, batch, width, depth)
    loss.backward()
    return loss.item(), {k: (v.grad if v.grad is not None else torch.zeros_like(v)).detach() for k, v in leaves.items()}


def loss_value(params, cfg, batch, width, depth):
    with torch.no_grad():
        return mlm_loss(params, cfg, batch, width, depth).item()


def gathered_loss(params, cfg, batch, width, depth):
    """The same loss computed the engine's way — head on the labelled rows only — as a cross-check."""
    with torch.no_grad():
        full = mlm_loss(params, cfg, batch, width, depth).item()
        keep = batch.labels.view(-1) != IGNORE
        # Rebuild the last hidden state, then run the head on the kept rows.
        p = params
        dtype = p[WORD].dtype
        heads = ref.kept_heads(cfg["num_attention_heads"], width)
        inter = ref.width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"])
        mask_add = ((1.0 - batch.attention_mask.to(dtype)) * ref.MASK_NEG)[:, None, None, :]
        x = ref.embed(p, cfg, batch.input_ids, batch.token_type_ids)
        for layer in ref.kept_layers(cfg["num_hidden_layers"], depth):
            x = ref.encoder_layer(p, cfg, layer, x, mask_add, heads, inter)
        rows = x.reshape(-1, x.shape[-1])[keep]
        h = F.gelu(rows @ p[HEAD_NAMES["dense_w"]].T + p[HEAD_NAMES["dense_b"]])
        h = F.layer_norm(h, (h.shape[-1],), p[HEAD_NAMES["ln_w"]], p[HEAD_NAMES["ln_b"]], cfg["layer_norm_eps"])
        logits = h @ p[WORD].T + p[HEAD_NAMES["bias"]]
        gathered = (torch.logsumexp(logits, -1) - logits.gather(1, batch.labels.view(-1)[keep][:, None])[:, 0]).mean().item()
    return full, gathered


def pad_row_check(params, cfg, batch, width, depth, grads):
    """HF's rule: padding_idx zeroes the lookup's gradient of the pad row only. The pad row's
    gradient must equal the decoder's alone (autograd with the lookup detached), and differ
    from the true derivative here (the pad id sits at a real position of row 1)."""
    pad = cfg["pad_token_id"]

    def pad_row_grad(lookup):
        leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        mlm_loss(leaves, cfg, batch, width, depth, lookup).backward()
        return leaves[WORD].grad[pad]

    decoder_only = pad_row_grad("detached")
    assert torch.allclose(grads[WORD][pad], decoder_only, rtol=1e-12, atol=1e-15), "pad row gradient is not the decoder's alone"
    assert decoder_only.norm().item() > 0, "the decoder gives the pad row no gradient"
    lookup_part = (pad_row_grad("plain") - decoder_only).norm().item()
    assert lookup_part > 1e-6, "the lookup's pad-row gradient is zero anyway: the batch does not test padding_idx"
    return {"pad_row_grad_norm": decoder_only.norm().item(), "lookup_part_dropped_by_padding_idx": lookup_part}


def reach(cfg, params, batch, width, depth):
    """gen_grads' slicing masks for this sub-network; every word-embedding row is reached (the
    decoder scores the whole vocabulary) and every head element too."""
    opts = type("Opts", (), {"widths": [width], "depths": [depth]})()
    enc = {k: v for k, v in params.items() if not k.startswith("cls.")}
    masks = gg.reach_masks(cfg, enc, batch, opts)
    masks[WORD][:] = True
    for k in params:
        if k.startswith("cls."):
            masks[k] = torch.ones(params[k].shape, dtype=torch.bool)
    return masks


def finite_differences(name, params, cfg, batch, width, depth, grads, masks):
    rng = random.Random(name)
    pad = cfg["pad_token_id"]
    results = []
    eligible = lambda k: masks[k] & (grads[k].abs() >= 1e-2 * grads[k].abs().max())  # noqa: E731
    keys = [k for k in sorted(params) if not k.endswith(gg.ANALYTICALLY_ZERO) and eligible(k).any()]
    # Always probe the head, a decoder-only word row and a sampled spread of the rest.
    picks = [HEAD_NAMES["dense_w"], HEAD_NAMES["bias"], HEAD_NAMES["ln_w"], WORD] + [rng.choice(keys) for _ in range(6)]
    for k in picks:
        cand = eligible(k)
        if k == WORD:
            cand = cand.clone()
            cand[pad] = False  # the pad row's gradient is not the derivative (padding_idx), checked separately
            used = set(batch.input_ids.flatten().tolist())
            cand[sorted(used)] = False  # a row used only by the decoder
        flat = cand.flatten().nonzero().flatten().tolist()
        idx = tuple(int(i) for i in np.unravel_index(rng.choice(flat), tuple(params[k].shape)))
        fd = gg.central_difference(lambda t: loss_value(gg.perturbed(params, k, idx, t), cfg, batch, width, depth))
        ag = grads[k][idx].item()
        rel = abs(fd - ag) / abs(ag)
        assert rel <= gg.FD_REL_TOL, f"{name}: {k}{list(idx)} autograd {ag} vs finite difference {fd} (rel {rel:.1e})"
        results.append({"param": hf_name(k), "index": list(idx), "autograd": ag, "finite_difference": fd, "rel_diff": rel})
    return results


def write_case(folder, width, depth, cfg, params, batch, log):
    name = folder
    p64 = {k: v.double() for k, v in params.items()}
    loss, grads = grads_of(p64, cfg, batch, width, depth)
    loss32, grads32 = grads_of(params, cfg, batch, width, depth)
    full, gathered = gathered_loss(p64, cfg, batch, width, depth)
    assert abs(full - gathered) <= 1e-12 * abs(full), f"{name}: gathered-rows loss {gathered} vs all-rows {full}"

    masks = reach(cfg, params, batch, width, depth)
    norm0 = torch.sqrt(sum((g ** 2).sum() for g in grads.values())).item()
    reached = gg.check_reach(name, grads, masks, norm0)
    pad = pad_row_check(p64, cfg, batch, width, depth, grads)
    fd = finite_differences(name, p64, cfg, batch, width, depth, grads, masks)
    for k in grads:
        if k.endswith(gg.ANALYTICALLY_ZERO):
            grads[k] = torch.zeros_like(grads[k])
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values())).item()
    f32 = gg.compare_like_engine(name, grads32, grads, norm)
    norm32 = torch.sqrt(sum((g.double() ** 2).sum() for g in grads32.values())).item()
    # The pad row is also compared on its own (its norm is small next to the tensor's).
    pad_id = cfg["pad_token_id"]
    f32["pad_row_rel"] = ((grads32[WORD][pad_id].double() - grads[WORD][pad_id]).norm() / grads[WORD][pad_id].norm()).item()
    assert f32["pad_row_rel"] * gg.SELF_MARGIN <= gg.REL_TOL, f"{name}: f32 pad row off f64 by {f32['pad_row_rel']:.1e}"
    pad["pad_row_norm_over_word_grad_norm"] = (grads[WORD][pad_id].norm() / grads[WORD].norm()).item()
    f32["loss_rel"] = gg.rel_diff(loss32, loss)
    f32["grad_global_norm_rel"] = gg.rel_diff(norm32, norm)
    for key in ("loss_rel", "grad_global_norm_rel"):
        assert f32[key] * gg.SELF_MARGIN <= gg.REL_TOL_SCALAR, f"{name}: f32 {key} = {f32[key]:.1e}"

    out = gg.path(f"{OUT}/cases/{folder}")
    os.makedirs(out, exist_ok=True)
    named = {hf_name(k): v for k, v in grads.items()}
    write_safetensors(os.path.join(out, "grads.safetensors"), named, "F32")
    gg.write_json(os.path.join(out, "case.json"), {
        "width": width,
        "depth": depth,
        "kept_layers": ref.kept_layers(cfg["num_hidden_layers"], depth),
        "heads": ref.kept_heads(cfg["num_attention_heads"], width),
        "intermediate": ref.width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"]),
        "loss": loss,
        "grad_global_norm": norm,
        "grads": "grads.safetensors",
        "pad_row": {"tensor": hf_name(WORD), "row": cfg["pad_token_id"]},
        "analytically_zero": sorted(k for k in named if k.endswith(gg.ANALYTICALLY_ZERO)),
        "tolerance": {"rel_per_tensor": gg.REL_TOL, "rel_per_element_of_tensor_max": gg.REL_TOL,
                      "rel_loss_and_global_norm": gg.REL_TOL_SCALAR, "analytically_zero_norm_over_global_norm": gg.ZERO_TOL},
        "f32_vs_f64": f32,
        "self_check": dict(reached, pad_row=pad, gathered_rows_loss=gathered, finite_differences=fd,
                           max_fd_rel_diff=max(r["rel_diff"] for r in fd)),
    })
    log(f"  {folder:12s} loss {loss:.6f}  |g| {norm:.6f}  f32 tensor {f32['max_tensor_rel']:.1e} "
        f"elem {f32['max_element_dev_over_tensor_max']:.1e}  fd {max(r['rel_diff'] for r in fd):.1e}  "
        f"pad row |g| {pad['pad_row_grad_norm']:.3f} (lookup part dropped {pad['lookup_part_dropped_by_padding_idx']:.3f})")
    return {"case": folder, "width": width, "depth": depth, "loss": loss, "grad_global_norm": norm}


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if os.path.isdir(gg.path(OUT)):
        shutil.rmtree(gg.path(OUT))
    os.makedirs(gg.path(OUT))
    cfg, encoder = gg.load_model(MODEL)
    head = random_head(cfg)
    write_safetensors(gg.path(OUT + "/head.safetensors"), head, "F32")
    assert all(torch.equal(read_safetensors(gg.path(OUT + "/head.safetensors"))[k], head[k]) for k in head)

    with open(gg.path(MODEL + "/inputs.json")) as f:
        inputs = json.load(f)
    inputs = {"input_ids": MASKED["input_ids"], "attention_mask": inputs["attention_mask"],
              "token_type_ids": inputs["token_type_ids"], "labels": MASKED["labels"]}
    gg.write_input(gg.path(OUT + "/input.json"), inputs)
    batch = Batch(inputs)
    params = trained_params(encoder, head)

    print(f"writing {OUT}")
    index = [write_case(folder, w, d, cfg, params, batch, print) for folder, w, d in CASES]
    gg.write_json(gg.path(OUT + "/cases.json"), {"model": MODEL, "head": "head.safetensors", "input": "input.json", "cases": index})
    total = gg.tree_size(gg.path(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB")
    assert total < SIZE_LIMIT, f"MLM fixtures must stay under {SIZE_LIMIT / 1e6:g} MB"


if __name__ == "__main__":
    main()
