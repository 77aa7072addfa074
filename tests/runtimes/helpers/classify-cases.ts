/**
 * Requests for the /classify examples (Worker, Node server) and what Node's
 * own DynaBert.classify answers for them: the runtimes run the same wasm, so
 * the answers must match exactly, not within a tolerance.
 */
import { join } from "node:path";
import { DynaBert, type Classification } from "../../../dist/node.js";

/** The test checkpoint: 6 layers, 12 heads, 3 labels, a made-up syllable vocabulary. */
export const MODEL_DIR = join(import.meta.dirname, "..", "..", "fixtures", "golden", "h12");

export interface ClassifyCase {
  readonly body: { readonly texts: readonly string[]; readonly width?: number; readonly depth?: number };
  readonly expected: { readonly results: Classification[]; readonly width: number; readonly depth: number };
}

// Known syllables, unknown words, punctuation, an empty text, a text longer than
// max_position_embeddings (40, so it is truncated), at several sub-networks.
const BODIES: ClassifyCase["body"][] = [
  { texts: ["bala bale bali"] },
  { texts: ["ba be bi bo bu", "zzz unknown words", "balu, bama! bame?"], width: 0.5, depth: 0.75 },
  { texts: ["", "bapa"], width: 0.25, depth: 0.5 },
  { texts: [Array.from({ length: 60 }, (_, i) => ["ba", "be", "bala", "xyz"][i % 4]).join(" ")], width: 0.75 },
  { texts: ["bano banu bapo", "da de di do du"], depth: 0.5 },
];

/**
 * The model the Worker example bundles (and the Node server test serves): the
 * demo's DynaBERT spam classifier (2 labels, 4000-token vocab, 128 positions),
 * exported whole as int8 with its sub-network accuracy table.
 */
export const DEMO_MODEL_DIR = join(import.meta.dirname, "..", "..", "..", "examples", "models", "spam-demo-int8");

// Mail-like texts: ordinary and spammy, an empty one, one past 128 tokens (truncated), at several sub-networks.
const DEMO_BODIES: ClassifyCase["body"][] = [
  { texts: ["Hi Bob, are we still meeting on Thursday to go over the build logs?"] },
  { texts: ["CLICK HERE to claim your FREE prize!!! Limited offer, act now", "the patch is attached, please review", "Re: mailing list digest"], width: 0.5, depth: 0.75 },
  { texts: ["", "unsubscribe"], width: 0.25, depth: 0.5 },
  { texts: [Array.from({ length: 200 }, (_, i) => ["cheap", "meds", "online", "order", "today"][i % 5]).join(" ")], width: 0.75 },
  { texts: ["Your account statement is ready. Log in to view it.", "lunch?"], depth: 0.5 },
];

/** Requests with what Node's DynaBert.classify answers for them: the h12 fixture (default) or the demo model. */
export async function classifyCases(model: "fixture" | "demo" = "fixture"): Promise<ClassifyCase[]> {
  const [dir, bodies] = model === "demo" ? [DEMO_MODEL_DIR, DEMO_BODIES] : [MODEL_DIR, BODIES];
  const loaded = await DynaBert.load(dir);
  return bodies.map((body) => ({
    body,
    expected: {
      results: loaded.classify(body.texts, { width: body.width, depth: body.depth }),
      width: body.width ?? 1,
      depth: body.depth ?? 1,
    },
  }));
}

/** POSTs a body (an object, or raw text for malformed ones) to /classify. */
export async function postClassify(base: URL, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(new URL("/classify", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON answer (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, json };
}

/** What a budget every sub-network fits in selects, as Node's own model.select says (from the checkpoint's table, if any). */
export async function generousChoice(model: "fixture" | "demo"): Promise<[number, number]> {
  const loaded = await DynaBert.load(model === "demo" ? DEMO_MODEL_DIR : MODEL_DIR);
  const chosen = loaded.select({ latencyMs: 1e5 });
  return [chosen.width, chosen.depth];
}
