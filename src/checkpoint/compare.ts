/**
 * Orders strings by Unicode code point, as Rust's `str` ordering (UTF-8 bytes)
 * and Python's `sorted` do. JavaScript's `<` compares UTF-16 code units, which
 * disagrees for characters above U+FFFF versus U+E000…U+FFFF; files written
 * here must sort their tensors exactly as the reference writer does.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}
