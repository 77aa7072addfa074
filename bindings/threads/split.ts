/**
 * How each threaded kernel's work is divided. A part is a list of calls to
 * the same kernel on a sub-range, built only from pointer offsets and
 * smaller sizes over the same buffers, so that every output element is
 * computed by exactly the code, in exactly the order, of the undivided call:
 * threaded results equal single-threaded ones bit for bit.
 *
 * - linear_forward, linear_backward_weight: ranges of whole weight panels
 *   (output columns), which are a pointer offset in the packed layout;
 * - linear_backward_input: ranges of reduction indices t (dInp columns),
 *   a pointer offset within every panel;
 * - attention_forward: ranges of (batch, head) pairs;
 * - layernorm_forward: ranges of rows; gelu_forward, add_forward: ranges of
 *   elements, cut at cache-line multiples.
 * Each splitter returns undefined when the call is too small to be worth
 * waking the workers for (see CutOver).
 */
import type { KernelCall } from "./control.js";
import { kernelIndex } from "./kernels.js";

/**
 * The least work a call must have before it is split: below it, waking the
 * workers and waiting for them costs more than they save. Units: multiply-adds
 * (linear), batch·heads·seq²·headDim (attention), elements (layernorm:
 * rows·dim; gelu, add: n).
 */
export interface CutOver {
  readonly linear: number;
  readonly attention: number;
  readonly layernorm: number;
  readonly gelu: number;
  /** An addition is so cheap that only long ones repay the hand-off. */
  readonly add: number;
}

/** Every call split, however small: for tests that must exercise the split path. */
export const ALWAYS_SPLIT: CutOver = { linear: 0, attention: 0, layernorm: 0, gelu: 0, add: 0 };

/** Output features per packed panel (gemm_panel_width()); the layout of assembly/gemm.ts. */
export type PanelWidth = number;

const F32 = 4;
/** Reduction indices per backward-input split unit (the kernel's T_BAND, so bands stay whole). */
const T_UNIT = 16;
/** Elements per element-wise split unit: one 64-byte cache line, so parts never share one. */
const ELEMENT_UNIT = 16;

/**
 * [start, end) ranges covering [0, count) in at most `parts` nearly equal
 * pieces whose boundaries are multiples of `unit`; fewer when count is small.
 */
export function splitRange(count: number, parts: number, unit = 1): [number, number][] {
  const units = Math.ceil(count / unit);
  const n = Math.min(parts, units);
  const out: [number, number][] = [];
  for (let t = 0; t < n; t++) {
    const start = Math.floor((t * units) / n) * unit;
    const end = Math.min(count, Math.floor(((t + 1) * units) / n) * unit);
    if (end > start) out.push([start, end]);
  }
  return out;
}

type Parts = KernelCall[][] | undefined;

function single(kernel: number, ranges: [number, number][], args: (start: number, end: number) => number[]): Parts {
  if (ranges.length < 2) return undefined;
  return ranges.map(([start, end]) => [{ kernel, args: args(start, end) }]);
}

const LINEAR_FORWARD = kernelIndex("linear_forward");
const LINEAR_BACKWARD_INPUT = kernelIndex("linear_backward_input");
const LINEAR_BACKWARD_WEIGHT = kernelIndex("linear_backward_weight");
const ATTENTION_FORWARD = kernelIndex("attention_forward");
const LAYERNORM_FORWARD = kernelIndex("layernorm_forward");
const GELU_FORWARD = kernelIndex("gelu_forward");
const ADD_FORWARD = kernelIndex("add_forward");

/** An optional pointer (0 = absent) moved by `bytes`. */
const offset = (ptr: number, bytes: number) => (ptr === 0 ? 0 : ptr + bytes);

/** linear_forward(out, inp, wp, bias, m, n, k, kFull, ldInp, ldOut) over ranges of panels. */
export function splitLinearForward(args: readonly number[], parts: number, panel: PanelWidth, cut: CutOver): Parts {
  const [out, inp, wp, bias, m, n, k, kFull, ldInp, ldOut] = args;
  if (m <= 0 || n <= 0 || m * n * k < cut.linear) return undefined;
  const panelBytes = kFull * panel * F32;
  return single(LINEAR_FORWARD, splitRange(Math.ceil(n / panel), parts), (p0, p1) => {
    const j0 = p0 * panel;
    const cols = Math.min(n, p1 * panel) - j0;
    return [out + j0 * F32, inp, wp + p0 * panelBytes, offset(bias, j0 * F32), m, cols, k, kFull, ldInp, ldOut];
  });
}

/** linear_backward_input(dInp, dOut, wp, m, n, k, kFull, ldDInp, ldDOut, accumulate) over ranges of t < k. */
export function splitLinearBackwardInput(args: readonly number[], parts: number, panel: PanelWidth, cut: CutOver): Parts {
  const [dInp, dOut, wp, m, n, k, kFull, ldDInp, ldDOut, accumulate] = args;
  if (m <= 0 || k <= 0 || m * Math.max(n, 1) * k < cut.linear) return undefined;
  return single(LINEAR_BACKWARD_INPUT, splitRange(k, parts, T_UNIT), (t0, t1) => [
    dInp + t0 * F32, dOut, wp + t0 * panel * F32, m, n, t1 - t0, kFull, ldDInp, ldDOut, Number(accumulate),
  ]);
}

