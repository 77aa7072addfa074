"""Golden inference outputs for the engine, from an independent PyTorch BERT.

Run: /usr/bin/python3 scripts/golden/gen_inference.py
Writes tests/fixtures/golden/<fixture>/ (see scripts/golden/README.md).
Deterministic: fixed seeds, one thread, sorted safetensors names.
"""

import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bert_reference as ref  # noqa: E402
import reference_checks as checks  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

OUT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "golden")
WIDTHS = [1.0, 0.75, 0.5, 0.25]
DEPTHS = [1.0, 0.75, 0.5]
ENGINE_TOLERANCE = 1e-4  # what the engine test compares against; our own errors must sit far below it
SELF_CHECK_TOLERANCE = 1e-6

# Model shapes. h12: 12 heads so the paper's widths slice exactly; 6 layers so
# depth .75 both skips a layer and hits a round-half-to-even tie (4.5 -> 4).
# h6odd: odd head size and intermediate, ties in round(6·.25)=round(1.5)=2 and
# round(3·.5)=round(1.5)=2, and a non-default layer_norm_eps.
MODELS = {
    "h12": dict(seed=1201, vocab_size=120, hidden_size=48, num_attention_heads=12, intermediate_size=100,
                num_hidden_layers=6, max_position_embeddings=40, type_vocab_size=2, layer_norm_eps=1e-12,
                labels=["negative", "neutral", "positive"], lengths=[9, 5, 1], seq=9),
    "h6odd": dict(seed=601, vocab_size=97, hidden_size=30, num_attention_heads=6, intermediate_size=37,
                  num_hidden_layers=3, max_position_embeddings=24, type_vocab_size=2, layer_norm_eps=1e-5,
                  labels=["no", "yes"], lengths=[4, 7, 1], seq=7),
}

# Random-init scales: far larger than BERT's 0.02 so every row, column and
# bias visibly moves the outputs (a slicing bug cannot hide in small numbers).
# Q/K are the largest so attention is peaked but not saturated; value/output
# and FFN are smaller so each branch stays comparable to its residual: with
# 0.3 everywhere all tokens of h12 collapse to one vector by layer 4, and then
# its attention (and any bug in it) no longer shows in the outputs.
STD = {"query": 0.45, "key": 0.45, "value": 0.12, "attention.output.dense": 0.12,
       "intermediate.dense": 0.2, "output.dense": 0.12, "pooler.dense": 0.2, "classifier": 0.3}
STD_BIAS, STD_EMBEDDING, LN_GAMMA_SPREAD, STD_LN_BETA = 0.2, 0.5, 0.3, 0.2

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4


def config_name(width, depth):
    return f"w{width:g}_d{depth:g}"


# ---------------------------------------------------------------- weights


def random_params(spec):
    """HF BertModel-named float32 weights plus classifier.*, seeded by spec."""
    g = torch.Generator().manual_seed(spec["seed"])
    D, I, K = spec["hidden_size"], spec["intermediate_size"], len(spec["labels"])

    def normal(shape, std):
        return torch.randn(shape, generator=g, dtype=torch.float32) * std

    def layer_norm(prefix):
        p[prefix + ".weight"] = 1.0 + (torch.rand(D, generator=g) * 2 - 1) * LN_GAMMA_SPREAD
        p[prefix + ".bias"] = normal(D, STD_LN_BETA)

    def dense(prefix, n_out, n_in, kind):
        p[prefix + ".weight"] = normal((n_out, n_in), STD[kind])  # HF layout [out][in]
        p[prefix + ".bias"] = normal(n_out, STD_BIAS)

    p = {}
    p["embeddings.word_embeddings.weight"] = normal((spec["vocab_size"], D), STD_EMBEDDING)
    p["embeddings.position_embeddings.weight"] = normal((spec["max_position_embeddings"], D), STD_EMBEDDING)
    p["embeddings.token_type_embeddings.weight"] = normal((spec["type_vocab_size"], D), STD_EMBEDDING)
    layer_norm("embeddings.LayerNorm")
    for layer in range(spec["num_hidden_layers"]):
        pre = f"encoder.layer.{layer}."
        for name in ("query", "key", "value"):
            dense(pre + f"attention.self.{name}", D, D, name)
        dense(pre + "attention.output.dense", D, D, "attention.output.dense")
        layer_norm(pre + "attention.output.LayerNorm")
        dense(pre + "intermediate.dense", I, D, "intermediate.dense")
        dense(pre + "output.dense", D, I, "output.dense")
        layer_norm(pre + "output.LayerNorm")
    dense("pooler.dense", D, D, "pooler.dense")
    dense("classifier", K, D, "classifier")
    return p


