/**
 * The public model: one loaded checkpoint, any (width, depth) per call.
 * Switching sub-networks costs nothing — weights are packed so every width is
 * a prefix — and nothing here touches the file system.
 */
import { instantiateCore, type Core, type WasmSource } from "../bindings/index.js";
import { loadCheckpoint } from "./model/load.js";
import type { BertConfig } from "./checkpoint/config.js";
import { OptionError } from "./errors.js";
import { forward, type ForwardOptions, type ForwardResult } from "./model/forward.js";
import { checkBatch, type BatchInput } from "./model/inputs.js";
import { flopsPerSequence, subNetwork, type SubNetwork } from "./model/subnetwork.js";
import { randomWeights, type ModelWeights } from "./model/weights.js";
import { platform, type ModelFiles } from "./platform.js";
import { calibrateLatency, checkBudget, checkLatencyModel, selectSubNetwork, type Budget, type CalibrateOptions, type LatencyModel, type SelectOptions, type Selection } from "./select/index.js";
import { BertTokenizer } from "./tokenizer/index.js";
import { checkThreads, instantiateWithThreads, isThreadedBuild } from "./threads.js";
import { checkLoadedVariant, checkSimdOption, wasmVariantOf, type SimdOption, type WasmVariant } from "./wasm-variant.js";

export interface LoadOptions {
  /** The compiled core or its bytes; Node/Deno default to a bundled build (see `simd`). */
  readonly wasm?: WasmSource;
  /**
   * Threads for the big kernels (Node and Deno): > 1 runs the threaded build
   * (build/release-threads.wasm, or release-threads-relaxed.wasm as `simd`
   * picks; pass one as `wasm` to choose your own) with threads − 1 workers
   * sharing its memory, results bit-identical to one thread of the same
   * build. Default 1.
   * Workers never keep the process alive; `dispose()` stops them. An
   * OptionError (THREADS_UNSUPPORTED) where there are no worker threads.
   */
  readonly threads?: number;
  /**
   * Which bundled core to load (Node and Deno; src/wasm-variant.ts): "auto"
   * (default) takes build/release-relaxed.wasm (relaxed-SIMD multiply-adds:
   * faster, last-bit differences) where this runtime validates it, else the
   * baseline build/release.wasm; "baseline" always the latter (bit-identical
   * in every runtime); "relaxed" or an OptionError (SIMD_UNSUPPORTED). The
   * same choice between the two threaded builds for threads > 1. With `wasm`
   * it is checked against the module given.
   */
  readonly simd?: SimdOption;
}

export interface SubNetworkOptions {
  /** Fraction of attention heads and FFN neurons kept, in (0, 1]. Default 1. */
  readonly width?: number;
  /** Fraction of layers kept, in (0, 1]. Default 1. */
  readonly depth?: number;
}

export interface ClassifyOptions extends SubNetworkOptions {
  /** Truncate longer texts to this many tokens (default: model_max_length, else max_position_embeddings). */
  readonly maxLength?: number;
}

export interface Classification {
  /** The most probable label (config id2label, else LABEL_i). */
  readonly label: string;
  /** Its softmax probability. */
  readonly score: number;
  /** Every label's probability, by label name. */
  readonly scores: Record<string, number>;
}

export class DynaBert {
  private constructor(
    private readonly core: Core,
    readonly config: BertConfig,
    private readonly weights: ModelWeights,
    readonly tokenizer: BertTokenizer | undefined,
    /** vocab.txt and tokenizer_config.json as loaded, written back when the model is saved. */
    readonly tokenizerFiles: { readonly vocab?: string; readonly tokenizerConfig?: string } = {},
  ) {}

  /**
   * Loads a HuggingFace BERT checkpoint: a folder path (Node and Deno, through
   * the `dynabert/node` entry or the package's default export there) or the
   * files as bytes and text (everywhere, including Workers).
   */
  static async load(source: string | ModelFiles, options: LoadOptions = {}): Promise<DynaBert> {
    let files: ModelFiles;
    if (typeof source === "string") {
      if (!platform.readModelFolder) {
        throw new OptionError("NO_FILE_SYSTEM", `cannot read folder ${source} in this runtime: pass { config, weights, vocab } instead`);
      }
      files = await platform.readModelFolder(source);
    } else {
      files = source;
    }
    const core = await loadCore(options);
    const { config, weights } = loadCheckpoint(core, files);
    const tokenizer = files.vocab === undefined ? undefined : BertTokenizer.fromFiles({ vocab: files.vocab, tokenizerConfig: files.tokenizerConfig });
    return new DynaBert(core, config, weights, tokenizer, { vocab: files.vocab, tokenizerConfig: files.tokenizerConfig });
  }

  /**
   * A model with BERT-initialised random weights and no tokenizer, for
   * benchmarks and tests: the same config and seed give the same weights.
   */
  static async random(config: BertConfig, options: LoadOptions & { seed?: number } = {}): Promise<DynaBert> {
    const core = await loadCore(options);
    return new DynaBert(core, config, randomWeights(core, config, options.seed ?? 1), undefined);
  }

