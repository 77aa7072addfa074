// Multi-head self-attention over a (possibly width-sliced) set of heads: the exported
// kernels. The per-row loops they are made of live in attention_rows.ts.
import {
  clearSignsRow, dotRowF64, dropRow, dropoutKeepScale, dropoutKey, dropoutThreshold, markDroppedRow,
  scoreRow, scoreRowPair, softmaxGradRow, softmaxGradRowExtra, softmaxRow, weightedSumRow, weightedSumRowDropped,
  weightedSumRowPair, weightedSumRowPairDropped,
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
 * Dropout counter of probability row (b, h, i), entry 0: the row's flat index in
 * `[batch][heads][seq][seq]` plus `offset`, in wrapping u32 arithmetic, as dropout_forward
 * numbers the elements of a flat tensor.
 */
// @ts-ignore: decorator
@inline function rowCounter(offset: u32, b: i32, h: i32, i: i32, heads: i32, seq: i32): u32 {
  return offset + ((<u32>b * <u32>heads + <u32>h) * <u32>seq + <u32>i) * <u32>seq;
}

/**
 * Scaled dot-product attention for every (batch, head):
 *   probs[b][h][i][j] = softmax_j(q_i·k_j / √headDim + maskAdd[b][j])
 *   ctx[b][i][h·headDim + t] = headMask[h] · Σ_j drop(probs)[b][h][i][j] · v_j[h·headDim + t]
 *
 * q, k, v:  f32 `[batch][seq][ldQKV]`, head h in columns `[h·headDim, (h+1)·headDim)`;
 *           ldQKV ≥ heads·headDim (may be larger, e.g. a fused QKV buffer or full width).
 * maskAdd:  f32 `[batch][seq]`, added to every query's score for key j.
 * headMask: f32 `[heads]` or 0 (all ones); scales P before P·V, not the stored probs.
 * probs:    f32 `[batch][heads][seq][seq]` output, kept for backward: the softmax, before
 *           dropout and head mask.
 * ctx:      f32 `[batch][seq][ldCtx]` output; only columns `< heads·headDim` are written.
 * dropoutP, seed, offset: attention-probability dropout (training). dropoutP = 0 (or any
 *           value not > 0) is none, and then this is exactly the inference kernel. Otherwise
 *           drop(probs) is what `dropout_forward(·, probs, 0, batch·heads·seq·seq, dropoutP,
 *           seed, offset)` would make of the whole tensor, bit for bit; probs stays undropped.
 */
export function attention_forward(
  ctx: usize, probs: usize, q: usize, k: usize, v: usize, maskAdd: usize, headMask: usize,
  batch: i32, seq: i32, heads: i32, headDim: i32, ldQKV: i32, ldCtx: i32,
  dropoutP: f64, seed: u32, offset: u32,
): void {
  const qkvRow = <usize>ldQKV << 2;
  const ctxRow = <usize>ldCtx << 2;
  const probsRow = <usize>seq << 2;
  const headBytes = <usize>headDim << 2;
  // Dividing by √d (rather than multiplying by its reciprocal) matches BERT's
  // `scores / sqrt(d)` and is exact for d = 64.
  const sqrtD = Mathf.sqrt(<f32>headDim);
  const dropping = dropoutP > 0;
  const key = dropping ? dropoutKey(seed) : 0;
  const threshold = dropping ? dropoutThreshold(dropoutP) : 0;
  const keepScale = dropping ? dropoutKeepScale(dropoutP) : 1;
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
        if (!dropping) {
          weightedSumRowPair(ctxA, ctxA + ctxRow, pA, pB, 4, vh, qkvRow, seq, headDim, scale);
        } else {
          // Without scratch memory the mask lives in the rows' sign bits while P·V runs
          // (probabilities are ≥ +0), and is wiped afterwards so probs keeps the softmax.
          const counter = rowCounter(offset, b, h, i, heads, seq);
          markDroppedRow(pA, seq, counter, key, threshold);
          markDroppedRow(pB, seq, counter + <u32>seq, key, threshold);
          weightedSumRowPairDropped(ctxA, ctxA + ctxRow, pA, pB, vh, qkvRow, seq, headDim, scale, keepScale);
          clearSignsRow(pA, seq);
          clearSignsRow(pB, seq);
        }
      }
      if (i < seq) {
        const pRow = ph + <usize>i * probsRow;
        const ctxRowStart = batchCtx + <usize>i * ctxRow + column;
        scoreRow(pRow, qh + <usize>i * qkvRow, kh, qkvRow, batchMask, seq, headDim, sqrtD);
        softmaxRow(pRow, seq);
        if (!dropping) {
          weightedSumRow(ctxRowStart, pRow, 4, vh, qkvRow, seq, headDim, scale);
        } else {
          markDroppedRow(pRow, seq, rowCounter(offset, b, h, i, heads, seq), key, threshold);
          weightedSumRowDropped(ctxRowStart, pRow, vh, qkvRow, seq, headDim, scale, keepScale);
          clearSignsRow(pRow, seq);
        }
      }
    }
  }
}

