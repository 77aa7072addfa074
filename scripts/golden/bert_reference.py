"""Plain-PyTorch BERT for sequence classification with DynaBERT slicing.

Computes what HF `BertForSequenceClassification` computes in eval mode, with
the width/depth semantics of /work/shared/DESIGN.md §2. Parameters are a dict
keyed by HF BertModel names (no `bert.` prefix) plus `classifier.weight` /
`classifier.bias` when the model has a classification head.
"""

import math

import torch
import torch.nn.functional as F

# The additive attention-mask value used by HF BERT (pre-finfo.min), DynaBERT
# and this engine.
MASK_NEG = -10000.0


def kept_heads(num_heads: int, width: float) -> int:
    # Python's round is half-to-even, which is the rule DynaBERT relies on.
    return max(1, round(num_heads * width))


def width_sliced_size(num_heads: int, width: float, full: int) -> int:
    """`max(1, int(round(H·w)/H · full))`, evaluated in exactly this float order."""
    return max(1, int(round(num_heads * width) / num_heads * full))


def kept_layers(num_layers: int, depth: float) -> list:
    return [int(i / depth) for i in range(round(depth * num_layers))]


def head_size(cfg) -> int:
    # A sliced export records `attention_head_size` because heads·d_head ≠ hidden there.
    return cfg.get("attention_head_size", cfg["hidden_size"] // cfg["num_attention_heads"])


def layer_norm(x, params, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), params[prefix + ".weight"], params[prefix + ".bias"], eps)


def embed(params, cfg, input_ids, token_type_ids):
    """[B,S] ids -> [B,S,D]: (word + token type) + position, then LayerNorm (HF's order)."""
    seq = input_ids.shape[1]
    position_ids = torch.arange(seq)
    x = params["embeddings.word_embeddings.weight"][input_ids]
    x = x + params["embeddings.token_type_embeddings.weight"][token_type_ids]
    x = x + params["embeddings.position_embeddings.weight"][position_ids][None, :, :]
    return layer_norm(x, params, "embeddings.LayerNorm", cfg["layer_norm_eps"])


def encoder_layer(params, cfg, layer, x, mask_add, heads, intermediate, head_mask=None):
    """One BERT layer on [B,S,D] using only the first `heads` heads and the
    first `intermediate` FFN neurons. `mask_add` is [B,1,1,S]. `head_mask`
    ([num_heads] or None) multiplies each head's attention probabilities
    after the softmax, as HF's head_mask does; its gradient is the head
    importance of DESIGN.md §2. None leaves the computation untouched."""
    p = f"encoder.layer.{layer}."
    batch, seq, _ = x.shape
    head_dim = head_size(cfg)
    width = heads * head_dim

    def project(name):
        # [B,S,width] -> [B,heads,S,head_dim]
        y = F.linear(x, params[p + name + ".weight"][:width], params[p + name + ".bias"][:width])
        return y.view(batch, seq, heads, head_dim).permute(0, 2, 1, 3)

    q, k, v = project("attention.self.query"), project("attention.self.key"), project("attention.self.value")
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim)
    probs = torch.softmax(scores + mask_add, dim=-1)
    if head_mask is not None:
        probs = probs * head_mask[:heads].view(1, heads, 1, 1)
    context = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(batch, seq, width)
    attn = F.linear(context, params[p + "attention.output.dense.weight"][:, :width], params[p + "attention.output.dense.bias"])
    h1 = layer_norm(attn + x, params, p + "attention.output.LayerNorm", cfg["layer_norm_eps"])

    inner = F.gelu(F.linear(h1, params[p + "intermediate.dense.weight"][:intermediate], params[p + "intermediate.dense.bias"][:intermediate]))
    out = F.linear(inner, params[p + "output.dense.weight"][:, :intermediate], params[p + "output.dense.bias"])
    return layer_norm(out + h1, params, p + "output.LayerNorm", cfg["layer_norm_eps"])


def forward(params, cfg, input_ids, attention_mask, token_type_ids, width=1.0, depth=1.0, head_mask=None):
    """Returns (logits [B,K] or None, hidden [1+depth,B,S,D]) in the params' dtype.
    `head_mask`: optional [num_layers][num_heads], see encoder_layer."""
    dtype = params["embeddings.word_embeddings.weight"].dtype
    heads = kept_heads(cfg["num_attention_heads"], width)
    intermediate = width_sliced_size(cfg["num_attention_heads"], width, cfg["intermediate_size"])
    mask_add = ((1.0 - attention_mask.to(dtype)) * MASK_NEG)[:, None, None, :]

    x = embed(params, cfg, input_ids, token_type_ids)
    hidden = [x]
    for layer in kept_layers(cfg["num_hidden_layers"], depth):
        x = encoder_layer(params, cfg, layer, x, mask_add, heads, intermediate,
                          None if head_mask is None else head_mask[layer])
        hidden.append(x)

    logits = None
    if "classifier.weight" in params:
        pooled = torch.tanh(F.linear(x[:, 0], params["pooler.dense.weight"], params["pooler.dense.bias"]))
        logits = F.linear(pooled, params["classifier.weight"], params["classifier.bias"])
    return logits, torch.stack(hidden)
