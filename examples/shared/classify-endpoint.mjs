/**
 * The HTTP contract shared by the Worker and the Node server examples, written
 * against the web-standard Request/Response so both runtimes run the same code:
 *
 *   POST /classify  {"texts": ["…", …], "width"?: number, "depth"?: number}
 *                   (or header x-latency-budget-ms: the most accurate sub-network predicted to fit)
 *   200 → {"results": [{"label", "score", "scores"}], "width", "depth", "ms"}
 *         header x-wasm-memory-bytes: the model's wasm memory after the request
 *   400 → {"error": {"code", "message"}} for a malformed body or bad option
 *
 * `ms` is the time spent in classify(). In workerd the clock only advances on
 * I/O (a Spectre mitigation), so there it reads 0 for a compute-only request.
 */

/** Upper bounds that keep one request from holding the isolate for long. */
const MAX_TEXTS = 64;
const MAX_BODY_BYTES = 1 << 20;

/** DynaBertError subclasses that mean the request was wrong, not the server. */
const CALLER_ERRORS = new Set(["DynaBertError", "InputError", "OptionError"]);

class BadRequest extends Error {
  constructor(code, message, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

function fail(status, code, message) {
  return json({ error: { code, message } }, status);
}

/** Reads and checks the body: a non-empty list of strings and optional numeric width/depth. */
async function readClassifyBody(request) {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new BadRequest("BODY_TOO_LARGE", `body is over ${MAX_BODY_BYTES} bytes`, 413);
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new BadRequest("BODY_JSON", `body is not valid JSON: ${e.message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new BadRequest("BODY_SHAPE", "body must be a JSON object");
  const { texts, width, depth } = body;
  if (!Array.isArray(texts) || texts.length === 0) throw new BadRequest("TEXTS_MISSING", '"texts" must be a non-empty array of strings');
  if (texts.length > MAX_TEXTS) throw new BadRequest("TEXTS_TOO_MANY", `"texts" has ${texts.length} entries; at most ${MAX_TEXTS} per request`);
  const notString = texts.findIndex((t) => typeof t !== "string");
  if (notString !== -1) throw new BadRequest("TEXTS_NOT_STRINGS", `"texts"[${notString}] is not a string`);
  for (const [name, value] of [["width", width], ["depth", depth]]) {
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
      throw new BadRequest("OPTION_TYPE", `"${name}" must be a number`);
    }
  }
  return { texts, width, depth };
}

/**
 * The sub-network for this request: explicit width/depth win; otherwise an
 * `x-latency-budget-ms` header picks the most accurate one predicted to fit
 * (model.select, calibrated on the device at first use); otherwise the full model.
 */
function chooseSubNetwork(request, model, body) {
  if (body.width !== undefined || body.depth !== undefined) return { width: body.width ?? 1, depth: body.depth ?? 1 };
  const header = request.headers.get("x-latency-budget-ms");
  if (header === null) return { width: 1, depth: 1 };
  const latencyMs = Number(header);
  if (header.trim() === "" || !Number.isFinite(latencyMs) || latencyMs <= 0) {
    throw new BadRequest("BUDGET_HEADER", `x-latency-budget-ms must be a positive number of milliseconds, got ${JSON.stringify(header)}`);
  }
  const { width, depth } = model.select({ latencyMs }, { batch: body.texts.length });
  return { width, depth };
}

/**
 * Answers one request with `model` (a loaded DynaBert, or a promise of one so
 * a Worker can start loading at module scope and await on first use).
 */
export async function handleClassify(request, model) {
  const url = new URL(request.url);
  if (url.pathname !== "/classify") return fail(404, "NOT_FOUND", `no route ${url.pathname}: POST /classify`);
  if (request.method !== "POST") return fail(405, "METHOD", `use POST /classify, not ${request.method}`);
  try {
    const body = await readClassifyBody(request);
    const { texts } = body;
    const loaded = await model;
    const { width, depth } = chooseSubNetwork(request, loaded, body);
    const start = performance.now();
    const results = loaded.classify(texts, { width, depth });
    const ms = performance.now() - start;
    // The wasm memory the model holds after this request (weights + largest scratch so far): what counts against a Worker's 128 MB with the JS heap.
    return json({ results, width, depth, ms }, 200, { "x-wasm-memory-bytes": String(loaded.memoryBytes) });
  } catch (e) {
    if (e instanceof BadRequest) return fail(e.status, e.code, e.message);
    // The package's typed errors (a width outside (0, 1] …) are the caller's fault. Matched by
    // name, not instanceof: the core and node entries are separate bundles with their own classes.
    if (e instanceof Error && typeof e.code === "string" && CALLER_ERRORS.has(e.name)) {
      return fail(400, e.code, e.message);
    }
    return fail(500, "INTERNAL", e instanceof Error ? e.message : String(e));
  }
}
