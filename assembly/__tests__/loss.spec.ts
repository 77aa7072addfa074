/// <reference types="@as-pect/assembly/types/as-pect" />
import {
  attention_mse_forward_backward,
  cosine_embedding_forward_backward,
  cross_entropy_forward_backward,
  masked_lm_cross_entropy_forward_backward,
  mse_forward_backward,
  soft_cross_entropy_forward_backward,
} from "../loss";
import { Rng, SENTINEL, filledF32, randomF32 } from "./reference_ops";
import {
  CosineRef,
  CrossEntropyRef,
  GRADIENT_TOLERANCE,
  LOSS_TOLERANCE,
  MseRef,
  SoftCrossEntropyRef,
  addedGradient,
  finiteDifference,
  gradientError,
  toF64,
} from "./reference_train";

const IGNORE: i32 = -100;

function randomLabels(rng: Rng, n: i32, classes: i32): Int32Array {
  const l = new Int32Array(n);
  for (let i = 0; i < n; i++) l[i] = rng.below(classes);
  return l;
}

function expectLossNear(got: f64, want: f64, what: string): void {
  expect<f64>(Math.abs(got - want)).toBeLessThanOrEqual(LOSS_TOLERANCE * Math.max(1.0, Math.abs(want)), what);
}

/** A gradient buffer prefilled with small random values (the += must keep them). */
function prefilled(rng: Rng, n: i32): Float32Array {
  return randomF32(rng, n, -0.05, 0.05);
}

function copyOf(a: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i];
  return c;
}

function expectBitsEqual(a: Float32Array, b: Float32Array, what: string): void {
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) diff++;
  expect<i32>(diff).toBe(0, what);
}

describe("gradient tolerance", () => {
  it("rejects a sign error, a missing 1/batch and a missing factor 2", () => {
    // The bound every gradient test below uses, applied to gradients that are wrong
    // in the ways a kernel typically is: if these passed, the tests would prove nothing.
    const rng = new Rng(5);
    const batch = 3, classes = 4;
    const logits = toF64(randomF32(rng, batch * classes, -3.0, 3.0));
    const ref = new CrossEntropyRef(randomLabels(rng, batch, classes), classes, 0, false);
    const fd = finiteDifference(ref, logits, null);
    const flipped = new Float64Array(fd.length);
    const unaveraged = new Float64Array(fd.length);
    const halved = new Float64Array(fd.length);
    for (let i = 0; i < fd.length; i++) {
      flipped[i] = -fd[i];
      unaveraged[i] = fd[i] * <f64>batch;
      halved[i] = fd[i] * 0.5;
    }
    expect<f64>(gradientError(flipped, fd, null)).toBeGreaterThan(1000.0 * GRADIENT_TOLERANCE);
    expect<f64>(gradientError(unaveraged, fd, null)).toBeGreaterThan(1000.0 * GRADIENT_TOLERANCE);
    expect<f64>(gradientError(halved, fd, null)).toBeGreaterThan(1000.0 * GRADIENT_TOLERANCE);
  });
});

