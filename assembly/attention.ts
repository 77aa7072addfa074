// Multi-head self-attention over a (possibly width-sliced) set of heads: the exported
// kernels. The per-row loops they are made of live in attention_rows.ts.
import {
  axpy, dotOne, scoreRow, scoreRowPair, softmaxRow, weightedSumRow, weightedSumRowPair, zeroRow,
} from "./attention_rows";

/**
 * BERT's additive key mask: `out[i] = (1 - mask[i]) · -10000`, computed in f32.
 * mask: i32 `[n]` (1 = attend, 0 = padding); out: f32 `[n]`.
 */
export function attention_mask_additive(out: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(out + offset, (<f32>1.0 - <f32>load<i32>(mask + offset)) * <f32>-10000.0);
  }
}

/**
 * Scaled dot-product attention for every (batch, head):
 *   probs[b][h][i][j] = softmax_j(q_i·k_j / √headDim + maskAdd[b][j])
 *   ctx[b][i][h·headDim + t] = headMask[h] · Σ_j probs[b][h][i][j] · v_j[h·headDim + t]
 *
 * q, k, v:  f32 `[batch][seq][ldQKV]`, head h in columns `[h·headDim, (h+1)·headDim)`;
 *           ldQKV ≥ heads·headDim (may be larger, e.g. a fused QKV buffer or full width).
 * maskAdd:  f32 `[batch][seq]`, added to every query's score for key j.
 * headMask: f32 `[heads]` or 0 (all ones); scales P before P·V, not the stored probs.
 * probs:    f32 `[batch][heads][seq][seq]` output, kept for backward.
 * ctx:      f32 `[batch][seq][ldCtx]` output; only columns `< heads·headDim` are written.
 */
export function attention_forward(
  ctx: usize, probs: usize, q: usize, k: usize, v: usize, maskAdd: usize, headMask: usize,
  batch: i32, seq: i32, heads: i32, headDim: i32, ldQKV: i32, ldCtx: i32,
): void {
  const qkvRow = <usize>ldQKV << 2;
  const ctxRow = <usize>ldCtx << 2;
  const probsRow = <usize>seq << 2;
  const headBytes = <usize>headDim << 2;
  // Dividing by √d (rather than multiplying by its reciprocal) matches BERT's
  // `scores / sqrt(d)` and is exact for d = 64.
  const sqrtD = Mathf.sqrt(<f32>headDim);
  for (let b = 0; b < batch; b++) {
    const batchQKV = <usize>b * <usize>seq * qkvRow;
    const batchCtx = ctx + <usize>b * <usize>seq * ctxRow;
    const batchMask = maskAdd + <usize>b * probsRow;
    for (let h = 0; h < heads; h++) {
      const column = <usize>h * headBytes;
      const qh = q + batchQKV + column;
      const kh = k + batchQKV + column;
      const vh = v + batchQKV + column;
      const ph = probs + (<usize>b * <usize>heads + <usize>h) * <usize>seq * probsRow;
      const scale: f32 = headMask != 0 ? load<f32>(headMask + (<usize>h << 2)) : 1.0;
      // Query rows go in pairs so that every k and v vector loaded serves two rows.
      let i = 0;
      for (; i + 2 <= seq; i += 2) {
        const pA = ph + <usize>i * probsRow;
        const pB = pA + probsRow;
        const qA = qh + <usize>i * qkvRow;
        scoreRowPair(pA, pB, qA, qA + qkvRow, kh, qkvRow, batchMask, seq, headDim, sqrtD);
        softmaxRow(pA, seq);
        softmaxRow(pB, seq);
        const ctxA = batchCtx + <usize>i * ctxRow + column;
        weightedSumRowPair(ctxA, ctxA + ctxRow, pA, pB, vh, qkvRow, seq, headDim, scale);
      }
      if (i < seq) {
        const pRow = ph + <usize>i * probsRow;
        scoreRow(pRow, qh + <usize>i * qkvRow, kh, qkvRow, batchMask, seq, headDim, sqrtD);
        softmaxRow(pRow, seq);
        weightedSumRow(batchCtx + <usize>i * ctxRow + column, pRow, vh, qkvRow, seq, headDim, scale);
      }
    }
  }
}