def rounded_through(params, dtype):
    """Weights as an engine sees them after reading a `dtype` checkpoint: rounded, then f32."""
    return {k: v.to(dtype).to(torch.float32) for k, v in params.items()}


def hf_names(params, with_head):
    """Internal names -> checkpoint names: `bert.`-prefixed plus classifier.*, or bare BertModel."""
    if with_head:
        return {(k if k.startswith("classifier.") else "bert." + k): v for k, v in params.items()}
    return {k: v for k, v in params.items() if not k.startswith("classifier.")}


# ---------------------------------------------------------------- checkpoint folder files


def hf_config(spec, with_head, torch_dtype):
    cfg = {
        "architectures": ["BertForSequenceClassification" if with_head else "BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": spec["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": spec["intermediate_size"],
        "layer_norm_eps": spec["layer_norm_eps"],
        "max_position_embeddings": spec["max_position_embeddings"],
        "model_type": "bert",
        "num_attention_heads": spec["num_attention_heads"],
        "num_hidden_layers": spec["num_hidden_layers"],
        "pad_token_id": PAD,
        "position_embedding_type": "absolute",
        "torch_dtype": torch_dtype,
        "type_vocab_size": spec["type_vocab_size"],
        "use_cache": True,
        "vocab_size": spec["vocab_size"],
    }
    if with_head:
        cfg["id2label"] = {str(i): name for i, name in enumerate(spec["labels"])}
        cfg["label2id"] = {name: i for i, name in enumerate(spec["labels"])}
        cfg["problem_type"] = "single_label_classification"
    return dict(sorted(cfg.items()))


def vocab_lines(size):
    """[PAD] [UNK] [CLS] [SEP] [MASK], then made-up lowercase words (unique, deterministic)."""
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels]
    i = 0
    while len(words) < size:
        first, second = divmod(i, len(syllables))
        words.append(syllables[i] if first == 0 else syllables[first - 1] + syllables[second])
        i += 1
    return words


def make_inputs(spec):
    """Batch of len(lengths) rows padded to spec['seq']: [CLS] … [SEP], pad 0.
    The longest row is a sentence pair with token types 0…0 1…1."""
    g = torch.Generator().manual_seed(spec["seed"] + 7)
    seq, longest = spec["seq"], max(spec["lengths"])
    ids, mask, types = [], [], []
    for length in spec["lengths"]:
        row = torch.randint(5, spec["vocab_size"], (seq,), generator=g).tolist()
        row[0] = CLS
        if length > 1:
            row[length - 1] = SEP
        typ = [0] * seq
        if length == longest:
            first_sep = length // 2
            row[first_sep] = SEP
            typ = [0] * (first_sep + 1) + [1] * (length - first_sep - 1) + [0] * (seq - length)
        row[length:] = [PAD] * (seq - length)
        ids.append(row)
        mask.append([1] * length + [0] * (seq - length))
        types.append(typ)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- goldens + self-checks


def compute_goldens(params, cfg, inputs, with_head, log):
    """Runs every (width, depth), verifies it against the independent
    computations, and returns ({tensor name: f32 tensor}, [per-config summary])."""
    args = (torch.tensor(inputs["input_ids"]), torch.tensor(inputs["attention_mask"]), torch.tensor(inputs["token_type_ids"]))
    params64 = {k: v.double() for k, v in params.items()}
    tensors, summary, all_logits = {}, [], {}
    for depth in DEPTHS:
        # PyTorch's own modules agree with our full-width math (f64 isolates formula errors from rounding).
        _, ours64 = ref.forward(params64, cfg, *args, 1.0, depth)
        logits_nn, theirs64 = checks.forward_with_torch_modules(params64, cfg, *args, depth)
        nn_diff = (ours64 - theirs64).abs().max().item()
        if with_head:
            nn_diff = max(nn_diff, (ref.forward(params64, cfg, *args, 1.0, depth)[0] - logits_nn).abs().max().item())
        assert nn_diff < 1e-10, f"torch.nn modules disagree at depth {depth}: {nn_diff}"
        log(f"    depth {depth:g}: torch.nn TransformerEncoderLayer agrees to {nn_diff:.1e} (f64)")

    for width in WIDTHS:
        for depth in DEPTHS:
            name = config_name(width, depth)
            with torch.no_grad():
                logits, hidden = ref.forward(params, cfg, *args, width, depth)
                logits64, hidden64 = ref.forward(params64, cfg, *args, width, depth)
                small, small_cfg = checks.physically_sliced(params, cfg, width, depth)
                logits_copy, hidden_copy = ref.forward(small, small_cfg, *args)
            copy_diff = (hidden - hidden_copy).abs().max().item()
            if with_head:
                copy_diff = max(copy_diff, (logits - logits_copy).abs().max().item())
            assert copy_diff < SELF_CHECK_TOLERANCE, f"{name}: physically sliced model differs by {copy_diff}"
            kept_delta, dropped_delta = checks.boundary_sensitivity(params, cfg, args, width, depth)
            assert dropped_delta == 0.0, f"{name}: a dropped weight moved the outputs by {dropped_delta}"
            assert kept_delta > 100 * ENGINE_TOLERANCE, f"{name}: a kept boundary weight barely matters ({kept_delta})"

            hidden_err = (hidden.double() - hidden64).abs().max().item()
            entry = {
                "name": name,
                "width": width,
                "depth": depth,
                "heads": ref.kept_heads(cfg["num_attention_heads"], width),
                "attention_width": ref.kept_heads(cfg["num_attention_heads"], width) * ref.head_size(cfg),
                "intermediate": ref.width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"]),
                "kept_layers": ref.kept_layers(cfg["num_hidden_layers"], depth),
                "max_abs_diff_f32_vs_f64": {"hidden": hidden_err},
                "self_check": {"physically_sliced_max_diff": copy_diff,
                               "min_effect_of_last_kept_weight_row_or_col": kept_delta},
            }
            tensors[name + ".hidden"] = hidden
            if with_head:
                tensors[name + ".logits"] = logits
                entry["max_abs_diff_f32_vs_f64"]["logits"] = (logits.double() - logits64).abs().max().item()
                all_logits[name] = logits
            assert max(entry["max_abs_diff_f32_vs_f64"].values()) < ENGINE_TOLERANCE / 10, f"{name}: f32 too far from f64"
            summary.append(entry)
            log(f"    {name:10s} heads {entry['heads']:2d} inter {entry['intermediate']:3d} layers {entry['kept_layers']}"
                f"  f32-f64 {max(entry['max_abs_diff_f32_vs_f64'].values()):.1e}  copy {copy_diff:.0e}  edge {kept_delta:.2f}")

    if with_head:
        names = list(all_logits)
        closest = min((all_logits[a] - all_logits[b]).abs().max().item() for i, a in enumerate(names) for b in names[i + 1:])
        assert closest > 100 * ENGINE_TOLERANCE, f"two configs give near-identical logits ({closest})"
        log(f"    closest pair of configs differs by {closest:.3f} in logits")
    return tensors, summary


def write_fixture(name, spec, params, inputs, with_head, dtype_tag, log):
    """One checkpoint folder: config.json, model.safetensors, vocab.txt, inputs.json, golden.*"""
    folder = os.path.join(OUT_ROOT, name)
    os.makedirs(folder, exist_ok=True)
    torch_dtype = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype_tag]
    cfg = hf_config(spec, with_head, torch_dtype)
    write_json(os.path.join(folder, "config.json"), cfg)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab_lines(spec["vocab_size"])) + "\n")
    with open(os.path.join(folder, "inputs.json"), "w") as f:
        # One row per line: [batch][seq] int arrays stay readable as a grid.
        f.write("{\n" + ",\n".join(
            f' "{key}": [\n' + ",\n".join("  " + json.dumps(row) for row in rows) + "\n ]"
            for key, rows in inputs.items()) + "\n}\n")

    stored = hf_names(params, with_head)
    weights_path = os.path.join(folder, "model.safetensors")
    write_safetensors(weights_path, stored, dtype_tag)
    # What the engine will read must be exactly what the goldens were computed from.
    read_back = read_safetensors(weights_path)
    assert sorted(read_back) == sorted(stored), f"{name}: tensor names changed on round trip"
    for key, value in stored.items():
        assert torch.equal(read_back[key], value), f"{name}: {key} changed on round trip"

    log(f"  {name} ({dtype_tag}, {'BertForSequenceClassification' if with_head else 'BertModel'})")
    used = {k: v for k, v in params.items() if with_head or not k.startswith("classifier.")}
    tensors, summary = compute_goldens(used, cfg, inputs, with_head, log)
    write_safetensors(os.path.join(folder, "golden.safetensors"), tensors, "F32")
    write_json(os.path.join(folder, "golden.json"), {
        "fixture": name,
        "weights": {"file": "model.safetensors", "dtype": dtype_tag,
                    "names": "bert.-prefixed + classifier.*" if with_head else "bare BertModel (no classifier)"},
        "engine_tolerance": ENGINE_TOLERANCE,
        "attention_mask_value": ref.MASK_NEG,
        "tensors": {
            "<name>.logits": "[batch][num_labels] f32" if with_head else "absent (no classifier)",
            "<name>.hidden": "[1+len(kept_layers)][batch][seq][hidden] f32: embeddings output, then each kept "
                             "layer's output; padded positions included (computed like HF, unmasked queries)",
        },
        "configs": summary,
    })