describe("cross_entropy_forward_backward", () => {
  it("matches the f64 mean of −log softmax[label] and its finite differences (batch 1, 3, 7; classes 2, 3, 5, 9, 30)", () => {
    const rng = new Rng(11);
    const batches: i32[] = [1, 3, 7];
    const classCounts: i32[] = [2, 3, 5, 9, 30];
    for (let bi = 0; bi < batches.length; bi++) {
      for (let ci = 0; ci < classCounts.length; ci++) {
        const batch = batches[bi], classes = classCounts[ci];
        const what = "batch " + batch.toString() + " classes " + classes.toString();
        const logits = randomF32(rng, batch * classes, -6.0, 6.0);
        const labels = randomLabels(rng, batch, classes);
        const scale: f32 = 0.75;
        const grad = new Float32Array(batch * classes);
        const loss = cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, batch, classes, scale);
        const ref = new CrossEntropyRef(labels, classes, 0, false);
        const x = toF64(logits);
        expectLossNear(loss, ref.value(x), what);
        const fd = finiteDifference(ref, x, null);
        expect<f64>(gradientError(addedGradient(grad, new Float32Array(grad.length), <f64>scale), fd, null))
          .toBeLessThanOrEqual(GRADIENT_TOLERANCE, what);
      }
    }
  });

  it("adds to the gradient buffer instead of overwriting it", () => {
    const rng = new Rng(12);
    const batch = 7, classes = 5;
    const logits = randomF32(rng, batch * classes, -4.0, 4.0);
    const labels = randomLabels(rng, batch, classes);
    const before = prefilled(rng, batch * classes);
    const grad = copyOf(before);
    cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, batch, classes, 1.0);
    const fd = finiteDifference(new CrossEntropyRef(labels, classes, 0, false), toF64(logits), null);
    expect<f64>(gradientError(addedGradient(grad, before, 1.0), fd, null)).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
  });

  it("stays finite and exact for logits in the thousands (max subtraction)", () => {
    const batch = 2, classes = 3;
    const logits = new Float32Array(batch * classes);
    logits[0] = 1000.0; logits[1] = 998.0; logits[2] = -1000.0;
    logits[3] = -5000.0; logits[4] = -5003.0; logits[5] = -4999.5;
    const labels = new Int32Array(batch);
    labels[0] = 1; labels[1] = 0;
    const grad = new Float32Array(batch * classes);
    const loss = cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, batch, classes, 1.0);
    const ref = new CrossEntropyRef(labels, classes, 0, false);
    const x = toF64(logits);
    expectLossNear(loss, ref.value(x), "large logits");
    expect<f64>(gradientError(addedGradient(grad, new Float32Array(grad.length), 1.0), finiteDifference(ref, x, null), null))
      .toBeLessThanOrEqual(GRADIENT_TOLERANCE);
  });

  it("returns NaN for an out-of-range label and leaves that row's gradient alone", () => {
    const rng = new Rng(13);
    const batch = 3, classes = 4;
    const logits = randomF32(rng, batch * classes, -2.0, 2.0);
    const labels = new Int32Array(batch);
    labels[0] = 1; labels[1] = classes; labels[2] = -1;
    const grad = filledF32(batch * classes, SENTINEL);
    const loss = cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, batch, classes, 1.0);
    expect<bool>(isNaN(loss)).toBe(true);
    for (let j = 0; j < classes; j++) {
      expect<f32>(grad[classes + j]).toBe(SENTINEL, "row 1 (label = classes) untouched");
      expect<f32>(grad[2 * classes + j]).toBe(SENTINEL, "row 2 (label −1) untouched");
    }
    // Row 0 still gets its (softmax − onehot)/batch.
    let changed = 0;
    for (let j = 0; j < classes; j++) if (grad[j] != SENTINEL) changed++;
    expect<i32>(changed).toBe(classes);
  });

  it("with batch 0 returns 0 and writes nothing", () => {
    const grad = filledF32(4, SENTINEL);
    const logits = new Float32Array(4);
    const labels = new Int32Array(1);
    expect<f64>(cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, 0, 4, 1.0)).toBe(0.0);
    for (let i = 0; i < 4; i++) expect<f32>(grad[i]).toBe(SENTINEL);
  });
});

describe("masked_lm_cross_entropy_forward_backward", () => {
  it("over a 30522-word vocabulary averages only rows not labelled −100; ignored rows get no gradient", () => {
    const rng = new Rng(21);
    const rows = 3, vocab = 30522; // vocab % 4 = 2: the vector loop's tail runs on every row
    const logits = randomF32(rng, rows * vocab, -8.0, 8.0);
    const labels = new Int32Array(rows);
    labels[0] = 30521; // the very last word, in the tail
    labels[1] = IGNORE;
    labels[2] = 1234;
    logits[2 * vocab + 1234] = 12.0; // a confident, correct row next to a hard one
    const before = prefilled(rng, rows * vocab);
    const grad = copyOf(before);
    const scale: f32 = 0.5;
    const loss = masked_lm_cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, rows, vocab, IGNORE, scale);
    const ref = new CrossEntropyRef(labels, vocab, IGNORE, true);
    const x = toF64(logits);
    expectLossNear(loss, ref.value(x), "mlm loss");

    // Ignored row: bit-for-bit what it was.
    let touched = 0;
    for (let j = 0; j < vocab; j++) if (reinterpret<u32>(grad[vocab + j]) != reinterpret<u32>(before[vocab + j])) touched++;
    expect<i32>(touched).toBe(0, "ignored row untouched");

    // Every element against the analytic f64 gradient (1/2 of rows counted, not 1/3)...
    const added = addedGradient(grad, before, <f64>scale);
    expect<f64>(gradientError(added, ref.gradient(x), null)).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    // ...and that gradient itself against finite differences at the elements that matter
    // most: each label, each row's largest logit, the tail, and random words.
    const picks = new Int32Array(48);
    let k = 0;
    for (let r = 0; r < rows; r++) {
      if (labels[r] != IGNORE) picks[k++] = r * vocab + labels[r];
      picks[k++] = r * vocab + vocab - 1;
      picks[k++] = r * vocab + vocab - 3;
    }
    while (k < picks.length) picks[k++] = rng.below(rows * vocab);
    const fd = finiteDifference(ref, x, picks);
    expect<f64>(gradientError(added, fd, picks)).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
  });

  it("with every row ignored returns 0 (not NaN) and writes nothing", () => {
    const rows = 2, vocab = 7;
    const logits = randomF32(new Rng(22), rows * vocab, -1.0, 1.0);
    const labels = new Int32Array(rows);
    labels.fill(IGNORE);
    const grad = filledF32(rows * vocab, SENTINEL);
    const loss = masked_lm_cross_entropy_forward_backward(grad.dataStart, logits.dataStart, labels.dataStart, rows, vocab, IGNORE, 1.0);
    expect<f64>(loss).toBe(0.0);
    for (let i = 0; i < grad.length; i++) expect<f32>(grad[i]).toBe(SENTINEL);
  });

  it("equals cross_entropy_forward_backward bit for bit when no row is ignored", () => {
    const rng = new Rng(23);
    const rows = 5, vocab = 11;
    const logits = randomF32(rng, rows * vocab, -5.0, 5.0);
    const labels = randomLabels(rng, rows, vocab);
    const a = new Float32Array(rows * vocab);
    const b = new Float32Array(rows * vocab);
    const la = masked_lm_cross_entropy_forward_backward(a.dataStart, logits.dataStart, labels.dataStart, rows, vocab, IGNORE, 0.3);
    const lb = cross_entropy_forward_backward(b.dataStart, logits.dataStart, labels.dataStart, rows, vocab, 0.3);
    expect<f64>(la).toBe(lb);
    expectBitsEqual(a, b, "gradients");
  });
});