/** Floats of scratch `attention_backward` needs: two `[seq][seq]` matrices. */
export function attention_backward_scratch_floats(seq: i32): i32 {
  return 2 * seq * seq;
}

/**
 * Gradients of `attention_forward` from its saved probs P. With D = drop(P) (P itself
 * without dropout), dP' = dCtx·vᵀ (the gradient of hm·D) and, per query row i,
 * r_i = Σ_j D_ij·dP'_ij:
 *   dv_j  = hm · Σ_i D_ij · dCtx_i
 *   dS_ij = hm · (D_ij·dP'_ij − P_ij·r_i)      (softmax backward; D/P is the keep factor)
 *   dq_i  = Σ_j dS_ij · k_j / √headDim,   dk_j = Σ_i dS_ij · q_i / √headDim
 *   dHeadMask[h] += Σ_i r_i                   (accumulated; skipped when dHeadMask is 0)
 * With dProbs (E = dL/dP from a loss on the stored probabilities themselves, e.g. TinyBERT's
 * attention-map MSE; P is before dropout and the head mask, so E meets neither), the total
 * gradient at P is hm·(D/P)⊙dP' + E and, with rho_i = Σ_j P_ij·E_ij,
 *   dS_ij = hm · (D_ij·dP'_ij − P_ij·r_i) + P_ij·(E_ij − rho_i)
 * (dv and dHeadMask do not change: E does not pass through P·V).
 *
 * dq, dk, dv: f32 `[batch][seq][ldQKV]` outputs, head columns overwritten (they must not
 * overlap q, k, v); dCtx: f32 `[batch][seq][ldCtx]`; probs: f32 `[batch][heads][seq][seq]`
 * from the forward pass; q, k, v, headMask as in `attention_forward`; dHeadMask: f32
 * `[heads]` or 0. dropoutP, seed, offset: the forward's (the mask is regenerated from them).
 * dProbs: f32 `[batch][heads][seq][seq]` (probs' layout) or 0 for none (then the result is
 * bit for bit the one without it); read only. Last, so callers that predate it pass nothing.
 * scratch: f32 `[2][seq][seq]` (`attention_backward_scratch_floats(seq)`), reused per head:
 * dP' and then dS row by row, and D. Each of dP', dq, dk, dv is one pass of the forward's
 * pair kernels: dk and dv read dS and D by columns.
 */
