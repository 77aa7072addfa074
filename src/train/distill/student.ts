/**
 * Building the fixed smaller student of a distillation run.
 * - DistilBERT: the teacher's embeddings, pooler and classifier, and every other
 *   teacher layer (0, 2, 4, …), copied; same hidden size, so no projection.
 * - TinyBERT: a fresh BERT-initialised model with its own hidden size,
 *   intermediate size and depth, plus the learned projection W_p (student
 *   hidden → teacher hidden) when the hidden sizes differ.
 * Either way the student is an ordinary DynaBert (its own wasm memory), saved
 * as an ordinary HF checkpoint; the extra trainable tensors (projection, MLM
 * head) live in the student's arena beside it.
 */
import type { WasmSource } from "../../../bindings/index.js";
import { bertConfigToJson, parseBertConfig, type BertConfig } from "../../checkpoint/config.js";
import { hfNameFor } from "../../checkpoint/names.js";
import { HF_PT_METADATA, parseSafetensors, writeSafetensors, type SafetensorsTensorInput } from "../../checkpoint/safetensors.js";
import { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import { listParameters, readRowMajor } from "../../model/parameters.js";
import { mlmHeadParameters, readMlmHead, type MlmHead } from "../mlm/head.js";
import { checkCopyLayers, checkDepths, everyOtherLayer } from "./mapping.js";
import { initProjection, type Projection } from "./projection.js";

export interface StudentParts {
  readonly model: DynaBert;
  /** W_p in the student's arena; present when the student's hidden size differs from the teacher's. */
  readonly projection?: Projection;
  /** An MLM head in the student's arena (DistilBERT: the teacher's, copied, when one was given). */
  readonly head?: MlmHead;
  /** DistilBERT: the teacher layer each student layer was copied from. */
  readonly copiedLayers?: readonly number[];
}

export interface DistilbertStudentOptions {
  readonly layers: number;
  /** Teacher layers to copy (default `everyOtherLayer`: ⌊i·L_t/L_s⌋). */
  readonly copyLayers?: readonly number[];
  /** The teacher's MLM head (in the teacher's arena): copied too, as DistilBERT initialises its vocab projector. */
  readonly teacherHead?: MlmHead;
  readonly wasm?: WasmSource;
}

export interface TinybertStudentOptions {
  readonly layers: number;
  readonly hidden: number;
  /** Default 4 × hidden (BERT's and TinyBERT's ratio). */
  readonly intermediate?: number;
  /** Default: the teacher's (attention maps are matched head by head). */
  readonly heads?: number;
  /** Seeds the student's weights and the projection (default 42). */
  readonly seed?: number;
  readonly wasm?: WasmSource;
}

type NamedValues = Array<{ name: string; shape: number[]; values: Float32Array }>;

/** The teacher's config.json with some fields replaced, parsed back (every other field kept). */
function derivedConfig(teacher: BertConfig, changes: Record<string, number>, drop: string[] = []): BertConfig {
  const raw = JSON.parse(bertConfigToJson(teacher)) as Record<string, unknown>;
  for (const key of drop) delete raw[key];
  Object.assign(raw, changes);
  return parseBertConfig(JSON.stringify(raw), "student config");
}

/** A DynaBert from row-major tensors under canonical names (cls.predictions.* allowed), with the teacher's tokenizer files. */
async function assemble(config: BertConfig, tensors: NamedValues, tokenizer: DynaBert["tokenizerFiles"], wasm?: WasmSource): Promise<{ model: DynaBert; head?: MlmHead }> {
  const classifier = tensors.some((t) => t.name.startsWith("classifier."));
  const inputs: SafetensorsTensorInput[] = tensors.map((t) => ({
    name: t.name.startsWith("cls.") ? t.name : hfNameFor(t.name, { classifier }),
    dtype: "F32",
    shape: t.shape,
    data: new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength),
  }));
  const weights = writeSafetensors(inputs, HF_PT_METADATA);
  const model = await DynaBert.load({ config: bertConfigToJson(config), weights, vocab: tokenizer.vocab, tokenizerConfig: tokenizer.tokenizerConfig }, { wasm });
  const head = readMlmHead(model.engine.core, config, parseSafetensors(weights, "student"), "student");
  return { model, head };
}