describe("soft_cross_entropy_forward_backward", () => {
  it("matches −mean Σ softmax(t)·log_softmax(s) and its finite differences in s (batch 1, 3, 7; classes 2, 3, 9)", () => {
    const rng = new Rng(31);
    const batches: i32[] = [1, 3, 7];
    const classCounts: i32[] = [2, 3, 9];
    for (let bi = 0; bi < batches.length; bi++) {
      for (let ci = 0; ci < classCounts.length; ci++) {
        const batch = batches[bi], classes = classCounts[ci];
        const what = "batch " + batch.toString() + " classes " + classes.toString();
        const student = randomF32(rng, batch * classes, -5.0, 5.0);
        const teacher = randomF32(rng, batch * classes, -5.0, 5.0);
        const teacherCopy = copyOf(teacher);
        const before = prefilled(rng, batch * classes);
        const grad = copyOf(before);
        const scale: f32 = 1.25;
        const loss = soft_cross_entropy_forward_backward(grad.dataStart, student.dataStart, teacher.dataStart, batch, classes, scale);
        const ref = new SoftCrossEntropyRef(toF64(teacher), batch, classes);
        const s = toF64(student);
        expectLossNear(loss, ref.value(s), what);
        expect<f64>(gradientError(addedGradient(grad, before, <f64>scale), finiteDifference(ref, s, null), null))
          .toBeLessThanOrEqual(GRADIENT_TOLERANCE, what);
        expectBitsEqual(teacher, teacherCopy, "teacher logits are read only");
      }
    }
  });

  it("at student = teacher gives the teacher's entropy and a zero gradient", () => {
    const rng = new Rng(32);
    const batch = 3, classes = 6;
    const t = randomF32(rng, batch * classes, -3.0, 3.0);
    const grad = new Float32Array(batch * classes);
    const loss = soft_cross_entropy_forward_backward(grad.dataStart, t.dataStart, t.dataStart, batch, classes, 1.0);
    const x = toF64(t);
    let entropy = 0.0;
    for (let b = 0; b < batch; b++) {
      let lse = -Infinity;
      let m = -Infinity;
      for (let j = 0; j < classes; j++) m = Math.max(m, x[b * classes + j]);
      let s = 0.0;
      for (let j = 0; j < classes; j++) s += Math.exp(x[b * classes + j] - m);
      lse = m + Math.log(s);
      for (let j = 0; j < classes; j++) {
        const p = Math.exp(x[b * classes + j] - lse);
        entropy -= p * (x[b * classes + j] - lse);
      }
    }
    expectLossNear(loss, entropy / <f64>batch, "entropy");
    // Both softmaxes come from the same f32 arithmetic, so they cancel exactly.
    for (let i = 0; i < grad.length; i++) expect<f32>(Mathf.abs(grad[i])).toBe(0.0);
  });
});