  /** The sizes and kept layers for a (width, depth); validates both. */
  subNetwork(options: SubNetworkOptions = {}): SubNetwork {
    return subNetwork(this.config, options.width ?? 1, options.depth ?? 1);
  }

  /** FLOPs of one sequence of length `seq` through the sub-network (pooler and classifier included). */
  flops(options: SubNetworkOptions, seq: number): number {
    return flopsPerSequence(this.config, this.subNetwork(options), seq);
  }

  /** Runs token ids through the chosen sub-network. */
  forward(batch: BatchInput, options: SubNetworkOptions & ForwardOptions = {}): ForwardResult {
    const sub = this.subNetwork(options);
    const checked = checkBatch(this.config, batch);
    return forward(this.core, this.config, this.weights, checked, sub, options);
  }

  /** Tokenizes texts, runs them and returns each one's label and probabilities. */
  classify(texts: string | readonly string[], options: ClassifyOptions = {}): Classification[] {
    const list = typeof texts === "string" ? [texts] : texts;
    if (!this.weights.classifier) {
      throw new OptionError("NO_CLASSIFIER", "this checkpoint has no classifier head (a bare BertModel): use forward() for hidden states");
    }
    const encoded = this.tokenize(list, options.maxLength);
    const { logits } = this.forward(encoded, options);
    const K = this.config.numLabels;
    const labels = Array.from({ length: K }, (_, i) => this.config.id2label[i] ?? `LABEL_${i}`);
    return list.map((_, b) => {
      const row = logits!.data.subarray(b * K, (b + 1) * K);
      const max = Math.max(...row);
      const exps = Array.from(row, (z) => Math.exp(z - max));
      const total = exps.reduce((a, e) => a + e, 0);
      const probs = exps.map((e) => e / total);
      const best = probs.indexOf(Math.max(...probs));
      return { label: labels[best], score: probs[best], scores: Object.fromEntries(labels.map((l, i) => [l, probs[i]])) };
    });
  }

  /** The padded batch `classify` would feed the model. */
  tokenize(texts: readonly string[], maxLength?: number): BatchInput {
    if (!this.tokenizer) throw new OptionError("NO_VOCAB", "this model was loaded without vocab.txt, so it cannot take text: pass token ids");
    const limit = Math.min(maxLength ?? this.tokenizer.modelMaxLength ?? Infinity, this.config.maxPositionEmbeddings);
    return this.tokenizer.encodeBatch(texts, { maxLength: limit, truncation: true, padding: "longest" });
  }

  /**
   * The wasm core and the weights in it, for the trainer and exporters in
   * this package. Not a stable API.
   * @internal
   */
  get engine(): { readonly core: Core; readonly weights: ModelWeights } {
    return { core: this.core, weights: this.weights };
  }

  /** The latency model select() predicts with: probed on first select()/calibrate(), or set from one measured elsewhere. */
  get latencyModel(): LatencyModel | undefined {
    return this.latency;
  }

  set latencyModel(model: LatencyModel | undefined) {
    this.latency = model === undefined ? undefined : checkLatencyModel(model);
  }

  private latency?: LatencyModel;

  /** Probes this device (a few sub-networks, ~200 ms budget) and caches latency ≈ a + b·FLOPs; `force` re-probes. */
  calibrate(options: CalibrateOptions & { force?: boolean } = {}): LatencyModel {
    if (!this.latency || options.force) this.latency = calibrateLatency(this, options);
    return this.latency;
  }

  /** The most accurate (width, depth) within every given budget (src/select); calibrates on first use. */
  select(budget: Budget, options: SelectOptions = {}): Selection {
    // Budget checked before the probe, so a bad budget fails fast.
    return selectSubNetwork(this.config, checkBudget(budget), this.calibrate(), options);
  }

  /** Stops the worker threads of a model loaded with `threads` > 1, which cannot run afterwards; nothing otherwise. */
  dispose(): void {
    this.core.dispose?.();
  }

  /** Bytes of wasm memory the model holds (weights, plus the largest scratch so far). */
  get memoryBytes(): number {
    return this.core.arena.memoryBytes;
  }

  /** The build of the core this model runs on, as the module reports it ("relaxed": relaxed-SIMD multiply-adds). */
  get wasmVariant(): WasmVariant {
    return wasmVariantOf(this.core.exports);
  }
}

async function loadCore(options: LoadOptions): Promise<Core> {
  const simd = checkSimdOption(options.simd);
  const threads = checkThreads(options.threads);
  const threaded = threads > 1 || (options.wasm !== undefined && isThreadedBuild(options.wasm));
  const core = threaded ? await instantiateWithThreads(threads, options.wasm, simd) : await instantiateCore(await resolveWasm(options, simd));
  try {
    checkLoadedVariant(core.exports, simd);
  } catch (e) {
    core.dispose?.();
    throw e;
  }
  return core;
}

async function resolveWasm(options: LoadOptions, simd: SimdOption): Promise<WasmSource> {
  const wasm = options.wasm ?? (await platform.defaultWasm?.(simd));
  if (!wasm) {
    throw new OptionError("NO_WASM", "no wasm module: pass options.wasm (in Workers, import the package's release.wasm as a module)", {
      option: "wasm",
    });
  }
  return wasm;
}
