/**
 * Collects the nodes and initializers of one ONNX graph in topological order
 * (each node is added after the values it reads), with unique value names.
 */
import { DataType, type Attribute, type OnnxNode, type OnnxTensor } from "./onnx-proto.js";

export interface NodeOptions {
  readonly domain?: string;
  /** Names the node and its output (made unique if taken). */
  readonly name?: string;
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** Adds a node with one output, named after the node; returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes?: Record<string, Attribute>, options: NodeOptions = {}): string {
    const name = this.unique(options.name ?? opType);
    this.nodes.push({ opType, domain: options.domain, name, inputs, outputs: [name], attributes });
    return name;
  }

  /** A float32 initializer of `dims` (row-major `data`, length = product of dims). */
  weight(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.initializer(name, DataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** An int64 constant (a 1-D list, or a scalar when `scalar`), shared by every node that asks for the same value. */
  int64(values: readonly number[], scalar = false): string {
    if (scalar && values.length !== 1) throw new RangeError("a scalar constant has exactly one value");
    const key = `i64:${scalar ? "s" : "v"}:${values.join(",")}`;
    return this.constant(key, () => {
      const data = BigInt64Array.from(values, (v) => BigInt(v));
      const name = scalar ? `const_i64_${values[0]}` : `const_i64_[${values.join(",")}]`;
      return this.initializer(name, DataType.INT64, scalar ? [] : [values.length], new Uint8Array(data.buffer));
    });
  }

  /** A float32 scalar constant, shared. */
  float(value: number): string {
    return this.constant(`f32:${value}`, () => {
      const data = Float32Array.of(value);
      return this.initializer(`const_f32_${value}`, DataType.FLOAT, [], new Uint8Array(data.buffer));
    });
  }

  /** Copies `value` into a value named exactly `name` (a graph output) with an Identity node. */
  output(value: string, name: string): string {
    this.nodes.push({ opType: "Identity", name: this.unique(`${name}.identity`), inputs: [value], outputs: [this.claim(name)] });
    return name;
  }

  /** Claims a value name exactly (a graph input or output); fails if taken. */
  claim(name: string): string {
    if (this.taken.has(name)) throw new Error(`onnx graph: value name ${name} is already used`);
    this.taken.add(name);
    return name;
  }

  private initializer(name: string, dataType: OnnxTensor["dataType"], dims: readonly number[], raw: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dataType, dims, raw });
    return unique;
  }

  private constant(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) {
      name = make();
      this.constants.set(key, name);
    }
    return name;
  }

  private unique(base: string): string {
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}
