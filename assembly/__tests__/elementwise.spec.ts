import {
  add_forward, tanh_forward, f16_to_f32, bf16_to_f32, f32_to_f16, f32_to_bf16,
} from "../elementwise";
import { Prng, ptr, fillRandom, fillWith } from "./reference_gemm";
import {
  HalfFormat, F16, BF16, isNaNBits, isInfBits, decodeFinite, roundToFormat, referenceTanh, ulpDistance,
} from "./reference_elementwise";

const SENTINEL: f32 = -12345.5;
const SENTINEL16: u16 = 0xabcd;

function f32Bits(x: f32): u32 {
  return reinterpret<u32>(x);
}

function hex(x: u32): string {
  return "0x" + x.toString(16);
}

/**
 * Runs a u16 → f32 conversion over src in calls of `chunk` elements, so that
 * chunk < 8 exercises only the scalar tail and a large chunk the vector loop.
 */
function widen(convert: (dst: usize, src: usize, n: i32) => void, src: StaticArray<u16>, chunk: i32): StaticArray<f32> {
  const dst = new StaticArray<f32>(src.length);
  for (let i = 0; i < src.length; i += chunk) {
    const n = min(chunk, src.length - i);
    convert(ptr(dst) + (<usize>i << 2), ptr(src) + (<usize>i << 1), n);
  }
  return dst;
}

function narrow(convert: (dst: usize, src: usize, n: i32) => void, src: StaticArray<f32>, chunk: i32): StaticArray<u16> {
  const dst = new StaticArray<u16>(src.length);
  for (let i = 0; i < src.length; i += chunk) {
    const n = min(chunk, src.length - i);
    convert(ptr(dst) + (<usize>i << 1), ptr(src) + (<usize>i << 2), n);
  }
  return dst;
}

function allPatterns(): StaticArray<u16> {
  const all = new StaticArray<u16>(65536);
  for (let i = 0; i < 65536; i++) all[i] = <u16>i;
  return all;
}

/**
 * Values where rounding decisions happen: every midpoint between neighbouring
 * finite patterns of fmt (both signs), and the f32 just below and above each.
 * Midpoints of 16-bit floats have ≤ 12 significant bits, so they are exact f32.
 */
function roundingEdges(fmt: HalfFormat): StaticArray<f32> {
  const top = <i32>fmt.maxFiniteBits;
  const out = new StaticArray<f32>(top * 6);
  let at = 0;
  for (let p = 0; p < top; p++) {
    const mid = <f32>((decodeFinite(p, fmt) + decodeFinite(p + 1, fmt)) / 2);
    const b = f32Bits(mid);
    for (let s = 0; s < 2; s++) {
      const sign: u32 = s == 0 ? 0 : 0x80000000;
      out[at++] = reinterpret<f32>((b | sign));
      out[at++] = reinterpret<f32>(((b - 1) | sign));
      out[at++] = reinterpret<f32>(((b + 1) | sign));
    }
  }
  return out;
}

/** Random non-NaN f32: half with fully random bits, half with exponents near the 16-bit ranges. */
function randomFloats(count: i32, seed: u32): StaticArray<f32> {
  const rng = new Prng(seed);
  const out = new StaticArray<f32>(count);
  for (let i = 0; i < count; i++) {
    let b = rng.nextU32();
    if ((i & 1) != 0) {
      // Biased exponent 127 + [-140, 20), clamped to the finite range.
      const e = <u32>max(0, min(254, 127 - 140 + <i32>(rng.nextU32() % 160)));
      b = (b & 0x807fffff) | (e << 23);
    }
    if ((b & 0x7fffffff) > 0x7f800000) b &= 0xff800000; // NaN → inf of the same sign
    out[i] = reinterpret<f32>(b);
  }
  return out;
}

/** Counts elements where convert(src) differs from the reference rounding. */
function narrowingMismatches(
  convert: (dst: usize, src: usize, n: i32) => void, src: StaticArray<f32>, fmt: HalfFormat, chunk: i32,
): i32 {
  const got = narrow(convert, src, chunk);
  let wrong = 0;
  for (let i = 0; i < src.length; i++) {
    const want = roundToFormat(<f64>src[i], fmt);
    if (<u32>got[i] != want) {
      if (wrong < 5) log<string>("x bits " + hex(f32Bits(src[i])) + " got " + hex(got[i]) + " want " + hex(want));
      wrong++;
    }
  }
  return wrong;
}