/**
 * Gradients of `attention_forward` from its saved probs. With dP' = dCtx·vᵀ (the gradient
 * of the head-masked probabilities) and, per query row i, r_i = Σ_j P_ij·dP'_ij:
 *   dv_j  = hm · Σ_i P_ij · dCtx_i
 *   dS_ij = hm · P_ij · (dP'_ij - r_i)          (softmax backward)
 *   dq_i  = Σ_j dS_ij · k_j / √headDim,   dk_j = Σ_i dS_ij · q_i / √headDim
 *   dHeadMask[h] += Σ_i r_i                   (accumulated; skipped when dHeadMask is 0)
 *
 * dq, dk, dv: f32 `[batch][seq][ldQKV]` outputs, head columns overwritten (they must not
 * overlap q, k, v); dCtx: f32 `[batch][seq][ldCtx]`; probs: f32 `[batch][heads][seq][seq]`
 * from the forward pass; q, k, v, headMask as in `attention_forward`; dHeadMask: f32
 * `[heads]` or 0. dP' is recomputed in a second sweep rather than stored, so no scratch
 * memory is needed; keys with probability 0 (padding) are skipped.
 */
export function attention_backward(
  dq: usize, dk: usize, dv: usize, dHeadMask: usize, dCtx: usize, probs: usize,
  q: usize, k: usize, v: usize, headMask: usize,
  batch: i32, seq: i32, heads: i32, headDim: i32, ldQKV: i32, ldCtx: i32,
): void {
  const qkvRow = <usize>ldQKV << 2;
  const ctxRow = <usize>ldCtx << 2;
  const probsRow = <usize>seq << 2;
  const headBytes = <usize>headDim << 2;
  const sqrtD = Mathf.sqrt(<f32>headDim);
  for (let b = 0; b < batch; b++) {
    const batchQKV = <usize>b * <usize>seq * qkvRow;
    const batchCtx = <usize>b * <usize>seq * ctxRow;
    for (let h = 0; h < heads; h++) {
      const column = <usize>h * headBytes;
      const qh = q + batchQKV + column;
      const kh = k + batchQKV + column;
      const vh = v + batchQKV + column;
      const dqh = dq + batchQKV + column;
      const dkh = dk + batchQKV + column;
      const dvh = dv + batchQKV + column;
      const ph = probs + (<usize>b * <usize>heads + <usize>h) * <usize>seq * probsRow;
      const hm: f32 = headMask != 0 ? load<f32>(headMask + (<usize>h << 2)) : 1.0;
      for (let j = 0; j < seq; j++) {
        zeroRow(dkh + <usize>j * qkvRow, headDim);
        zeroRow(dvh + <usize>j * qkvRow, headDim);
      }
      let headMaskGrad: f64 = 0;
      for (let i = 0; i < seq; i++) {
        const pRow = ph + <usize>i * probsRow;
        const dc = dCtx + batchCtx + <usize>i * ctxRow + column;
        const qi = qh + <usize>i * qkvRow;
        const dqi = dqh + <usize>i * qkvRow;
        let rowDot: f64 = 0;
        for (let j = 0; j < seq; j++) {
          const p = load<f32>(pRow + (<usize>j << 2));
          if (p != 0) rowDot += <f64>p * <f64>dotOne(dc, vh + <usize>j * qkvRow, headDim);
        }
        headMaskGrad += rowDot;
        const r = <f32>rowDot;
        zeroRow(dqi, headDim);
        for (let j = 0; j < seq; j++) {
          const p = load<f32>(pRow + (<usize>j << 2));
          if (p == 0) continue;
          const vj = vh + <usize>j * qkvRow;
          const ds = (hm * p * (dotOne(dc, vj, headDim) - r)) / sqrtD;
          axpy(dqi, ds, kh + <usize>j * qkvRow, headDim);
          axpy(dkh + <usize>j * qkvRow, ds, qi, headDim);
          axpy(dvh + <usize>j * qkvRow, hm * p, dc, headDim);
        }
      }
      if (dHeadMask != 0) {
        const slot = dHeadMask + (<usize>h << 2);
        store<f32>(slot, load<f32>(slot) + <f32>headMaskGrad);
      }
    }
  }
}
