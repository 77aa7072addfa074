"""Independent checks of bert_reference.forward, so the goldens can be trusted.

1. `physically_sliced`: copy the kept heads / neurons / layers row by row into
   a smaller dense model and run it unsliced; must equal the on-the-fly slicing.
2. `forward_with_torch_modules`: the full-width model (any depth) rebuilt from
   torch.nn.Embedding / LayerNorm / TransformerEncoderLayer / Linear, i.e.
   PyTorch's own attention and post-norm layer code, not ours.
3. `boundary_sensitivity`: nudging the last kept row/column of every sliced
   weight changes the outputs; nudging the first dropped one changes nothing.
"""

import torch
import torch.nn as nn

import bert_reference as ref

# Weights sliced along their output rows ("rows") or input columns ("cols"),
# and which size (heads·d_head or intermediate) bounds the slice.
SLICED_WEIGHTS = [
    ("attention.self.query.weight", "rows", "attn"),
    ("attention.self.key.weight", "rows", "attn"),
    ("attention.self.value.weight", "rows", "attn"),
    ("attention.output.dense.weight", "cols", "attn"),
    ("intermediate.dense.weight", "rows", "ffn"),
    ("output.dense.weight", "cols", "ffn"),
]


def _copy_rows(src, rows):
    dst = torch.empty((len(rows),) + tuple(src.shape[1:]), dtype=src.dtype)
    for i, r in enumerate(rows):
        dst[i] = src[r]
    return dst


def _copy_cols(src, cols):
    dst = torch.empty((src.shape[0], len(cols)), dtype=src.dtype)
    for j, c in enumerate(cols):
        dst[:, j] = src[:, c]
    return dst