/** linear_backward_weight(dWp, dBias, dOut, inp, m, n, k, kFull, ldInp, ldDOut) over ranges of panels. */
export function splitLinearBackwardWeight(args: readonly number[], parts: number, panel: PanelWidth, cut: CutOver): Parts {
  const [dWp, dBias, dOut, inp, m, n, k, kFull, ldInp, ldDOut] = args;
  if (m <= 0 || n <= 0 || m * n * Math.max(k, 1) < cut.linear) return undefined;
  const panelBytes = kFull * panel * F32;
  return single(LINEAR_BACKWARD_WEIGHT, splitRange(Math.ceil(n / panel), parts), (p0, p1) => {
    const j0 = p0 * panel;
    const cols = Math.min(n, p1 * panel) - j0;
    return [offset(dWp, p0 * panelBytes), offset(dBias, j0 * F32), dOut + j0 * F32, inp, m, cols, k, kFull, ldInp, ldDOut];
  });
}

/**
 * attention_forward(ctx, probs, q, k, v, maskAdd, headMask, batch, seq, heads,
 * headDim, ldQKV, ldCtx, dropoutP, seed, offset) over ranges of (batch, head)
 * pairs, numbered b·heads + h. A range becomes at most three calls: the tail
 * of one batch's heads, whole batches, the head of another's. Each call's
 * probs block is contiguous in [batch][heads][seq][seq], and its dropout
 * counter offset moves by the elements before it, so masks are unchanged.
 */
export function splitAttentionForward(args: readonly number[], parts: number, cut: CutOver): Parts {
  const [ctx, probs, q, k, v, maskAdd, headMask, batch, seq, heads, headDim, ldQKV, ldCtx, dropoutP, seed, dropOffset] = args;
  const pairs = batch * heads;
  if (pairs <= 0 || seq <= 0 || pairs * seq * seq * headDim < cut.attention) return undefined;
  const ranges = splitRange(pairs, parts);
  if (ranges.length < 2) return undefined;
  const call = (b0: number, nb: number, h0: number, h1: number): KernelCall => {
    const probsBefore = (b0 * heads + h0) * seq * seq;
    const qkv = (b0 * seq * ldQKV + h0 * headDim) * F32;
    return {
      kernel: ATTENTION_FORWARD,
      args: [
        ctx + (b0 * seq * ldCtx + h0 * headDim) * F32, probs + probsBefore * F32, q + qkv, k + qkv, v + qkv,
        maskAdd + b0 * seq * F32, offset(headMask, h0 * F32), nb, seq, h1 - h0, headDim, ldQKV, ldCtx,
        dropoutP, seed, (dropOffset + probsBefore) >>> 0,
      ],
    };
  };
  return ranges.map(([u0, u1]) => {
    const calls: KernelCall[] = [];
    let u = u0;
    while (u < u1) {
      const b = Math.floor(u / heads);
      const h = u % heads;
      if (h === 0 && u1 - u >= heads) {
        const nb = Math.floor((u1 - u) / heads);
        calls.push(call(b, nb, 0, heads));
        u += nb * heads;
      } else {
        const h1 = Math.min(heads, h + (u1 - u));
        calls.push(call(b, 1, h, h1));
        u += h1 - h;
      }
    }
    return calls;
  });
}

/** layernorm_forward(out, inp, gamma, beta, mean, rstd, rows, dim, eps) over ranges of rows. */
export function splitLayerNormForward(args: readonly number[], parts: number, cut: CutOver): Parts {
  const [out, inp, gamma, beta, mean, rstd, rows, dim, eps] = args;
  if (rows <= 0 || rows * dim < cut.layernorm) return undefined;
  const rowBytes = dim * F32;
  return single(LAYERNORM_FORWARD, splitRange(rows, parts), (r0, r1) => [
    out + r0 * rowBytes, inp + r0 * rowBytes, gamma, beta, offset(mean, r0 * F32), offset(rstd, r0 * F32), r1 - r0, dim, eps,
  ]);
}

/** gelu_forward(out, inp, n) over ranges of elements. */
export function splitGeluForward(args: readonly number[], parts: number, cut: CutOver): Parts {
  const [out, inp, n] = args;
  if (n <= 0 || n < cut.gelu) return undefined;
  return single(GELU_FORWARD, splitRange(n, parts, ELEMENT_UNIT), (e0, e1) => [out + e0 * F32, inp + e0 * F32, e1 - e0]);
}

/** add_forward(out, a, b, n) over ranges of elements. */
export function splitAddForward(args: readonly number[], parts: number, cut: CutOver): Parts {
  const [out, a, b, n] = args;
  if (n <= 0 || n < cut.add) return undefined;
  return single(ADD_FORWARD, splitRange(n, parts, ELEMENT_UNIT), (e0, e1) => [out + e0 * F32, a + e0 * F32, b + e0 * F32, e1 - e0]);
}