describe("mse_forward_backward", () => {
  it("is the mean of (a − b)² over every element with dA += scale·2(a − b)/n (n = 1, 3, 4, 7, 1001)", () => {
    const rng = new Rng(41);
    const sizes: i32[] = [1, 3, 4, 7, 1001];
    for (let si = 0; si < sizes.length; si++) {
      const n = sizes[si];
      const a = randomF32(rng, n, -2.0, 2.0);
      const b = randomF32(rng, n, -2.0, 2.0);
      const before = prefilled(rng, n);
      const grad = copyOf(before);
      const scale: f32 = 0.1;
      const loss = mse_forward_backward(grad.dataStart, a.dataStart, b.dataStart, n, scale);
      const ref = new MseRef(toF64(b), false);
      const x = toF64(a);
      expectLossNear(loss, ref.value(x), "n " + n.toString());
      expect<f64>(gradientError(addedGradient(grad, before, <f64>scale), finiteDifference(ref, x, null), null))
        .toBeLessThanOrEqual(GRADIENT_TOLERANCE, "n " + n.toString());
    }
  });

  it("with n = 0 returns 0 and writes nothing", () => {
    const grad = filledF32(2, SENTINEL);
    expect<f64>(mse_forward_backward(grad.dataStart, grad.dataStart, grad.dataStart, 0, 1.0)).toBe(0.0);
    expect<f32>(grad[0]).toBe(SENTINEL);
  });
});

describe("attention_mse_forward_backward", () => {
  it("zeroes scores ≤ −100 in student and teacher, then averages (a − b)²; no gradient through zeroed scores", () => {
    const rng = new Rng(51);
    const n = 203;
    const a = randomF32(rng, n, -8.0, 8.0);
    const b = randomF32(rng, n, -8.0, 8.0);
    // Masked keys: −10000 added (both, student only, teacher only) and the edge −100 itself.
    for (let i = 0; i < n; i += 5) a[i] -= 10000.0;
    for (let i = 0; i < n; i += 7) b[i] -= 10000.0;
    a[3] = -100.0;
    b[4] = -100.0;
    const before = prefilled(rng, n);
    const grad = copyOf(before);
    const scale: f32 = 0.5;
    const loss = attention_mse_forward_backward(grad.dataStart, a.dataStart, b.dataStart, n, scale);
    const ref = new MseRef(toF64(b), true);
    const x = toF64(a);
    expectLossNear(loss, ref.value(x), "attention mse");
    // −100 itself sits on the edge where differencing straddles the rule; it is checked
    // exactly below instead.
    const picks = new Int32Array(n - 1);
    let k = 0;
    for (let i = 0; i < n; i++) if (i != 3) picks[k++] = i;
    const fd = finiteDifference(ref, x, picks);
    const added = addedGradient(grad, before, <f64>scale);
    expect<f64>(gradientError(added, fd, picks)).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    for (let i = 0; i < n; i += 5) expect<f32>(grad[i]).toBe(before[i], "no gradient at a masked student score");
    expect<f32>(grad[3]).toBe(before[3], "a score of exactly −100 counts as masked");
  });

  it("on probabilities (nothing ≤ −100) is exactly mse_forward_backward", () => {
    const rng = new Rng(52);
    const n = 99;
    const a = randomF32(rng, n, 0.0, 1.0);
    const b = randomF32(rng, n, 0.0, 1.0);
    const g1 = new Float32Array(n);
    const g2 = new Float32Array(n);
    const l1 = attention_mse_forward_backward(g1.dataStart, a.dataStart, b.dataStart, n, 1.0);
    const l2 = mse_forward_backward(g2.dataStart, a.dataStart, b.dataStart, n, 1.0);
    expect<f64>(l1).toBe(l2);
    expectBitsEqual(g1, g2, "gradients");
  });
});