def physically_sliced(params, cfg, width, depth):
    """A dense (params, cfg) holding only the sub-network, layers renumbered."""
    num_heads = cfg["num_attention_heads"]
    head_dim = ref.head_size(cfg)
    heads = ref.kept_heads(num_heads, width)
    neurons = ref.width_sliced_size(num_heads, width, cfg["intermediate_size"])
    layers = ref.kept_layers(cfg["num_hidden_layers"], depth)
    head_rows = [h * head_dim + j for h in range(heads) for j in range(head_dim)]
    neuron_rows = list(range(neurons))

    small = {k: v.clone() for k, v in params.items() if not k.startswith("encoder.")}
    for new, old in enumerate(layers):
        src, dst = f"encoder.layer.{old}.", f"encoder.layer.{new}."
        for name in ("query", "key", "value"):
            small[dst + f"attention.self.{name}.weight"] = _copy_rows(params[src + f"attention.self.{name}.weight"], head_rows)
            small[dst + f"attention.self.{name}.bias"] = _copy_rows(params[src + f"attention.self.{name}.bias"], head_rows)
        small[dst + "attention.output.dense.weight"] = _copy_cols(params[src + "attention.output.dense.weight"], head_rows)
        small[dst + "intermediate.dense.weight"] = _copy_rows(params[src + "intermediate.dense.weight"], neuron_rows)
        small[dst + "intermediate.dense.bias"] = _copy_rows(params[src + "intermediate.dense.bias"], neuron_rows)
        small[dst + "output.dense.weight"] = _copy_cols(params[src + "output.dense.weight"], neuron_rows)
        for name in ("attention.output.dense.bias", "output.dense.bias",
                     "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                     "output.LayerNorm.weight", "output.LayerNorm.bias"):
            small[dst + name] = params[src + name].clone()
    small_cfg = dict(cfg, num_attention_heads=heads, attention_head_size=head_dim,
                     intermediate_size=neurons, num_hidden_layers=len(layers))
    return small, small_cfg


def forward_with_torch_modules(params, cfg, input_ids, attention_mask, token_type_ids, depth):
    """Full-width forward from torch.nn modules. Padded keys get -inf (key_padding_mask)
    instead of -10000: both give exactly zero probability once exponentiated."""
    dtype = params["embeddings.word_embeddings.weight"].dtype
    hidden, eps = cfg["hidden_size"], cfg["layer_norm_eps"]

    def linear(prefix, n_in, n_out):
        m = nn.Linear(n_in, n_out).to(dtype)
        m.weight.data.copy_(params[prefix + ".weight"])
        m.bias.data.copy_(params[prefix + ".bias"])
        return m

    def norm(prefix):
        m = nn.LayerNorm(hidden, eps=eps).to(dtype)
        m.weight.data.copy_(params[prefix + ".weight"])
        m.bias.data.copy_(params[prefix + ".bias"])
        return m

    with torch.no_grad():
        word = nn.Embedding.from_pretrained(params["embeddings.word_embeddings.weight"])
        pos = nn.Embedding.from_pretrained(params["embeddings.position_embeddings.weight"])
        typ = nn.Embedding.from_pretrained(params["embeddings.token_type_embeddings.weight"])
        positions = torch.arange(input_ids.shape[1])[None, :].expand_as(input_ids)
        x = norm("embeddings.LayerNorm")(word(input_ids) + typ(token_type_ids) + pos(positions))
        states = [x]
        padding = attention_mask == 0
        for layer in ref.kept_layers(cfg["num_hidden_layers"], depth):
            p = f"encoder.layer.{layer}."
            block = nn.TransformerEncoderLayer(hidden, cfg["num_attention_heads"], cfg["intermediate_size"],
                                               dropout=0.0, activation="gelu", layer_norm_eps=eps,
                                               batch_first=True, norm_first=False).to(dtype).eval()
            block.self_attn.in_proj_weight.copy_(torch.cat([params[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]))
            block.self_attn.in_proj_bias.copy_(torch.cat([params[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]))
            block.self_attn.out_proj.weight.copy_(params[p + "attention.output.dense.weight"])
            block.self_attn.out_proj.bias.copy_(params[p + "attention.output.dense.bias"])
            block.linear1 = linear(p + "intermediate.dense", hidden, cfg["intermediate_size"])
            block.linear2 = linear(p + "output.dense", cfg["intermediate_size"], hidden)
            block.norm1 = norm(p + "attention.output.LayerNorm")
            block.norm2 = norm(p + "output.LayerNorm")
            x = block(x, src_key_padding_mask=padding)
            states.append(x)
        logits = None
        if "classifier.weight" in params:
            pooled = torch.tanh(linear("pooler.dense", hidden, hidden)(x[:, 0]))
            logits = linear("classifier", hidden, params["classifier.weight"].shape[0])(pooled)
    return logits, torch.stack(states)


def boundary_sensitivity(params, cfg, inputs, width, depth, nudge=0.5, seed=5):
    """For every kept layer and sliced weight: (smallest max|Δhidden| when the
    last kept row/column is nudged, largest max|Δhidden| when the first dropped
    one is nudged — must be exactly 0). The nudge is a random vector, not a
    constant: a constant added to an output-dense column shifts every feature
    equally and the following LayerNorm erases it."""
    gen = torch.Generator().manual_seed(seed)
    heads = ref.kept_heads(cfg["num_attention_heads"], width)
    bound = {"attn": heads * ref.head_size(cfg),
             "ffn": ref.width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"])}
    _, base = ref.forward(params, cfg, *inputs, width, depth)
    weakest_kept, strongest_dropped = float("inf"), 0.0
    for layer in ref.kept_layers(cfg["num_hidden_layers"], depth):
        for name, axis, size in SLICED_WEIGHTS:
            key = f"encoder.layer.{layer}.{name}"
            full = params[key].shape[0 if axis == "rows" else 1]
            for index, is_kept in ((bound[size] - 1, True), (bound[size], False)):
                if index >= full:
                    continue
                nudged = dict(params)
                nudged[key] = params[key].clone()
                if axis == "rows":
                    nudged[key][index] += torch.randn(params[key].shape[1], generator=gen) * nudge
                else:
                    nudged[key][:, index] += torch.randn(params[key].shape[0], generator=gen) * nudge
                _, out = ref.forward(nudged, cfg, *inputs, width, depth)
                delta = (out - base).abs().max().item()
                if is_kept:
                    weakest_kept = min(weakest_kept, delta)
                else:
                    strongest_dropped = max(strongest_dropped, delta)
    return weakest_kept, strongest_dropped
