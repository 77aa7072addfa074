/** Checkpoint I/O: HF config.json, safetensors, and BERT parameter names. */
export {
  type BertConfig,
  parseBertConfig,
  bertConfigFromObject,
  bertConfigToJson,
} from "./config.js";
export {
  SAFETENSORS_DTYPES,
  DTYPE_BITS,
  PARAMETER_DTYPES,
  type SafetensorsDtype,
  type ParameterDtype,
  isSafetensorsDtype,
  isParameterDtype,
} from "./dtypes.js";
export {
  MAX_HEADER_BYTES,
  HF_PT_METADATA,
  type SafetensorsTensor,
  type SafetensorsTensorInput,
  type ParsedSafetensors,
  parseSafetensors,
  writeSafetensors,
  tensorByteLength,
} from "./safetensors.js";
export {
  type NameMapping,
  type IgnoredReason,
  type ParameterGroup,
  type ResolveOptions,
  type ResolvedCheckpoint,
  expectedShapes,
  mapHfName,
  resolveCheckpointTensors,
  hfNameFor,
  checkpointLayout,
} from "./names.js";