def design_examples_hold():
    """The worked examples in DESIGN.md §2 and the paper's widths for H=12."""
    assert ref.kept_layers(12, 0.75) == [0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert ref.kept_layers(12, 0.5) == [0, 2, 4, 6, 8, 10]
    assert [ref.kept_heads(12, w) for w in WIDTHS] == [12, 9, 6, 3]
    assert [ref.width_sliced_size(12, w, 3072) for w in WIDTHS] == [3072, 2304, 1536, 768]


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    design_examples_hold()
    log = print
    for model, spec in MODELS.items():
        params = random_params(spec)
        inputs = make_inputs(spec)
        write_fixture(model, spec, params, inputs, True, "F32", log)
        if model == "h12":
            write_fixture("h12_bare", spec, params, inputs, False, "F32", log)
        if model == "h6odd":
            write_fixture("h6odd_f16", spec, rounded_through(params, torch.float16), inputs, True, "F16", log)
            write_fixture("h6odd_bf16", spec, rounded_through(params, torch.bfloat16), inputs, True, "BF16", log)
    total = 0
    for root, _, files in os.walk(OUT_ROOT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"wrote {os.path.normpath(OUT_ROOT)}: {total / 1e6:.2f} MB")
    assert total < 3e6, "golden fixtures must stay under 3 MB"


if __name__ == "__main__":
    main()
