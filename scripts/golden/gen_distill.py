"""Golden losses and gradients of one distillation step (`dynabert train --phase distill`), from PyTorch autograd.

Run: /usr/bin/python3 scripts/golden/gen_distill.py   (after gen_inference.py and gen_mlm.py; ~10 s)
Reads the committed teacher tests/fixtures/golden/h12 and the masked-LM head
tests/fixtures/mlm/head.safetensors (the teacher's head), and writes
tests/fixtures/distill/ (limit 1.5 MB asserted; byte-identical on rerun):
  input.json             the batch: h12's inputs with gen_mlm's masked ids, class labels [3] and
                         masked-LM labels [3][9] (-100 = not predicted)
  tinybert_student/      a TinyBERT-style student as an HF folder: 3 layers, hidden 36 (12 heads of 3),
                         intermediate 64, seeded weights far from init, its MLM head (cls.predictions.*)
                         in model.safetensors and W_p (fit_dense.weight [48][36], fit_dense.bias [48]) in
                         distill_projection.safetensors
  cases.json             index of the cases
  cases/<case>/          case.json (weights, T, soft target, every term's value, the weighted total,
                         global norm, per-term per-tensor gradient norms, tolerances, self-checks) and
                         grads.safetensors (the total's gradient of every trained tensor, HF names:
                         bert.*, classifier.*, cls.predictions.*, fit_dense.*)
Cases:
  tinybert    the student above, W_p on embeddings, hidden states and the cosine term; soft loss
              on classifier logits.
  distilbert  the student DistilBERT's initialisation builds: layers 0, 2, 4 copied as student
              layers 0, 1, 2 with embeddings, pooler, classifier and the teacher's MLM head (not
              stored: the engine builds it and must reproduce it). Copied from
              tests/fixtures/grads/h12_student (h12 + N(0, 0.02²) noise) rather than from h12
              itself, so that the embeddings and the copied layers differ from the teacher's and
              every term has a gradient (a copy of the teacher has emb = 0 exactly); soft loss on
              MLM logits at the non-padding positions.
Both weight every term (ce, soft, hidden, emb, attn, cos, mlm) non-zero, with temperature 2.

The loss (dropout off; teacher in float64 / float32 like the student, no gradients):
  ce     F.cross_entropy(student logits, labels)
  soft   T² · mean_rows −Σ softmax(t/T)·log_softmax(s/T)  over classifier logits [B] or MLM logits at
         the rows with attention mask 1 (DistilBERT's default) — KL·T² up to the teacher's entropy
  emb    F.mse_loss(P(s_0), t_0)
  hidden Σ_{j=1..Ls} F.mse_loss(P(s_j), t_{⌊j·Lt/Ls⌋})
  attn   Σ_{i<Ls} F.mse_loss(probs^s_i, probs^t_{⌊(i+1)·Lt/Ls⌋−1})  (softmax probabilities)
  cos    F.cosine_embedding_loss(P(s_L)[rows], t_L[rows], +1)  over the rows with attention mask 1
  mlm    F.cross_entropy(student MLM logits, mlm labels, ignore_index=-100)
P = W_p·x + b when the hidden sizes differ, else the identity; the MLM head is BertForMaskedLM's
(dense → GELU → LayerNorm → decoder tied to the word embeddings); the word-embedding lookup uses
padding_idx = pad_token_id as HF's nn.Embedding. Values in float64 from the stored float32 weights,
checked by finite differences, and by a float32 rerun that must pass the engine's comparison with a
10x margin; each term's per-tensor gradient norms are stored so a wrong term cannot hide in the sum.
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

import gen_grads as gg  # noqa: E402  (files, finite differences, the engine-like comparison)
import gen_inference as gi  # noqa: E402  (random far-from-init weights)
import gen_mlm as gm  # noqa: E402  (the masked batch, the head's names)
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

TEACHER = "tests/fixtures/golden/h12"
TEACHER_HEAD = "tests/fixtures/mlm/head.safetensors"
OUT = "tests/fixtures/distill"
TINY = OUT + "/tinybert_student"
SIZE_LIMIT = 1_500_000
WORD = "embeddings.word_embeddings.weight"
PROJ_W, PROJ_B = "fit_dense.weight", "fit_dense.bias"
TERMS = ("ce", "soft", "hidden", "emb", "attn", "cos", "mlm")
CLASS_LABELS = [2, 0, 1]

TINY_SHAPE = {"num_hidden_layers": 3, "hidden_size": 36, "num_attention_heads": 12, "intermediate_size": 64}
TINY_SEED, HEAD_SEED, PROJ_SEED = 4321, 8765, 97
PROJ_STD = 0.2
DISTIL_LAYERS = [0, 2, 4]
DISTIL_SOURCE = gg.STUDENT  # h12 + noise: what the DistilBERT student is copied from

CASES = [
    ("tinybert", {"ce": 0.5, "soft": 1.0, "hidden": 1.0, "emb": 1.0, "attn": 1.0, "cos": 0.5, "mlm": 1.0}, "classifier"),
    ("distilbert", {"ce": 0.5, "soft": 5.0, "hidden": 1.0, "emb": 0.5, "attn": 1.0, "cos": 1.0, "mlm": 2.0}, "mlm"),
]
TEMPERATURE = 2.0


# ---------------------------------------------------------------- models


class Batch:
    def __init__(self, inputs):
        self.input_ids = torch.tensor(inputs["input_ids"])
        self.attention_mask = torch.tensor(inputs["attention_mask"])
        self.token_type_ids = torch.tensor(inputs["token_type_ids"])
        self.labels = torch.tensor(inputs["labels"])
        self.mlm_labels = torch.tensor(inputs["mlm_labels"])
        self.rows = self.attention_mask.reshape(-1) == 1


def layer_norm(x, params, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), params[prefix + ".weight"], params[prefix + ".bias"], eps)


def encoder_layer(p, cfg, layer, x, mask_add):
    """One full-width BERT layer; returns (output, softmax probabilities [B,H,S,S])."""
    pre = f"encoder.layer.{layer}."
    b, s, d = x.shape
    heads = cfg["num_attention_heads"]
    hd = d // heads

    def project(name):
        return F.linear(x, p[pre + name + ".weight"], p[pre + name + ".bias"]).view(b, s, heads, hd).permute(0, 2, 1, 3)

    q, k, v = project("attention.self.query"), project("attention.self.key"), project("attention.self.value")
    probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / (hd ** 0.5) + mask_add, dim=-1)
    ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, d)
    h1 = layer_norm(F.linear(ctx, p[pre + "attention.output.dense.weight"], p[pre + "attention.output.dense.bias"]) + x,
                    p, pre + "attention.output.LayerNorm", cfg["layer_norm_eps"])
    inner = F.gelu(F.linear(h1, p[pre + "intermediate.dense.weight"], p[pre + "intermediate.dense.bias"]))
    out = F.linear(inner, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"])
    return layer_norm(out + h1, p, pre + "output.LayerNorm", cfg["layer_norm_eps"]), probs


def forward(p, cfg, batch):
    """(logits [B,K], hidden states [1+L] of [B,S,D], probs [L] of [B,H,S,S]) as HF BertForSequenceClassification in eval mode."""
    dtype = p[WORD].dtype
    mask_add = ((1.0 - batch.attention_mask.to(dtype)) * -10000.0)[:, None, None, :]
    seq = batch.input_ids.shape[1]
    x = F.embedding(batch.input_ids, p[WORD], padding_idx=cfg["pad_token_id"])
    x = x + p["embeddings.token_type_embeddings.weight"][batch.token_type_ids]
    x = x + p["embeddings.position_embeddings.weight"][torch.arange(seq)][None, :, :]
    x = layer_norm(x, p, "embeddings.LayerNorm", cfg["layer_norm_eps"])
    hidden, probs = [x], []
    for layer in range(cfg["num_hidden_layers"]):
        x, pr = encoder_layer(p, cfg, layer, x, mask_add)
        hidden.append(x)
        probs.append(pr)
    pooled = torch.tanh(F.linear(x[:, 0], p["pooler.dense.weight"], p["pooler.dense.bias"]))
    logits = F.linear(pooled, p["classifier.weight"], p["classifier.bias"])
    return logits, hidden, probs


def mlm_logits(p, cfg, x):
    """BertForMaskedLM's head on [B,S,D] (the decoder tied to the word embeddings) -> [B·S, V]."""
    n = gm.HEAD_NAMES
    h = F.gelu(F.linear(x, p[n["dense_w"]], p[n["dense_b"]]))
    h = F.layer_norm(h, (h.shape[-1],), p[n["ln_w"]], p[n["ln_b"]], cfg["layer_norm_eps"])
    return F.linear(h, p[WORD], p[n["bias"]]).reshape(-1, p[WORD].shape[0])


