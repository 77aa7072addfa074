/** A dense f32 result with its shape, as transformers.js returns tensors. */
export interface OutputTensor {
  readonly dims: readonly number[];
  /** Row-major, product(dims) values. */
  readonly data: Float32Array;
}

/** Nested plain arrays (`[dims[0]][dims[1]]…`), for JSON output. */
export function toNested(t: OutputTensor): unknown {
  const build = (offset: number, axis: number): unknown => {
    const size = t.dims[axis];
    if (axis === t.dims.length - 1) return Array.from(t.data.subarray(offset, offset + size));
    const stride = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const out: unknown[] = [];
    for (let i = 0; i < size; i++) out.push(build(offset + i * stride, axis + 1));
    return out;
  };
  return t.dims.length === 0 ? [] : build(0, 0);
}
