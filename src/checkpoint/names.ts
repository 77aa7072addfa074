/**
 * HF BERT parameter names ↔ this engine's canonical names, and the shape each
 * parameter must have for a given config.
 *
 * Canonical names are those of a bare HF `BertModel` (`embeddings.…`,
 * `encoder.layer.{l}.…`, `pooler.…`) plus `classifier.weight/bias`; LayerNorm
 * parameters are always `weight`/`bias`. A `BertForSequenceClassification`
 * (or `BertForPreTraining`, `BertForMaskedLM`) checkpoint prefixes the encoder
 * with `bert.`; old (pre-2019 / TF-converted) checkpoints call LayerNorm
 * parameters `gamma`/`beta`.
 *
 * int8 weights (this package's `export --dtype int8`): a linear layer's or an
 * embedding table's `<prefix>.weight` may be stored as I8 `[rows][cols]` with
 * `<prefix>.weight_scale`, F32 `[rows]`, beside it — symmetric per row
 * (output feature, or token), w ≈ q · scale. Nothing else may be I8 (LayerNorm
 * parameters and biases stay floats), and a scale needs its I8 weight.
 */
import { CheckpointError } from "../errors.js";
import type { BertConfig } from "./config.js";
import { isParameterDtype, QUANTIZED_DTYPE, SCALE_SUFFIX } from "./dtypes.js";
import type { ParsedSafetensors, SafetensorsTensor } from "./safetensors.js";

/** Parameters that only some checkpoints carry; a group is all there or all absent. */
export type ParameterGroup = "encoder" | "pooler" | "classifier";

interface ParameterSpec {
  name: string;
  shape: number[];
  group: ParameterGroup;
  /** Which config.json fields the shape comes from, for error messages. */
  from: string;
  /** May be stored as I8 with a per-row scale (linear and embedding weights). */
  quantizable: boolean;
}

const H = "hidden_size";
const QKV = "num_attention_heads·attention_head_size";

