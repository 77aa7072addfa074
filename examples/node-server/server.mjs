/**
 * DynaBERT behind a plain Node HTTP server, with the same /classify contract
 * as the Cloudflare Worker (examples/shared/classify-endpoint.mjs).
 *
 *   node examples/node-server/server.mjs MODEL_DIR [--port 8080] [--host 127.0.0.1]
 *
 * --port 0 picks a free port. The first stdout line is JSON:
 * {"listening": "http://HOST:PORT/", "loadMs": …}. SIGINT/SIGTERM close it.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { DynaBert } from "../../dist/node.js";
import { handleClassify } from "../shared/classify-endpoint.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" } },
});
if (positionals.length !== 1) {
  console.error("usage: server.mjs MODEL_DIR [--port 8080] [--host 127.0.0.1]");
  process.exit(2);
}

const t0 = performance.now();
const model = await DynaBert.load(positionals[0]);
const loadMs = performance.now() - t0;

/** Node's request as a web Request, so the shared handler serves both runtimes. */
async function toWebRequest(req, origin) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url, origin), {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v === undefined ? [] : [[k, v]])),
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
}

const server = createServer(async (req, res) => {
  try {
    const response = await handleClassify(await toWebRequest(req, `http://${req.headers.host ?? "localhost"}`), model);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    // Only a broken connection or a bad URL gets here; the handler answers everything else.
    res.writeHead(400, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: { code: "BAD_REQUEST", message: e instanceof Error ? e.message : String(e) } }));
  }
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  console.log(JSON.stringify({ listening: `http://${address}:${port}/`, loadMs: +loadMs.toFixed(1) }));
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
