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

export async function classifyCases(): Promise<ClassifyCase[]> {
  const model = await DynaBert.load(MODEL_DIR);
  return BODIES.map((body) => ({
    body,
    expected: {
      results: model.classify(body.texts, { width: body.width, depth: body.depth }),
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
