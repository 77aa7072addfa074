/** Choosing a sub-network for a latency, FLOPs or memory budget. */
export { calibrateLatency, checkLatencyModel, fitLatency, predictLatencyMs, PROBE_CONFIGS } from "./latency-model.js";
export type { CalibrateOptions, LatencyModel, LatencyPoint } from "./latency-model.js";
export { activationBytes, memoryMB, weightBytes, BYTES_PER_MB } from "./memory.js";
export { paperCandidates, storedSubnetTable, tableCandidates } from "./candidates.js";
export type { Candidate } from "./candidates.js";
export { candidateCosts, checkBudget, resolveShape, selectSubNetwork } from "./select.js";
export type { Budget, CandidateCost, SelectOptions, Selection } from "./select.js";
