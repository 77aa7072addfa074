"""One DynaBERT training step without the optimizer update, in plain PyTorch.

What `dynabert grad` must reproduce (DESIGN.md §2): sub-networks visited
depth-descending then width-descending; for each, forward the student,
compute its loss, backward, and add the gradients into one accumulator (a sum,
no averaging). Dropout is off. The word-embedding row `pad_token_id` gets no
gradient (HF's `padding_idx`). Parameters are dicts keyed like
bert_reference (BertModel names without `bert.`, plus `classifier.*`).
"""

import torch
import torch.nn.functional as F

import bert_reference as ref

PAD_ROW_PARAM = "embeddings.word_embeddings.weight"
DISTILL_PHASES = ("width", "depth")
TASK_PHASES = ("finetune", "final")


def schedule(widths, depths):
    """[(width, depth)] in training order: depth descending, then width descending."""
    return [(w, d) for d in sorted(depths, reverse=True) for w in sorted(widths, reverse=True)]


def teacher_state_index(num_layers, kept):
    """Teacher hidden-state index for each student state j (0 = embeddings):
    `[*kept, L][j]` in the teacher list [emb, layer0_out, …, layer_{L-1}_out]."""
    index = list(kept) + [num_layers]
    assert index[0] == 0, "student embeddings must meet teacher embeddings"
    return index[: len(kept) + 1]


def soft_cross_entropy(student_logits, teacher_logits):
    """Mean over the batch of −Σ_k softmax(t)_k · log_softmax(s)_k ([B,K] each)."""
    return (-(torch.softmax(teacher_logits, -1) * torch.log_softmax(student_logits, -1)).sum(-1)).mean()


class Options:
    """`dynabert grad` options. λs and the teacher only matter for the distillation phases."""

    def __init__(self, phase, widths, depths, lambdas=None, teacher_width=None):
        assert phase in TASK_PHASES + DISTILL_PHASES, phase
        if phase == "width":
            assert list(depths) == [1.0], "DynaBERT_W trains full depth only"
        if phase == "depth":
            assert teacher_width in ("same", "full"), teacher_width
        self.phase, self.widths, self.depths = phase, list(widths), list(depths)
        self.lambda_logit, self.lambda_emb, self.lambda_hidden = lambdas if lambdas else (None, None, None)
        self.teacher_width = teacher_width


class Batch:
    """input_ids / attention_mask / token_type_ids [B,S] int64, labels [B] int64."""

    def __init__(self, inputs):
        self.input_ids = torch.tensor(inputs["input_ids"])
        self.attention_mask = torch.tensor(inputs["attention_mask"])
        self.token_type_ids = torch.tensor(inputs["token_type_ids"])
        self.labels = torch.tensor(inputs["labels"])

    def args(self):
        return self.input_ids, self.attention_mask, self.token_type_ids


class TeacherOutputs:
    """Teacher (logits [B,K], hidden [L+1,B,S,D]) at full depth, cached per width; no gradients."""

    def __init__(self, params, cfg, batch):
        self.params, self.cfg, self.batch, self.cache = params, cfg, batch, {}

    def at_width(self, width):
        if width not in self.cache:
            with torch.no_grad():
                self.cache[width] = ref.forward(self.params, self.cfg, *self.batch.args(), width, 1.0)
        return self.cache[width]


def subnet_loss(opts, params, cfg, batch, width, depth, teacher, head_mask=None):
    """Scalar loss of the student sub-network (width, depth)."""
    logits, hidden = ref.forward(params, cfg, *batch.args(), width, depth, head_mask)
    if opts.phase in TASK_PHASES:
        return F.cross_entropy(logits, batch.labels)  # mean over the batch
    teacher_w = width if (opts.phase == "depth" and opts.teacher_width == "same") else 1.0
    t_logits, t_hidden = teacher.at_width(teacher_w)
    index = teacher_state_index(cfg["num_hidden_layers"], ref.kept_layers(cfg["num_hidden_layers"], depth))
    loss = opts.lambda_logit * soft_cross_entropy(logits, t_logits)
    loss = loss + opts.lambda_emb * F.mse_loss(hidden[0], t_hidden[index[0]])
    for j in range(1, len(index)):
        loss = loss + opts.lambda_hidden * F.mse_loss(hidden[j], t_hidden[index[j]])
    return loss


def total_loss(opts, params, cfg, batch, teacher):
    """Sum of the per-sub-network losses, no autograd (for finite differences)."""
    with torch.no_grad():
        return sum(subnet_loss(opts, params, cfg, batch, w, d, teacher).item() for w, d in schedule(opts.widths, opts.depths))


def grad_step(opts, params, cfg, batch, teacher):
    """Returns (per-subnet [(width, depth, kept_layers, loss float)], grads {name: tensor}, global norm,
    norm of the pad row's gradient before it was dropped).

    Gradients of every parameter, zeros where no sub-network reaches; the
    global norm is the unclipped L2 norm over all of them."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    subnets = []
    for width, depth in schedule(opts.widths, opts.depths):
        loss = subnet_loss(opts, leaves, cfg, batch, width, depth, teacher)
        loss.backward()  # accumulates into .grad, like the engine's accumulator
        subnets.append((width, depth, ref.kept_layers(cfg["num_hidden_layers"], depth), loss.item()))
    grads = {k: (v.grad if v.grad is not None else torch.zeros_like(v)).detach() for k, v in leaves.items()}
    pad_row_norm = grads[PAD_ROW_PARAM][cfg["pad_token_id"]].norm().item()
    grads[PAD_ROW_PARAM][cfg["pad_token_id"]] = 0.0
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item()
    return subnets, grads, norm, pad_row_norm


def importance(params, cfg, batch):
    """Full width and depth, CE loss: (loss, ∂loss/∂head_mask [L][H], head importance [L][H],
    neuron importance [L][I], param grads). DESIGN.md §2:
    I[l][j] = |Σ_k W1[j,k]·∂W1[j,k] + b1[j]·∂b1[j]| + |Σ_k W2[k,j]·∂W2[k,j]|."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    dtype = params[PAD_ROW_PARAM].dtype
    mask = torch.ones(cfg["num_hidden_layers"], cfg["num_attention_heads"], dtype=dtype, requires_grad=True)
    opts = Options("finetune", [1.0], [1.0])
    loss = subnet_loss(opts, leaves, cfg, batch, 1.0, 1.0, None, head_mask=mask)
    loss.backward()
    mask_grad = mask.grad.detach()
    neurons = []
    for layer in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        w1, b1, w2 = (leaves[p + n] for n in ("intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight"))
        inner = (w1 * w1.grad).sum(1) + b1 * b1.grad  # [I]
        outer = (w2 * w2.grad).sum(0)  # [I]
        neurons.append((inner.abs() + outer.abs()).detach())
    grads = {k: v.grad.detach() for k, v in leaves.items()}
    grads[PAD_ROW_PARAM][cfg["pad_token_id"]] = 0.0
    return loss.item(), mask_grad, mask_grad.abs(), torch.stack(neurons), grads
