// BERT input embeddings: word + token type + position.

/**
 * `out[b][s] = (word[ids[b][s]] + type[typeIds[b][s]]) + pos[s]`, in that order
 * (HuggingFace's BertEmbeddings adds token types first, positions second).
 *
 * ids, typeIds: i32 `[batch][seq]` (typeIds 0 → every token is type 0); ids are
 * validated in TypeScript, this kernel trusts them.
 * word: f32 `[vocab][dim]`; pos: f32 `[≥seq][dim]`; type: f32 `[types][dim]`;
 * out: f32 `[batch][seq][dim]`.
 */
export function embedding_forward(
  out: usize, ids: usize, typeIds: usize, word: usize, pos: usize, type: usize,
  batch: i32, seq: i32, dim: i32,
): void {
  const rowBytes = <usize>dim << 2;
  const vecEnd = dim & ~3;
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const token = <usize>(b * seq + s);
      const w = word + <usize>load<i32>(ids + (token << 2)) * rowBytes;
      const ty = type + (typeIds != 0 ? <usize>load<i32>(typeIds + (token << 2)) * rowBytes : 0);
      const p = pos + <usize>s * rowBytes;
      const y = out + token * rowBytes;
      for (let t = 0; t < vecEnd; t += 4) {
        const offset = <usize>t << 2;
        const sum = f32x4.add(v128.load(w + offset), v128.load(ty + offset));
        v128.store(y + offset, f32x4.add(sum, v128.load(p + offset)));
      }
      for (let t = vecEnd; t < dim; t++) {
        const offset = <usize>t << 2;
        store<f32>(y + offset, load<f32>(w + offset) + load<f32>(ty + offset) + load<f32>(p + offset));
      }
    }
  }
}

/**
 * Gradients of `embedding_forward`, accumulated (+=) into the parameter gradients:
 *   dWord[ids[b][s]] += dOut[b][s]   except for word row `padId` (padding_idx: no gradient;
 *                                    padId < 0 means every row gets one)
 *   dPos[s]          += Σ_b dOut[b][s]
 *   dType[typeIds[b][s]] += dOut[b][s]   (typeIds 0 → type 0)
 * dWord: f32 `[vocab][dim]`; dPos: f32 `[≥seq][dim]`; dType: f32 `[types][dim]`;
 * dOut: f32 `[batch][seq][dim]`; ids, typeIds: i32 `[batch][seq]`.
 */
export function embedding_backward(
  dWord: usize, dPos: usize, dType: usize, dOut: usize, ids: usize, typeIds: usize,
  batch: i32, seq: i32, dim: i32, padId: i32,
): void {
  const rowBytes = <usize>dim << 2;
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const token = <usize>(b * seq + s);
      const g = dOut + token * rowBytes;
      const id = load<i32>(ids + (token << 2));
      if (id != padId) addRow(dWord + <usize>id * rowBytes, g, dim);
      addRow(dPos + <usize>s * rowBytes, g, dim);
      addRow(dType + (typeIds != 0 ? <usize>load<i32>(typeIds + (token << 2)) * rowBytes : 0), g, dim);
    }
  }
}

/** dst[t] += src[t] for t < dim. */
function addRow(dst: usize, src: usize, dim: i32): void {
  const vecEnd = dim & ~3;
  for (let t = 0; t < vecEnd; t += 4) {
    const offset = <usize>t << 2;
    v128.store(dst + offset, f32x4.add(v128.load(dst + offset), v128.load(src + offset)));
  }
  for (let t = vecEnd; t < dim; t++) {
    const offset = <usize>t << 2;
    store<f32>(dst + offset, load<f32>(dst + offset) + load<f32>(src + offset));
  }
}