describe("add_forward", () => {
  it("adds elementwise for every length around the vector width, leaving the rest untouched", () => {
    const rng = new Prng(11);
    for (let n = 0; n < 20; n++) {
      const a = new StaticArray<f32>(n + 1);
      const b = new StaticArray<f32>(n + 1);
      fillRandom(a, rng);
      fillRandom(b, rng);
      const out = new StaticArray<f32>(n + 1);
      fillWith(out, SENTINEL);
      add_forward(ptr(out), ptr(a), ptr(b), n);
      for (let i = 0; i < n; i++) expect<f32>(out[i]).toBe(a[i] + b[i]);
      expect<f32>(out[n]).toBe(SENTINEL);
    }
  });

  it("accumulates in place when out is a", () => {
    const rng = new Prng(12);
    const a = new StaticArray<f32>(1003);
    const b = new StaticArray<f32>(1003);
    fillRandom(a, rng);
    fillRandom(b, rng);
    const want = new StaticArray<f32>(1003);
    for (let i = 0; i < 1003; i++) want[i] = a[i] + b[i];
    add_forward(ptr(a), ptr(a), ptr(b), 1003);
    let wrong = 0;
    for (let i = 0; i < 1003; i++) if (a[i] != want[i]) wrong++;
    expect<i32>(wrong).toBe(0);
  });
});

describe("tanh_forward", () => {
  it("is the f32 rounding of tanh for random and extreme inputs, in place", () => {
    const rng = new Prng(13);
    const xs = new StaticArray<f32>(20000);
    for (let i = 0; i < 10000; i++) xs[i] = rng.nextF32() * 12; // the curved part and the saturation edge (|x| ≈ 9)
    const wide = randomFloats(10000, 14); // every exponent: tiny, subnormal, huge, ±inf
    for (let i = 0; i < 10000; i++) xs[10000 + i] = wide[i];
    const want = new StaticArray<f32>(xs.length);
    for (let i = 0; i < xs.length; i++) want[i] = <f32>referenceTanh(<f64>xs[i]);
    tanh_forward(ptr(xs), ptr(xs), xs.length);
    let wrong = 0;
    for (let i = 0; i < xs.length; i++) {
      if (ulpDistance(xs[i], want[i]) != 0) {
        if (wrong < 5) log<string>("tanh got " + xs[i].toString() + " want " + want[i].toString());
        wrong++;
      }
    }
    expect<i32>(wrong).toBe(0);
  });

  it("keeps signed zero, saturates at ±1 without overflow and passes NaN", () => {
    const xs = new StaticArray<f32>(8);
    xs[0] = 0; xs[1] = -0.0; xs[2] = Infinity; xs[3] = -Infinity;
    xs[4] = 3.0e38; xs[5] = -100; xs[6] = NaN; xs[7] = 1e-40;
    const out = new StaticArray<f32>(8);
    tanh_forward(ptr(out), ptr(xs), 8);
    expect<u32>(f32Bits(out[0])).toBe(0);
    expect<u32>(f32Bits(out[1])).toBe(0x80000000);
    expect<f32>(out[2]).toBe(1);
    expect<f32>(out[3]).toBe(-1);
    expect<f32>(out[4]).toBe(1);
    expect<f32>(out[5]).toBe(-1);
    expect<bool>(isNaN(out[6])).toBe(true);
    expect<f32>(out[7]).toBe(<f32>1e-40); // tanh x = x to far below f32 precision
  });
});