function rowMajorParameters(model: DynaBert): NamedValues {
  const { core, weights } = model.engine;
  return listParameters(weights).map((entry) => ({ name: entry.name, shape: [...entry.value.shape], values: readRowMajor(core, entry) }));
}

/** DistilBERT's student: `layers` teacher layers (default every other one) and everything around them, copied. */
export async function distilbertStudent(teacher: DynaBert, options: DistilbertStudentOptions): Promise<StudentParts> {
  const L = teacher.config.numHiddenLayers;
  checkDepths(options.layers, L);
  const copied = options.copyLayers ? checkCopyLayers(options.copyLayers, L) : everyOtherLayer(options.layers, L);
  if (copied.length !== options.layers) {
    throw new OptionError("BAD_FLAG", `--copy-layers names ${copied.length} layers but the student has ${options.layers}`, { option: "--copy-layers" });
  }
  const studentIndex = new Map(copied.map((t, s) => [t, s]));
  const tensors: NamedValues = [];
  for (const t of rowMajorParameters(teacher)) {
    const m = /^encoder\.layer\.(\d+)\.(.*)$/.exec(t.name);
    if (!m) tensors.push(t);
    else if (studentIndex.has(Number(m[1]))) tensors.push({ ...t, name: `encoder.layer.${studentIndex.get(Number(m[1]))}.${m[2]}` });
  }
  if (options.teacherHead) {
    const { core } = teacher.engine;
    for (const entry of mlmHeadParameters(options.teacherHead)) tensors.push({ name: entry.name, shape: [...entry.value.shape], values: readRowMajor(core, entry) });
  }
  const config = derivedConfig(teacher.config, { num_hidden_layers: options.layers });
  const { model, head } = await assemble(config, tensors, teacher.tokenizerFiles, options.wasm);
  return { model, head, copiedLayers: copied };
}

/** TinyBERT's student: fresh weights of its own size, plus W_p when its hidden size differs from the teacher's. */
export async function tinybertStudent(teacher: DynaBert, options: TinybertStudentOptions): Promise<StudentParts> {
  checkDepths(options.layers, teacher.config.numHiddenLayers);
  const heads = options.heads ?? teacher.config.numAttentionHeads;
  const hidden = options.hidden;
  if (!Number.isInteger(hidden) || hidden < 1) throw new OptionError("BAD_FLAG", `the student's hidden size must be a positive integer, got ${hidden}`, { option: "--student-hidden" });
  if (!Number.isInteger(heads) || heads < 1 || hidden % heads !== 0) {
    throw new OptionError("BAD_FLAG", `the student's hidden size ${hidden} must be a multiple of its ${heads} attention heads`, { option: "--student-hidden" });
  }
  const intermediate = options.intermediate ?? 4 * hidden;
  if (!Number.isInteger(intermediate) || intermediate < 1) {
    throw new OptionError("BAD_FLAG", `the student's intermediate size must be a positive integer, got ${intermediate}`, { option: "--student-intermediate" });
  }
  const seed = options.seed ?? 42;
  const config = derivedConfig(
    teacher.config,
    { num_hidden_layers: options.layers, hidden_size: hidden, num_attention_heads: heads, intermediate_size: intermediate },
    ["attention_head_size"],
  );
  const fresh = await DynaBert.random(config, { seed, wasm: options.wasm });
  const { pooler, classifier } = teacher.engine.weights;
  // The student has the heads its teacher has: no classifier for a bare encoder.
  const tensors = rowMajorParameters(fresh).filter((t) => (pooler || !t.name.startsWith("pooler.")) && (classifier || !t.name.startsWith("classifier.")));
  const { model } = await assemble(config, tensors, teacher.tokenizerFiles, options.wasm);
  const D = teacher.config.hiddenSize;
  const projection = hidden === D ? undefined : initProjection(model.engine.core, D, hidden, (Math.imul(seed, 0x9e3779b1) ^ 0x7f4a7c15) >>> 0, config.initializerRange);
  return { model, projection };
}