def soft_ce(s, t, temperature):
    return temperature ** 2 * (-(torch.softmax(t / temperature, -1) * torch.log_softmax(s / temperature, -1)).sum(-1)).mean()


def terms_of(sp, scfg, tp, tcfg, batch, soft_target, temperature):
    """Every term's value (tensors, differentiable in sp) for student params sp and teacher params tp."""
    s_logits, s_hidden, s_probs = forward(sp, scfg, batch)
    with torch.no_grad():
        t_logits, t_hidden, t_probs = forward(tp, tcfg, batch)
    ls, lt = scfg["num_hidden_layers"], tcfg["num_hidden_layers"]
    if scfg["hidden_size"] != tcfg["hidden_size"]:
        proj = lambda x: F.linear(x, sp[PROJ_W], sp[PROJ_B])  # noqa: E731
    else:
        proj = lambda x: x  # noqa: E731
    s_mlm = mlm_logits(sp, scfg, s_hidden[-1])
    out = {"ce": F.cross_entropy(s_logits, batch.labels)}
    if soft_target == "classifier":
        out["soft"] = soft_ce(s_logits, t_logits, temperature)
    else:
        with torch.no_grad():
            t_mlm = mlm_logits(tp, tcfg, t_hidden[-1])
        out["soft"] = soft_ce(s_mlm[batch.rows], t_mlm[batch.rows], temperature)
    out["emb"] = F.mse_loss(proj(s_hidden[0]), t_hidden[0])
    out["hidden"] = sum(F.mse_loss(proj(s_hidden[j]), t_hidden[j * lt // ls]) for j in range(1, ls + 1))
    out["attn"] = sum(F.mse_loss(s_probs[i], t_probs[(i + 1) * lt // ls - 1]) for i in range(ls))
    d_t = tcfg["hidden_size"]
    a = proj(s_hidden[-1]).reshape(-1, d_t)[batch.rows]
    b = t_hidden[-1].reshape(-1, d_t)[batch.rows]
    out["cos"] = F.cosine_embedding_loss(a, b, torch.ones(a.shape[0], dtype=a.dtype))
    out["mlm"] = F.cross_entropy(s_mlm, batch.mlm_labels.reshape(-1), ignore_index=-100)
    return out


def total_of(terms, weights):
    return sum(weights[k] * terms[k] for k in TERMS)


# ---------------------------------------------------------------- students


def tinybert_student(tcfg):
    """Seeded far-from-init weights of the TinyBERT shape, its MLM head and W_p."""
    spec = dict(TINY_SHAPE, seed=TINY_SEED, vocab_size=tcfg["vocab_size"], max_position_embeddings=tcfg["max_position_embeddings"],
                type_vocab_size=tcfg["type_vocab_size"], labels=list(tcfg["id2label"].values()))
    params = gi.random_params(spec)
    scfg = dict(tcfg, **TINY_SHAPE)
    g = torch.Generator().manual_seed(HEAD_SEED)
    d, v = TINY_SHAPE["hidden_size"], tcfg["vocab_size"]
    n = gm.HEAD_NAMES
    params[n["dense_w"]] = torch.randn(d, d, generator=g) * 0.2
    params[n["dense_b"]] = torch.randn(d, generator=g) * 0.1
    params[n["ln_w"]] = 1 + torch.randn(d, generator=g) * 0.2
    params[n["ln_b"]] = torch.randn(d, generator=g) * 0.1
    params[n["bias"]] = torch.randn(v, generator=g) * 0.5
    g = torch.Generator().manual_seed(PROJ_SEED)
    params[PROJ_W] = torch.randn(tcfg["hidden_size"], d, generator=g) * PROJ_STD
    params[PROJ_B] = torch.randn(tcfg["hidden_size"], generator=g) * 0.1
    return scfg, params


def distilbert_student(tcfg, source, head):
    """DistilBERT's initialisation: layers DISTIL_LAYERS of `source` become student layers 0, 1, …; all else copied."""
    out = {}
    for k, v in source.items():
        if k.startswith("encoder.layer."):
            layer = int(k.split(".")[2])
            if layer in DISTIL_LAYERS:
                rest = k.split(".", 3)[3]
                out[f"encoder.layer.{DISTIL_LAYERS.index(layer)}.{rest}"] = v.clone()
        else:
            out[k] = v.clone()
    out.update({k: v.clone() for k, v in head.items()})
    return dict(tcfg, num_hidden_layers=len(DISTIL_LAYERS)), out


def write_tinybert_folder(scfg, params):
    os.makedirs(gg.path(TINY), exist_ok=True)
    with open(gg.path(TEACHER + "/config.json")) as f:
        raw = json.load(f)
    raw.update(TINY_SHAPE)
    gg.write_json(gg.path(TINY + "/config.json"), raw)
    shutil.copyfile(gg.path(TEACHER + "/vocab.txt"), gg.path(TINY + "/vocab.txt"))
    model = {hf_name(k): v for k, v in params.items() if k not in (PROJ_W, PROJ_B)}
    write_safetensors(gg.path(TINY + "/model.safetensors"), model, "F32")
    write_safetensors(gg.path(TINY + "/distill_projection.safetensors"), {PROJ_W: params[PROJ_W], PROJ_B: params[PROJ_B]}, "F32")
    back = read_safetensors(gg.path(TINY + "/model.safetensors"))
    assert all(torch.equal(back[hf_name(k)], params[k]) for k in params if k not in (PROJ_W, PROJ_B)), "round trip"


def hf_name(k):
    if k.startswith(("cls.", "classifier.", "fit_dense.")):
        return k
    return "bert." + k


# ---------------------------------------------------------------- one case


def grads_of(sp, scfg, tp, tcfg, batch, weights, soft_target):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in sp.items()}
    terms = terms_of(leaves, scfg, tp, tcfg, batch, soft_target, TEMPERATURE)
    total = total_of(terms, weights)
    total.backward()
    grads = {k: (v.grad if v.grad is not None else torch.zeros_like(v)).detach() for k, v in leaves.items()}
    return {k: t.item() for k, t in terms.items()}, total.item(), grads


def loss_value(sp, scfg, tp, tcfg, batch, weights, soft_target):
    with torch.no_grad():
        return total_of(terms_of(sp, scfg, tp, tcfg, batch, soft_target, TEMPERATURE), weights).item()


def global_norm(grads):
    return torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item()


def finite_differences(name, sp, scfg, tp, tcfg, batch, weights, soft_target, grads):
    rng = random.Random(name)
    eligible = lambda k: grads[k].abs() >= 1e-2 * grads[k].abs().max()  # noqa: E731
    keys = [k for k in sorted(sp) if not k.endswith(gg.ANALYTICALLY_ZERO) and grads[k].abs().max() > 0]
    always = [k for k in (PROJ_W, PROJ_B, gm.HEAD_NAMES["dense_w"], "encoder.layer.0.attention.self.query.weight", WORD) if k in sp]
    results = []
    for k in always + [rng.choice(keys) for _ in range(6)]:
        flat = eligible(k).flatten().nonzero().flatten().tolist()
        idx = tuple(int(i) for i in np.unravel_index(rng.choice(flat), tuple(sp[k].shape)))
        fd = gg.central_difference(lambda t: loss_value(gg.perturbed(sp, k, idx, t), scfg, tp, tcfg, batch, weights, soft_target))
        ag = grads[k][idx].item()
        rel = abs(fd - ag) / abs(ag)
        assert rel <= gg.FD_REL_TOL, f"{name}: {k}{list(idx)} autograd {ag} vs finite difference {fd} (rel {rel:.1e})"
        results.append({"param": hf_name(k), "index": list(idx), "autograd": ag, "finite_difference": fd, "rel_diff": rel})
    return results


def write_case(name, scfg, sparams, tcfg, tparams, batch, weights, soft_target, student_ref, log):
    s64 = {k: v.double() for k, v in sparams.items()}
    t64 = {k: v.double() for k, v in tparams.items()}
    terms, total, grads = grads_of(s64, scfg, t64, tcfg, batch, weights, soft_target)
    terms32, total32, grads32 = grads_of(sparams, scfg, tparams, tcfg, batch, weights, soft_target)
    for k, v in terms.items():
        assert v > 0, f"{name}: term {k} is {v}: every term must contribute"
    fd = finite_differences(name, s64, scfg, t64, tcfg, batch, weights, soft_target, grads)
    norm_raw = global_norm(grads)
    for k in grads:
        if k.endswith(gg.ANALYTICALLY_ZERO):
            assert grads[k].norm().item() <= gg.ZERO_TOL_F64 * norm_raw, f"{name}: {k} should be ~0"
            grads[k] = torch.zeros_like(grads[k])
    norm = global_norm(grads)
    f32 = gg.compare_like_engine(name, grads32, grads, norm)
    f32["total_loss_rel"] = gg.rel_diff(total32, total)
    f32["max_term_rel"] = max(gg.rel_diff(terms32[k], terms[k]) for k in TERMS)
    f32["grad_global_norm_rel"] = gg.rel_diff(global_norm(grads32), norm)
    for key in ("total_loss_rel", "max_term_rel", "grad_global_norm_rel"):
        assert f32[key] * gg.SELF_MARGIN <= gg.REL_TOL_SCALAR, f"{name}: f32 {key} = {f32[key]:.1e}"

    # Each term alone (with its weight): per-tensor gradient norms, so no term hides in the sum.
    per_term = {}
    for term in TERMS:
        only = {k: (weights[k] if k == term else 0.0) for k in TERMS}
        _, _, g = grads_of(s64, scfg, t64, tcfg, batch, only, soft_target)
        per_term[term] = {hf_name(k): (0.0 if k.endswith(gg.ANALYTICALLY_ZERO) else g[k].norm().item()) for k in sorted(g)}

    out = gg.path(f"{OUT}/cases/{name}")
    os.makedirs(out, exist_ok=True)
    named = {hf_name(k): v for k, v in grads.items()}
    write_safetensors(os.path.join(out, "grads.safetensors"), named, "F32")
    gg.write_json(os.path.join(out, "case.json"), {
        "student": student_ref,
        "teacher": TEACHER,
        "teacher_head": TEACHER_HEAD,
        "input": "input.json",
        "weights": weights,
        "temperature": TEMPERATURE,
        "soft_target": soft_target,
        "student_layers": scfg["num_hidden_layers"],
        "student_hidden": scfg["hidden_size"],
        "teacher_states": [j * tcfg["num_hidden_layers"] // scfg["num_hidden_layers"] for j in range(scfg["num_hidden_layers"] + 1)],
        "teacher_attention_layers": [(i + 1) * tcfg["num_hidden_layers"] // scfg["num_hidden_layers"] - 1 for i in range(scfg["num_hidden_layers"])],
        "terms": terms,
        "total_loss": total,
        "grad_global_norm": norm,
        "grads": "grads.safetensors",
        "grad_norms": {k: named[k].norm().item() for k in sorted(named)},
        "term_grad_norms": per_term,
        "analytically_zero": sorted(k for k in named if k.endswith(gg.ANALYTICALLY_ZERO)),
        "tolerance": {"rel_per_tensor": gg.REL_TOL, "rel_per_element_of_tensor_max": gg.REL_TOL,
                      "rel_losses_and_global_norm": gg.REL_TOL_SCALAR, "analytically_zero_norm_over_global_norm": gg.ZERO_TOL},
        "f32_vs_f64": f32,
        "self_check": {"finite_differences": fd, "max_fd_rel_diff": max(r["rel_diff"] for r in fd)},
    })
    log(f"  {name:10s} total {total:.6f}  |g| {norm:.6f}  terms " + " ".join(f"{k} {terms[k]:.4g}" for k in TERMS)
        + f"  f32 tensor {f32['max_tensor_rel']:.1e} elem {f32['max_element_dev_over_tensor_max']:.1e}"
        + f"  fd {max(r['rel_diff'] for r in fd):.1e}")
    return {"case": name, "total_loss": total, "grad_global_norm": norm}


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if os.path.isdir(gg.path(OUT)):
        shutil.rmtree(gg.path(OUT))
    os.makedirs(gg.path(OUT))
    tcfg, teacher = gg.load_model(TEACHER)
    head = read_safetensors(gg.path(TEACHER_HEAD))
    teacher_with_head = dict(teacher, **head)

    with open(gg.path(TEACHER + "/inputs.json")) as f:
        inputs = json.load(f)
    inputs = {"input_ids": gm.MASKED["input_ids"], "attention_mask": inputs["attention_mask"], "token_type_ids": inputs["token_type_ids"],
              "labels": CLASS_LABELS, "mlm_labels": gm.MASKED["labels"]}
    gg.write_input(gg.path(OUT + "/input.json"), inputs)
    batch = Batch(inputs)

    tiny_cfg, tiny = tinybert_student(tcfg)
    write_tinybert_folder(tiny_cfg, tiny)
    distil_cfg, distil = distilbert_student(tcfg, gg.load_model(DISTIL_SOURCE)[1], head)

    print(f"writing {OUT}")
    students = {"tinybert": (tiny_cfg, tiny, TINY), "distilbert": (distil_cfg, distil, {"build": "distilbert", "from": DISTIL_SOURCE, "copy_layers": DISTIL_LAYERS})}
    index = []
    for name, weights, soft_target in CASES:
        scfg, sparams, ref = students[name]
        index.append(write_case(name, scfg, sparams, tcfg, teacher_with_head, batch, weights, soft_target, ref, print))
    gg.write_json(gg.path(OUT + "/cases.json"), {"teacher": TEACHER, "teacher_head": TEACHER_HEAD, "input": "input.json", "cases": index})
    total = gg.tree_size(gg.path(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB")
    assert total < SIZE_LIMIT, f"distillation fixtures must stay under {SIZE_LIMIT / 1e6:g} MB"


if __name__ == "__main__":
    main()