describe("f16_to_f32", () => {
  it("decodes hand-built patterns: zeros, one, extremes, subnormals, infinities", () => {
    const h: u16[] = [0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x7c00, 0xfc00];
    const v: f32[] = [0.0, -0.0, 1.0, -2.0, 65504.0, 5.9604644775390625e-8, 6.097555160522461e-5,
      6.103515625e-5, 0.333251953125, Infinity, -Infinity];
    const src = new StaticArray<u16>(h.length);
    for (let i = 0; i < h.length; i++) src[i] = h[i];
    const got = widen(f16_to_f32, src, h.length);
    for (let i = 0; i < h.length; i++) expect<u32>(f32Bits(got[i])).toBe(f32Bits(v[i]), "f16 " + hex(h[i]));
  });

  it("decodes all 65536 patterns exactly, in the vector loop and the scalar tail", () => {
    const all = allPatterns();
    for (let pass = 0; pass < 2; pass++) {
      const got = widen(f16_to_f32, all, pass == 0 ? 65536 : 7);
      let wrong = 0;
      for (let i = 0; i < 65536; i++) {
        const h = <u32>i;
        const bits = f32Bits(got[i]);
        const sign = (h & 0x8000) << 16;
        let want: u32;
        if (isNaNBits(h, F16)) want = sign | 0x7f800000 | ((h & 0x3ff) << 13); // payload kept
        else if (isInfBits(h, F16)) want = sign | 0x7f800000;
        else want = f32Bits(<f32>decodeFinite(h, F16));
        if (bits != want) wrong++;
      }
      expect<i32>(wrong).toBe(0, pass == 0 ? "vector loop" : "scalar tail");
    }
  });
});

describe("bf16_to_f32", () => {
  it("decodes all 65536 patterns to the f32 with the same top half, equal to the IEEE value", () => {
    const all = allPatterns();
    for (let pass = 0; pass < 2; pass++) {
      const got = widen(bf16_to_f32, all, pass == 0 ? 65536 : 5);
      let wrong = 0;
      for (let i = 0; i < 65536; i++) {
        const h = <u32>i;
        if (f32Bits(got[i]) != h << 16) wrong++;
        else if (!isNaNBits(h, BF16) && !isInfBits(h, BF16) && <f64>got[i] != decodeFinite(h, BF16)) wrong++;
      }
      expect<i32>(wrong).toBe(0, pass == 0 ? "vector loop" : "scalar tail");
    }
  });
});

describe("f32_to_f16", () => {
  it("rounds hand-built cases to nearest, ties to even, with overflow and underflow", () => {
    const x: f32[] = [
      1.0, 65504.0, reinterpret<f32>(0x477fefff), 65520.0, 1e6, -1e6,
      1.00048828125, // 1 + 2^-11: tie between 1 and 1 + 2^-10 → even (1)
      1.00146484375, // 1 + 3·2^-11: tie → even (1 + 2^-9)
      5.9604644775390625e-8, // 2^-24, least subnormal
      2.98023223876953125e-8, // 2^-25: tie between 0 and 2^-24 → 0
      -2.98023223876953125e-8,
      reinterpret<f32>(0x33000001), // just above 2^-25 → least subnormal
      8.940696716308594e-8, // 3·2^-25: tie between 1 and 2 subnormal units → 2
      6.100535392761230e-5, // 2^-14 − 2^-25: tie between largest subnormal and 2^-14 → 2^-14
      -0.0, Infinity, -Infinity,
    ];
    const h: u32[] = [
      0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00,
      0x3c00, 0x3c02, 0x0001, 0x0000, 0x8000, 0x0001, 0x0002, 0x0400,
      0x8000, 0x7c00, 0xfc00,
    ];
    const src = new StaticArray<f32>(x.length);
    for (let i = 0; i < x.length; i++) src[i] = x[i];
    const got = narrow(f32_to_f16, src, x.length);
    for (let i = 0; i < x.length; i++) expect<u32>(got[i]).toBe(h[i], "x bits " + hex(f32Bits(x[i])));
  });

  it("keeps NaN a quiet NaN with its sign and top payload bits", () => {
    const src = new StaticArray<f32>(3);
    src[0] = reinterpret<f32>(0x7fc00000);
    src[1] = reinterpret<f32>(0xff800001); // signalling, payload only in low bits
    src[2] = reinterpret<f32>(0x7fa5a000);
    const got = narrow(f32_to_f16, src, 3);
    expect<u32>(got[0]).toBe(0x7e00);
    expect<u32>(got[1]).toBe(0xfe00);
    expect<u32>(got[2]).toBe(0x7e00 | (0x25a000 >> 13));
  });

  it("matches the reference rounding at every f16 midpoint and its f32 neighbours", () => {
    expect<i32>(narrowingMismatches(f32_to_f16, roundingEdges(F16), F16, 1 << 20)).toBe(0);
  });

  it("matches the reference rounding on random floats of every magnitude", () => {
    expect<i32>(narrowingMismatches(f32_to_f16, randomFloats(100000, 21), F16, 1 << 20)).toBe(0);
  });

  it("round-trips every non-NaN f16 through f32", () => {
    const all = allPatterns();
    const back = narrow(f32_to_f16, widen(f16_to_f32, all, 65536), 65536);
    let wrong = 0;
    for (let i = 0; i < 65536; i++) if (!isNaNBits(<u32>i, F16) && <u32>back[i] != <u32>i) wrong++;
    expect<i32>(wrong).toBe(0);
  });
});

