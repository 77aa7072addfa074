/**
 * The small part of protobuf encoding an ONNX file needs: varints, fixed32
 * floats, and length-delimited fields (strings, bytes, nested messages,
 * packed arrays).
 *
 * A message is kept as a list of byte chunks plus its total length, so a
 * nested message or a weight's raw bytes are linked in by reference rather
 * than copied at every level of nesting: a BERT-base export (~440 MB of
 * weights) is copied once, when the file is assembled.
 */

/** Protobuf wire types. */
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

/** Largest field number protobuf allows (2^29 − 1). */
const MAX_FIELD = 0x1fffffff;

/** Bytes longer than this are linked in by reference instead of copied into the pending buffer. */
const LINK_THRESHOLD = 256;

const TWO_64 = 1n << 64n;

export class ProtoWriter {
  /** Finished chunks, in order; `pending` follows them. */
  private readonly parts: Uint8Array[] = [];
  private partsLength = 0;
  /** Small fields, byte by byte, not yet flushed into `parts`. */
  private pending: number[] = [];

  /** Encoded size of the message so far. */
  get byteLength(): number {
    return this.partsLength + this.pending.length;
  }

  /** An unsigned varint field (uint32/uint64/int32 ≥ 0/enum/bool). */
  uint(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  /**
   * An int64 (or int32) field: negative values are written as their 64-bit
   * two's complement, ten bytes, as protobuf's int64 requires.
   */
  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(toUint64(value));
    return this;
  }

  /** A `float` field: four little-endian IEEE-754 bytes. */
  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const b of bytes) this.pending.push(b);
    return this;
  }

  /** A `string` field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A `bytes` field. Large arrays are linked by reference: do not mutate them before `finish`. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(value.byteLength);
    this.append(value);
    return this;
  }

  /** A nested message field; `message` is linked, not copied, and must not change afterwards. */
  message(field: number, message: ProtoWriter): this {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(message.byteLength);
    message.flush();
    for (const part of message.parts) this.link(part);
    return this;
  }

  /** A packed repeated int64 field (e.g. tensor dims, attribute ints). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const body = new ProtoWriter();
    for (const v of values) body.varint(toUint64(v));
    return this.bytes(field, body.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, bytes);
  }

  /** The message's chunks in order (for streaming to a file without one big copy). */
  chunks(): readonly Uint8Array[] {
    this.flush();
    return this.parts;
  }

  /** The whole message as one array. */
  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.partsLength);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD) throw new RangeError(`protobuf: invalid field number ${field}`);
    this.varint(field * 8 + wireType);
  }

  /** Base-128 little-endian varint of an unsigned value below 2^64. */
  private varint(value: number | bigint): void {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf: varint needs a non-negative safe integer, got ${value}`);
      // Division rather than >>> because values can exceed 32 bits (up to 2^53).
      while (value >= 0x80) {
        this.pending.push((value % 0x80) | 0x80);
        value = Math.floor(value / 0x80);
      }
      this.pending.push(value);
      return;
    }
    if (value < 0n || value >= TWO_64) throw new RangeError(`protobuf: varint out of the uint64 range: ${value}`);
    while (value >= 0x80n) {
      this.pending.push(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    this.pending.push(Number(value));
  }

  private append(bytes: Uint8Array): void {
    if (bytes.byteLength > LINK_THRESHOLD) this.link(bytes);
    else for (const b of bytes) this.pending.push(b);
  }

  private link(bytes: Uint8Array): void {
    this.flush();
    this.parts.push(bytes);
    this.partsLength += bytes.byteLength;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const chunk = Uint8Array.from(this.pending);
    this.pending = [];
    this.parts.push(chunk);
    this.partsLength += chunk.byteLength;
  }
}

/** A signed 64-bit integer as the unsigned value with the same bits. */
function toUint64(value: number | bigint): number | bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf: int64 field needs a safe integer, got ${value}`);
    return value >= 0 ? value : BigInt.asUintN(64, BigInt(value));
  }
  if (value < -(1n << 63n) || value >= 1n << 63n) throw new RangeError(`protobuf: int64 out of range: ${value}`);
  return BigInt.asUintN(64, value);
}
