import { attention_forward } from "../attention";
import { AttentionReference, Rng, randomF32 } from "./reference_ops";
function run(batch: i32, seq: i32, heads: i32, hd: i32, scale: f64): void {
  const ld = heads * hd;
  const rng = new Rng(5);
  const q = randomF32(rng, batch * seq * ld, -scale, scale);
  const k = randomF32(rng, batch * seq * ld, -scale, scale);
  const v = randomF32(rng, batch * seq * ld, -1, 1);
  const mask = new Float32Array(batch * seq);
  if (batch > 1) for (let j = seq / 2; j < seq; j++) mask[seq + j] = -10000;
  const probs = new Float32Array(batch * heads * seq * seq);
  const ctx = new Float32Array(batch * seq * ld);
  attention_forward(ctx.dataStart, probs.dataStart, q.dataStart, k.dataStart, v.dataStart, mask.dataStart, 0, batch, seq, heads, hd, ld, ld);
  const ref = new AttentionReference(q, 0, k, 0, v, 0, mask, null, batch, seq, heads, hd, ld);
  const U = 5.960464477539063e-8;
  let worstP = 0.0; let worstC = 0.0;
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < seq; i++) {
    let amax = 0.0;
    const A = new Float64Array(seq);
    for (let j = 0; j < seq; j++) { let a = 0.0; for (let t = 0; t < hd; t++) a += Math.abs(<f64>q[(b*seq+i)*ld+h*hd+t] * <f64>k[(b*seq+j)*ld+h*hd+t]); A[j] = a / Math.sqrt(<f64>hd); if (A[j] > amax) amax = A[j]; }
    for (let j = 0; j < seq; j++) { const idx = ((b*heads+h)*seq+i)*seq+j; const r = ref.probs[idx]; const tol = r * (9.5367431640625e-7 + 4*U*(A[j]+amax)); const e = Math.abs(<f64>probs[idx]-r); if (tol > 0 && e/tol > worstP) worstP = e/tol; if (tol == 0 && e != 0) worstP = 1e9; }
    for (let t = 0; t < hd; t++) { const idx = (b*seq+i)*ld+h*hd+t; const tol = ref.ctxMagnitude[idx] * (9.5367431640625e-7 + 8*U*amax); const e = Math.abs(<f64>ctx[idx]-ref.ctx[idx]); if (e/tol > worstC) worstC = e/tol; }
  }
  log<string>("ratios " + worstP.toString() + " " + worstC.toString());
  let maxRel = 0.0; let maxAbs = 0.0; let maxCtx = 0.0; let maxCtxAbs = 0.0;
  for (let i = 0; i < probs.length; i++) {
    const r = ref.probs[i];
    const e = Math.abs(<f64>probs[i] - r);
    if (r > 0 && e / r > maxRel) maxRel = e / r;
    if (e > maxAbs) maxAbs = e;
  }
  for (let i = 0; i < ctx.length; i++) {
    const e = Math.abs(<f64>ctx[i] - ref.ctx[i]);
    if (e / ref.ctxMagnitude[i] > maxCtx) maxCtx = e / ref.ctxMagnitude[i];
    if (e > maxCtxAbs) maxCtxAbs = e;
  }
  log<string>(seq.toString() + " hd " + hd.toString() + " scale " + scale.toString() + ": probs rel " + maxRel.toString() + " abs " + maxAbs.toString() + " ctx rel-to-magnitude " + maxCtx.toString() + " abs " + maxCtxAbs.toString());
}
describe("explore", () => {
  it("attention errors", () => {
    run(2, 7, 3, 5, 1.0);
    run(2, 129, 3, 9, 1.0);
    run(2, 129, 2, 64, 1.0);
    run(2, 129, 2, 64, 3.0);
    run(2, 129, 2, 64, 6.0);
    run(2, 33, 3, 17, 4.0);
    run(1, 1, 1, 3, 1.0);
  });
});
