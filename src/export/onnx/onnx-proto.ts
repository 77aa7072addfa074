/**
 * The subset of ONNX's protobuf schema (onnx/onnx.proto) this exporter
 * writes: a model, its graph, nodes with attributes, tensors stored as
 * raw little-endian bytes, and typed graph inputs/outputs. Field numbers are
 * onnx.proto's; anything not listed here is never written.
 */
import { ProtoWriter } from "./protobuf.js";

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** Bytes per element of each data type. */
const ELEMENT_BYTES: Record<DataTypeCode, number> = { 1: 4, 6: 4, 7: 8 };

/** AttributeProto.AttributeType values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type Attribute =
  | { readonly type: "int"; readonly value: number }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "ints"; readonly value: readonly number[] }
  | { readonly type: "floats"; readonly value: readonly number[] };

/** Constructors that say an attribute's type where JS numbers cannot (1 vs 1.0). */
export const attr = {
  int: (value: number): Attribute => ({ type: "int", value }),
  float: (value: number): Attribute => ({ type: "float", value }),
  string: (value: string): Attribute => ({ type: "string", value }),
  ints: (value: readonly number[]): Attribute => ({ type: "ints", value }),
  floats: (value: readonly number[]): Attribute => ({ type: "floats", value }),
};

export interface OnnxNode {
  readonly opType: string;
  /** "" (or absent) for the standard ai.onnx domain; "com.microsoft" for onnxruntime's contrib ops. */
  readonly domain?: string;
  readonly name?: string;
  /** Value names; "" marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, Attribute>>;
}

export interface OnnxTensor {
  readonly name: string;
  readonly dataType: DataTypeCode;
  /** Row-major dims; [] for a scalar. */
  readonly dims: readonly number[];
  /** Little-endian element bytes, product(dims) × element size. */
  readonly raw: Uint8Array;
}

/** A graph input or output: element type and dims, a string dim being symbolic ("batch"). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: DataTypeCode;
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  /** Operator sets by domain ("" = ai.onnx). */
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graph: OnnxGraph;
}

export function encodeModel(model: OnnxModel): ProtoWriter {
  // ModelProto: ir_version 1, producer_name 2, doc_string 6, graph 7, opset_import 8, metadata_props 14.
  const w = new ProtoWriter().int(1, model.irVersion).string(2, model.producerName);
  if (model.docString) w.string(6, model.docString);
  w.message(7, encodeGraph(model.graph));
  for (const opset of model.opsets) {
    // OperatorSetIdProto: domain 1, version 2.
    const o = new ProtoWriter();
    if (opset.domain) o.string(1, opset.domain);
    w.message(8, o.int(2, opset.version));
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    // StringStringEntryProto: key 1, value 2.
    w.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return w;
}

function encodeGraph(graph: OnnxGraph): ProtoWriter {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.message(1, encodeNode(node));
  w.string(2, graph.name);
  for (const t of graph.initializers) w.message(5, encodeTensor(t));
  for (const v of graph.inputs) w.message(11, encodeValueInfo(v));
  for (const v of graph.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

function encodeNode(node: OnnxNode): ProtoWriter {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, a] of Object.entries(node.attributes ?? {})) w.message(5, encodeAttribute(name, a));
  if (node.domain) w.string(7, node.domain);
  return w;
}

function encodeAttribute(name: string, a: Attribute): ProtoWriter {
  // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20.
  const w = new ProtoWriter().string(1, name);
  switch (a.type) {
    case "float":
      w.float(2, a.value).uint(20, AttributeType.FLOAT);
      break;
    case "int":
      w.int(3, a.value).uint(20, AttributeType.INT);
      break;
    case "string":
      w.string(4, a.value).uint(20, AttributeType.STRING);
      break;
    case "floats":
      w.packedFloats(7, a.value).uint(20, AttributeType.FLOATS);
      break;
    case "ints":
      w.packedInts(8, a.value).uint(20, AttributeType.INTS);
      break;
  }
  return w;
}

export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.raw.byteLength !== count * ELEMENT_BYTES[t.dataType]) {
    throw new RangeError(`onnx: tensor ${t.name} has ${t.raw.byteLength} bytes, dims [${t.dims.join(", ")}] need ${count * ELEMENT_BYTES[t.dataType]}`);
  }
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  return w.uint(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  // TensorShapeProto.Dimension: dim_value 1, dim_param 2; TensorShapeProto: dim 1.
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d);
    shape.message(1, dim);
  }
  // TypeProto.Tensor: elem_type 1, shape 2; TypeProto: tensor_type 1; ValueInfoProto: name 1, type 2.
  const tensorType = new ProtoWriter().uint(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}