describe("cosine_embedding_forward_backward", () => {
  it("is the mean of 1 − cos(a_r, b_r) with its finite differences (rows 1, 3, 7; dim 3, 8, 13)", () => {
    const rng = new Rng(61);
    const rowCounts: i32[] = [1, 3, 7];
    const dims: i32[] = [3, 8, 13];
    for (let ri = 0; ri < rowCounts.length; ri++) {
      for (let di = 0; di < dims.length; di++) {
        const rows = rowCounts[ri], dim = dims[di];
        const what = "rows " + rows.toString() + " dim " + dim.toString();
        const a = randomF32(rng, rows * dim, -1.0, 1.0);
        const b = randomF32(rng, rows * dim, -1.0, 1.0);
        const before = prefilled(rng, rows * dim);
        const grad = copyOf(before);
        const scale: f32 = 2.0;
        const loss = cosine_embedding_forward_backward(grad.dataStart, a.dataStart, b.dataStart, 0, rows, dim, scale);
        const ref = new CosineRef(toF64(b), null, rows, dim);
        const x = toF64(a);
        expectLossNear(loss, ref.value(x), what);
        expect<f64>(gradientError(addedGradient(grad, before, <f64>scale), finiteDifference(ref, x, null), null))
          .toBeLessThanOrEqual(GRADIENT_TOLERANCE, what);
      }
    }
  });

  it("averages only rows whose mask is non-zero and leaves the others' gradient alone", () => {
    const rng = new Rng(62);
    const rows = 5, dim = 6;
    const a = randomF32(rng, rows * dim, -1.0, 1.0);
    const b = randomF32(rng, rows * dim, -1.0, 1.0);
    const mask = new Int32Array(rows);
    mask[0] = 1; mask[2] = 1; mask[3] = 7;
    const before = prefilled(rng, rows * dim);
    const grad = copyOf(before);
    const loss = cosine_embedding_forward_backward(grad.dataStart, a.dataStart, b.dataStart, mask.dataStart, rows, dim, 1.0);
    const ref = new CosineRef(toF64(b), mask, rows, dim);
    const x = toF64(a);
    expectLossNear(loss, ref.value(x), "masked");
    expect<f64>(gradientError(addedGradient(grad, before, 1.0), finiteDifference(ref, x, null), null))
      .toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    for (let j = 0; j < dim; j++) {
      expect<f32>(grad[dim + j]).toBe(before[dim + j]);
      expect<f32>(grad[4 * dim + j]).toBe(before[4 * dim + j]);
    }
  });

  it("is finite at zero-norm rows: loss 1, torch's −b/√(ε·|b|²) gradient for a = 0, none for b = 0", () => {
    const rows = 3, dim = 5;
    const a = new Float32Array(rows * dim);
    const b = new Float32Array(rows * dim);
    for (let j = 0; j < dim; j++) {
      b[j] = <f32>(j + 1) * 0.25; // row 0: a = 0
      a[dim + j] = <f32>(j - 2); // row 1: b = 0
      a[2 * dim + j] = 0.5; // row 2: ordinary
      b[2 * dim + j] = <f32>(dim - j);
    }
    const grad = new Float32Array(rows * dim);
    const loss = cosine_embedding_forward_backward(grad.dataStart, a.dataStart, b.dataStart, 0, rows, dim, 1.0);
    const ref = new CosineRef(toF64(b), null, rows, dim);
    const x = toF64(a);
    expectLossNear(loss, ref.value(x), "zero rows");
    expect<f64>(ref.cos(x, 0)).toBe(0.0);
    expect<f64>(ref.cos(x, 1)).toBe(0.0);
    for (let i = 0; i < grad.length; i++) expect<bool>(isFinite(grad[i])).toBe(true);
    // Row by row against the analytic gradient: row 0's values are ~1e5 and would
    // swamp an error in row 2 if the rows were measured together.
    const want = ref.gradient(x);
    const got = addedGradient(grad, new Float32Array(grad.length), 1.0);
    const row0 = new Int32Array(dim);
    const row2 = new Int32Array(dim);
    for (let j = 0; j < dim; j++) {
      row0[j] = j;
      row2[j] = 2 * dim + j;
    }
    expect<f64>(gradientError(got, want, row0)).toBeLessThanOrEqual(GRADIENT_TOLERANCE, "a = 0");
    expect<f64>(gradientError(got, want, row2)).toBeLessThanOrEqual(GRADIENT_TOLERANCE, "ordinary row");
    // a = 0: the gradient is large (1e6 scale) and points against b.
    expect<f32>(grad[0]).toBeLessThan(-1000.0);
    for (let j = 0; j < dim; j++) expect<f32>(Mathf.abs(grad[dim + j])).toBe(0.0, "b = 0 gives no gradient");
  });

  it("with no row counted returns 0 and writes nothing", () => {
    const grad = filledF32(6, SENTINEL);
    const a = filledF32(6, 1.0);
    const mask = new Int32Array(2);
    expect<f64>(cosine_embedding_forward_backward(grad.dataStart, a.dataStart, a.dataStart, mask.dataStart, 2, 3, 1.0)).toBe(0.0);
    for (let i = 0; i < 6; i++) expect<f32>(grad[i]).toBe(SENTINEL);
  });
});