describe("f32_to_bf16", () => {
  it("rounds hand-built cases to nearest, ties to even, with overflow and subnormals", () => {
    const x: f32[] = [
      1.0, 1.00390625, 1.01171875, // 1, 1 + 2^-8 (tie → 1), 1 + 3·2^-8 (tie → 1 + 2^-6)
      reinterpret<f32>(0x7f7fffff), // largest f32 → inf
      reinterpret<f32>(0x7f7f8000), // (2 − 2^-8)·2^127: tie past the largest bf16 → inf
      reinterpret<f32>(0x7f7f7fff), // just below that tie → largest bf16
      reinterpret<f32>(0x00000001), // 2^-149 → 0
      reinterpret<f32>(0x00010000), // 2^-133, least bf16 subnormal
      reinterpret<f32>(0x00008000), // 2^-134: tie → 0
      reinterpret<f32>(0x00018000), // 3·2^-134: tie → 2 units
      -0.0, Infinity, -Infinity, -1.0,
    ];
    const h: u32[] = [
      0x3f80, 0x3f80, 0x3f82, 0x7f80, 0x7f80, 0x7f7f, 0x0000, 0x0001, 0x0000, 0x0002,
      0x8000, 0x7f80, 0xff80, 0xbf80,
    ];
    const src = new StaticArray<f32>(16);
    for (let i = 0; i < x.length; i++) src[i] = x[i];
    // Pad to 16 so the vector loop handles all of them.
    const got = narrow(f32_to_bf16, src, 16);
    for (let i = 0; i < x.length; i++) expect<u32>(got[i]).toBe(h[i], "x bits " + hex(f32Bits(x[i])));
    const tail = narrow(f32_to_bf16, src, 3);
    for (let i = 0; i < x.length; i++) expect<u32>(tail[i]).toBe(h[i], "tail, x bits " + hex(f32Bits(x[i])));
  });

  it("keeps NaN a quiet NaN with its sign and top payload bits, in both paths", () => {
    const src = new StaticArray<f32>(8);
    src[0] = reinterpret<f32>(0x7fc00000);
    src[1] = reinterpret<f32>(0xff800001);
    src[2] = reinterpret<f32>(0x7fa5ffff);
    src[3] = reinterpret<f32>(0xffffffff);
    for (let pass = 0; pass < 2; pass++) {
      const got = narrow(f32_to_bf16, src, pass == 0 ? 8 : 1);
      expect<u32>(got[0]).toBe(0x7fc0);
      expect<u32>(got[1]).toBe(0xffc0);
      expect<u32>(got[2]).toBe(0x7fe5);
      expect<u32>(got[3]).toBe(0xffff);
    }
  });

  it("matches the reference rounding at every bf16 midpoint and its f32 neighbours", () => {
    const edges = roundingEdges(BF16);
    expect<i32>(narrowingMismatches(f32_to_bf16, edges, BF16, 1 << 20)).toBe(0);
    expect<i32>(narrowingMismatches(f32_to_bf16, edges, BF16, 7)).toBe(0);
  });

  it("matches the reference rounding on random floats of every magnitude", () => {
    const xs = randomFloats(100000, 22);
    expect<i32>(narrowingMismatches(f32_to_bf16, xs, BF16, 1 << 20)).toBe(0);
    expect<i32>(narrowingMismatches(f32_to_bf16, xs, BF16, 7)).toBe(0);
  });

  it("leaves the element after n untouched", () => {
    const src = new StaticArray<f32>(10);
    fillRandom(src, new Prng(23));
    const dst = new StaticArray<u16>(10);
    for (let i = 0; i < 10; i++) dst[i] = SENTINEL16;
    f32_to_bf16(ptr(dst), ptr(src), 9);
    f32_to_f16(ptr(dst), ptr(src), 0);
    expect<u16>(dst[9]).toBe(SENTINEL16);
  });
});