/** Every parameter of BertForSequenceClassification in canonical order, with its shape. */
function parameterSpecs(config: BertConfig): ParameterSpec[] {
  const D = config.hiddenSize;
  const A = config.numAttentionHeads * config.attentionHeadSize;
  const I = config.intermediateSize;
  const specs: ParameterSpec[] = [];
  const add = (name: string, shape: number[], from: string, group: ParameterGroup = "encoder", quantizable = false) =>
    specs.push({ name, shape, group, from, quantizable });
  const vector = (prefix: string, n: number, from: string, group?: ParameterGroup) => {
    add(`${prefix}.weight`, [n], from, group);
    add(`${prefix}.bias`, [n], from, group);
  };
  const linear = (prefix: string, out: number, inp: number, outFrom: string, inFrom: string, group?: ParameterGroup) => {
    add(`${prefix}.weight`, [out, inp], `${outFrom} × ${inFrom}`, group, true);
    add(`${prefix}.bias`, [out], outFrom, group);
  };

  add("embeddings.word_embeddings.weight", [config.vocabSize, D], `vocab_size × ${H}`, "encoder", true);
  add("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, D], `max_position_embeddings × ${H}`, "encoder", true);
  add("embeddings.token_type_embeddings.weight", [config.typeVocabSize, D], `type_vocab_size × ${H}`, "encoder", true);
  vector("embeddings.LayerNorm", D, H);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}`;
    linear(`${p}.attention.self.query`, A, D, QKV, H);
    linear(`${p}.attention.self.key`, A, D, QKV, H);
    linear(`${p}.attention.self.value`, A, D, QKV, H);
    linear(`${p}.attention.output.dense`, D, A, H, QKV);
    vector(`${p}.attention.output.LayerNorm`, D, H);
    linear(`${p}.intermediate.dense`, I, D, "intermediate_size", H);
    linear(`${p}.output.dense`, D, I, H, "intermediate_size");
    vector(`${p}.output.LayerNorm`, D, H);
  }
  linear("pooler.dense", D, D, H, H, "pooler");
  linear("classifier", config.numLabels, D, "num_labels", H, "classifier");
  return specs;
}

/** canonical name → required shape, for every parameter including the pooler and classifier. */
export function expectedShapes(config: BertConfig): Map<string, number[]> {
  return new Map(parameterSpecs(config).map((s) => [s.name, s.shape]));
}

/** What a name found in a checkpoint is. */
export type NameMapping =
  | { kind: "parameter"; canonical: string }
  /** `<weight>_scale`: the per-row scales of an I8 weight; `canonical` is the weight's canonical name. */
  | { kind: "scale"; canonical: string }
  /** A tensor HF saves that carries no parameter (position_ids) or belongs to a pre-training head (cls.*). */
  | { kind: "ignored"; reason: IgnoredReason }
  | { kind: "unknown" };

export type IgnoredReason = "buffer" | "pretraining-head";

/** The shapes of names a BERT encoder parameter can have (layer index checked against the config later). */
const ENCODER_NAME = new RegExp(
  "^(?:" +
    [
      "embeddings\\.(?:word_embeddings|position_embeddings|token_type_embeddings)\\.weight",
      "embeddings\\.LayerNorm\\.(?:weight|bias)",
      "encoder\\.layer\\.(?:0|[1-9][0-9]*)\\.(?:" +
        [
          "attention\\.self\\.(?:query|key|value)",
          "attention\\.output\\.dense",
          "attention\\.output\\.LayerNorm",
          "intermediate\\.dense",
          "output\\.dense",
          "output\\.LayerNorm",
        ].join("|") +
        ")\\.(?:weight|bias)",
      "pooler\\.dense\\.(?:weight|bias)",
    ].join("|") +
    ")$",
);

/** Non-parameter tensors HF has saved under `embeddings.` (registered buffers). */
const BUFFERS = new Set(["embeddings.position_ids", "embeddings.token_type_ids"]);

/** Maps one name from a checkpoint; the layer index is not checked against a config here. */
export function mapHfName(hfName: string): NameMapping {
  if (hfName.endsWith(`.weight${SCALE_SUFFIX}`)) {
    const weight = mapHfName(hfName.slice(0, -SCALE_SUFFIX.length));
    return weight.kind === "parameter" ? { kind: "scale", canonical: weight.canonical } : { kind: "unknown" };
  }
  if (hfName === "classifier.weight" || hfName === "classifier.bias") return { kind: "parameter", canonical: hfName };
  if (hfName.startsWith("cls.")) return { kind: "ignored", reason: "pretraining-head" };
  const bare = hfName.startsWith("bert.") ? hfName.slice(5) : hfName;
  if (BUFFERS.has(bare)) return { kind: "ignored", reason: "buffer" };
  const canonical = bare.replace(/\.LayerNorm\.gamma$/, ".LayerNorm.weight").replace(/\.LayerNorm\.beta$/, ".LayerNorm.bias");
  return ENCODER_NAME.test(canonical) ? { kind: "parameter", canonical } : { kind: "unknown" };
}

export interface ResolveOptions {
  /** Fail when the pooler is absent (default true: classification needs it). */
  requirePooler?: boolean;
  /** Fail when the classifier is absent (default false: a BertModel checkpoint has none). */
  requireClassifier?: boolean;
}

export interface ResolvedCheckpoint {
  /** canonical name → tensor (a view into the file), in model order, shapes checked against the config. */
  tensors: Map<string, SafetensorsTensor>;
  /** canonical name → the name it has in the file. */
  sourceNames: Map<string, string>;
  /**
   * canonical weight name → the F32 `[rows]` scales of that I8 weight (checked:
   * shape, finite, ≥ 0), for every weight stored as I8 and no other.
   */
  scales: Map<string, SafetensorsTensor>;
  hasPooler: boolean;
  hasClassifier: boolean;
  /** Tensors skipped on purpose, by their name in the file; `cls.predictions.*` is a future MLM head's. */
  ignored: Array<{ name: string; reason: IgnoredReason }>;
}

/**
 * Maps a parsed checkpoint's names to canonical names and checks it against
 * `config`: no unknown or doubled names, every encoder parameter present with
 * its exact shape, pooler and classifier each complete or absent (and present
 * if required), parameters stored as F32, F16 or BF16 — or, for linear and
 * embedding weights, I8 with a valid `_scale` beside them.
 */
export function resolveCheckpointTensors(
  parsed: ParsedSafetensors,
  config: BertConfig,
  fileName = "model.safetensors",
  options: ResolveOptions = {},
): ResolvedCheckpoint {
  const file = fileName;
  const specs = parameterSpecs(config);
  const specByName = new Map(specs.map((s) => [s.name, s]));

  const tensors = new Map<string, SafetensorsTensor>();
  const sourceNames = new Map<string, string>();
  const scales = new Map<string, SafetensorsTensor>();
  const scaleNames = new Map<string, string>();
  const ignored: ResolvedCheckpoint["ignored"] = [];
  const unknown: string[] = [];
  for (const [name, tensor] of parsed.tensors) {
    const mapping = mapHfName(name);
    if (mapping.kind === "ignored") {
      ignored.push({ name, reason: mapping.reason });
      continue;
    }
    if (mapping.kind === "scale") {
      if (!specByName.has(mapping.canonical)) {
        unknown.push(name);
        continue;
      }
      const earlier = scaleNames.get(mapping.canonical);
      if (earlier !== undefined) {
        throw new CheckpointError("TENSOR_DUPLICATE", `tensors "${earlier}" and "${name}" are both the scales of ${mapping.canonical}`, { file, tensor: name });
      }
      scales.set(mapping.canonical, tensor);
      scaleNames.set(mapping.canonical, name);
      continue;
    }
    if (mapping.kind === "unknown" || !specByName.has(mapping.canonical)) {
      unknown.push(name);
      continue;
    }
    const earlier = sourceNames.get(mapping.canonical);
    if (earlier !== undefined) {
      throw new CheckpointError(
        "TENSOR_DUPLICATE",
        `tensors "${earlier}" and "${name}" are both parameter ${mapping.canonical}`,
        { file, tensor: name },
      );
    }
    tensors.set(mapping.canonical, tensor);
    sourceNames.set(mapping.canonical, name);
  }
  if (unknown.length > 0) throw unknownTensorsError(unknown, config, file);

  for (const [canonical, tensor] of tensors) {
    const name = sourceNames.get(canonical)!;
    if (tensor.dtype === QUANTIZED_DTYPE && specByName.get(canonical)!.quantizable) {
      if (!scales.has(canonical)) {
        throw new CheckpointError(
          "TENSOR_MISSING",
          `tensor "${name}" is stored as I8 but its per-row scales "${name}${SCALE_SUFFIX}" (F32 [rows]) are missing`,
          { file, tensor: name, details: { missing: `${name}${SCALE_SUFFIX}` } },
        );
      }
      continue;
    }
    if (!isParameterDtype(tensor.dtype)) {
      const hint = tensor.dtype === QUANTIZED_DTYPE ? " (I8 is only for linear and embedding weights, with a _scale)" : "";
      throw new CheckpointError(
        "DTYPE_UNSUPPORTED",
        `tensor "${name}" is stored as ${tensor.dtype}; parameters must be F32, F16 or BF16${hint}`,
        { file, tensor: name },
      );
    }
  }

  checkGroup("encoder", specs, tensors, true, file);
  const hasPooler = checkGroup("pooler", specs, tensors, options.requirePooler ?? true, file);
  const hasClassifier = checkGroup("classifier", specs, tensors, options.requireClassifier ?? false, file);

  // In model order, so the first mismatch reported is the earliest in the network.
  for (const spec of specs) {
    const tensor = tensors.get(spec.name);
    if (tensor !== undefined && !sameShape(tensor.shape, spec.shape)) {
      const name = sourceNames.get(spec.name)!;
      throw new CheckpointError(
        "SHAPE_MISMATCH",
        `tensor "${name}" has shape [${tensor.shape.join(", ")}] but the config implies [${spec.shape.join(", ")}] (${spec.from})`,
        { file, tensor: name, details: { expected: spec.shape, actual: tensor.shape } },
      );
    }
  }
  for (const spec of specs) {
    const scale = scales.get(spec.name);
    if (scale !== undefined) checkScale(scale, scaleNames.get(spec.name)!, spec, tensors.get(spec.name), file);
  }
  const inModelOrder = specs.filter((s) => tensors.has(s.name)).map((s) => s.name);
  return {
    tensors: new Map(inModelOrder.map((n) => [n, tensors.get(n)!])),
    sourceNames: new Map(inModelOrder.map((n) => [n, sourceNames.get(n)!])),
    scales: new Map(inModelOrder.filter((n) => scales.has(n)).map((n) => [n, scales.get(n)!])),
    hasPooler,
    hasClassifier,
    ignored,
  };
}

/**
 * A `_scale` tensor must belong to an I8 weight of a quantizable parameter and
 * be F32 `[rows]` of finite values ≥ 0 (a negative or NaN scale would flip or
 * poison a whole output feature without any other sign).
 */
function checkScale(scale: SafetensorsTensor, name: string, spec: ParameterSpec, weight: SafetensorsTensor | undefined, file: string): void {
  if (!spec.quantizable) {
    throw new CheckpointError("TENSOR_UNKNOWN", `tensor "${name}": ${spec.name} cannot be stored as int8, so it has no scales`, { file, tensor: name });
  }
  if (weight === undefined || weight.dtype !== QUANTIZED_DTYPE) {
    const stored = weight === undefined ? "absent" : `stored as ${weight.dtype}`;
    throw new CheckpointError("TENSOR_UNKNOWN", `tensor "${name}" holds scales for an I8 weight, but ${spec.name} is ${stored}`, { file, tensor: name });
  }
  if (scale.dtype !== "F32") {
    throw new CheckpointError("DTYPE_UNSUPPORTED", `tensor "${name}" is stored as ${scale.dtype}; int8 scales must be F32`, { file, tensor: name });
  }
  const rows = spec.shape[0];
  if (!sameShape(scale.shape, [rows])) {
    throw new CheckpointError(
      "SHAPE_MISMATCH",
      `tensor "${name}" has shape [${scale.shape.join(", ")}] but its weight has ${rows} rows, so it must be [${rows}]`,
      { file, tensor: name, details: { expected: [rows], actual: scale.shape } },
    );
  }
  const view = new DataView(scale.data.buffer, scale.data.byteOffset, scale.data.byteLength);
  for (let i = 0; i < rows; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v) || v < 0) {
      throw new CheckpointError("SCALE_INVALID", `tensor "${name}"[${i}] is ${v}; int8 scales must be finite and ≥ 0`, { file, tensor: name, details: { index: i, value: v } });
    }
  }
}

/** Returns whether the group is present; throws when it is partial, or absent but required. */
function checkGroup(
  group: ParameterGroup,
  specs: ParameterSpec[],
  tensors: Map<string, SafetensorsTensor>,
  required: boolean,
  file: string,
): boolean {
  const names = specs.filter((s) => s.group === group).map((s) => s.name);
  const missing = names.filter((n) => !tensors.has(n));
  if (missing.length === 0) return true;
  if (missing.length === names.length && !required) return false;
  const what = group === "encoder" ? "the encoder" : `the ${group}`;
  const shown = missing.slice(0, 6).join(", ");
  const more = missing.length > 6 ? ` and ${missing.length - 6} more` : "";
  throw new CheckpointError(
    "TENSOR_MISSING",
    `${missing.length} of ${names.length} parameters of ${what} are missing (canonical names, with or without a "bert." prefix in the file): ${shown}${more}`,
    { file, tensor: missing[0], details: { missing } },
  );
}

function unknownTensorsError(unknown: string[], config: BertConfig, file: string): CheckpointError {
  // Names shaped like a BERT parameter are unexpected only because their layer index is past the config.
  const strange = unknown.filter((name) => !["parameter", "scale"].includes(mapHfName(name).kind));
  if (strange.length === 0) {
    const first = unknown[0];
    const layer = /encoder\.layer\.(\d+)\./.exec(first)?.[1];
    return new CheckpointError(
      "TENSOR_UNKNOWN",
      `tensor "${first}" belongs to layer ${layer}, but the config has num_hidden_layers = ${config.numHiddenLayers} (layers 0…${config.numHiddenLayers - 1})`,
      { file, tensor: first, details: { unknown } },
    );
  }
  unknown = strange;
  const first = unknown[0];
  const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more: ${unknown.slice(1, 6).join(", ")}${unknown.length > 6 ? ", …" : ""})` : "";
  return new CheckpointError(
    "TENSOR_UNKNOWN",
    `tensor "${first}" is not a parameter of BertModel or BertForSequenceClassification${more}`,
    { file, tensor: first, details: { unknown } },
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ─── saving ─────────────────────────────────────────────────────────────────

/**
 * The name a canonical parameter gets in a saved checkpoint. A checkpoint with
 * a classifier is a BertForSequenceClassification (`bert.` prefix on all but
 * the classifier); one without is a bare BertModel.
 */
export function hfNameFor(canonical: string, layout: { classifier: boolean }): string {
  if (canonical.startsWith("classifier.")) return canonical;
  return layout.classifier ? `bert.${canonical}` : canonical;
}

/** Every tensor to save for `config`, in canonical order, with its HF name and shape. */
export function checkpointLayout(
  config: BertConfig,
  include: { pooler: boolean; classifier: boolean },
): Array<{ canonical: string; hfName: string; shape: number[] }> {
  return parameterSpecs(config)
    .filter((s) => s.group === "encoder" || include[s.group])
    .map((s) => ({ canonical: s.name, hfName: hfNameFor(s.name, include), shape: s.shape }));
}