export function attention_backward(
  dq: usize, dk: usize, dv: usize, dHeadMask: usize, dCtx: usize, probs: usize,
  q: usize, k: usize, v: usize, headMask: usize,
  batch: i32, seq: i32, heads: i32, headDim: i32, ldQKV: i32, ldCtx: i32,
  scratch: usize, dropoutP: f64, seed: u32, offset: u32, dProbs: usize,
): void {
  const qkvRow = <usize>ldQKV << 2;
  const ctxRow = <usize>ldCtx << 2;
  const probsRow = <usize>seq << 2;
  const headBytes = <usize>headDim << 2;
  const sqrtD = Mathf.sqrt(<f32>headDim);
  const dropping = dropoutP > 0;
  const key = dropping ? dropoutKey(seed) : 0;
  const threshold = dropping ? dropoutThreshold(dropoutP) : 0;
  const keepScale = dropping ? dropoutKeepScale(dropoutP) : 1;
  const dS = scratch; // [seq][seq]: row i holds dP'_i, then dS_i
  const dropped = scratch + <usize>seq * probsRow; // [seq][seq]: D, when dropping
  for (let b = 0; b < batch; b++) {
    const batchQKV = <usize>b * <usize>seq * qkvRow;
    const batchCtx = dCtx + <usize>b * <usize>seq * ctxRow;
    for (let h = 0; h < heads; h++) {
      const column = <usize>h * headBytes;
      const qh = q + batchQKV + column;
      const kh = k + batchQKV + column;
      const vh = v + batchQKV + column;
      const dch = batchCtx + column;
      const dqh = dq + batchQKV + column;
      const ph = probs + (<usize>b * <usize>heads + <usize>h) * <usize>seq * probsRow;
      const dh = dropping ? dropped : ph;
      const eh = dProbs != 0 ? dProbs + (<usize>b * <usize>heads + <usize>h) * <usize>seq * probsRow : 0;
      const hm: f32 = headMask != 0 ? load<f32>(headMask + (<usize>h << 2)) : 1.0;
      let headMaskGrad: f64 = 0;
      // Row by row (in pairs): dP' = dCtx·vᵀ, D, r, dS; then dq = dS·k.
      let i = 0;
      for (; i < seq; i += 2) {
        const pair = i + 2 <= seq;
        const gA = dS + <usize>i * probsRow;
        const dcA = dch + <usize>i * ctxRow;
        if (pair) scoreRowPair(gA, gA + probsRow, dcA, dcA + ctxRow, vh, qkvRow, 0, seq, headDim, 1);
        else scoreRow(gA, dcA, vh, qkvRow, 0, seq, headDim, 1);
        const rows = pair ? 2 : 1;
        for (let e = 0; e < rows; e++) {
          const g = gA + <usize>e * probsRow;
          const pRow = ph + <usize>(i + e) * probsRow;
          const dRow = dh + <usize>(i + e) * probsRow;
          if (dropping) dropRow(dRow, pRow, seq, rowCounter(offset, b, h, i + e, heads, seq), key, threshold, keepScale);
          const r = dotRowF64(dRow, g, seq);
          headMaskGrad += r;
          if (eh == 0) softmaxGradRow(g, dRow, pRow, seq, <f32>r, hm, sqrtD);
          else {
            const eRow = eh + <usize>(i + e) * probsRow;
            softmaxGradRowExtra(g, dRow, pRow, eRow, seq, <f32>r, <f32>dotRowF64(pRow, eRow, seq), hm, sqrtD);
          }
        }
        const dqA = dqh + <usize>i * qkvRow;
        if (pair) weightedSumRowPair(dqA, dqA + qkvRow, gA, gA + probsRow, 4, kh, qkvRow, seq, headDim, 1);
        else weightedSumRow(dqA, gA, 4, kh, qkvRow, seq, headDim, 1);
      }
      // Key by key (in pairs): dk_j = Σ_i dS_ij·q_i and dv_j = hm·Σ_i D_ij·dCtx_i, reading
      // columns j of dS and D (stride one row).
      const dkh = dk + batchQKV + column;
      const dvh = dv + batchQKV + column;
      let j = 0;
      for (; j + 2 <= seq; j += 2) {
        const colA = <usize>j << 2;
        const dkA = dkh + <usize>j * qkvRow;
        const dvA = dvh + <usize>j * qkvRow;
        weightedSumRowPair(dkA, dkA + qkvRow, dS + colA, dS + colA + 4, probsRow, qh, qkvRow, seq, headDim, 1);
        weightedSumRowPair(dvA, dvA + qkvRow, dh + colA, dh + colA + 4, probsRow, dch, ctxRow, seq, headDim, hm);
      }
      if (j < seq) {
        const colA = <usize>j << 2;
        weightedSumRow(dkh + <usize>j * qkvRow, dS + colA, probsRow, qh, qkvRow, seq, headDim, 1);
        weightedSumRow(dvh + <usize>j * qkvRow, dh + colA, probsRow, dch, ctxRow, seq, headDim, hm);
      }
      if (dHeadMask != 0) {
        const slot = dHeadMask + (<usize>h << 2);
        store<f32>(slot, load<f32>(slot) + <f32>headMaskGrad);
      }
    }
  }
}
