// The Node HTTP server example, as a separate process on 127.0.0.1 with an
// ephemeral port: the same /classify contract and answers as the Worker.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe } from "node:test";
import { classifyCases, generousChoice, DEMO_MODEL_DIR, type ClassifyCase } from "./helpers/classify-cases.js";
import { defineEndpointTests } from "./helpers/endpoint-tests.js";

const SERVER = join(import.meta.dirname, "..", "..", "examples", "node-server", "server.mjs");

describe("Node HTTP server example", () => {
  let child: ChildProcess;
  let url: URL;
  let cases: ClassifyCase[];
  let generous: [number, number];

  before(async () => {
    cases = await classifyCases("demo");
    generous = await generousChoice("demo");
    child = spawn(process.execPath, [SERVER, DEMO_MODEL_DIR, "--port", "0", "--host", "127.0.0.1"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit").then(([code]) => `exit ${code}`);
    const first = await Promise.race([once(createInterface({ input: child.stdout! }), "line").then(([line]) => line as string), exited]);
    if (first.startsWith("exit ")) throw new Error(`server stopped before listening (${first})`);
    url = new URL(JSON.parse(first).listening);
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });

  defineEndpointTests(() => url, () => cases, undefined, () => generous);
});
