/**
 * The worker script for Node and Deno (both provide node:worker_threads):
 * built by tsup to dist/threads-worker.js and started by src/node-threads.ts.
 * The first message is the WorkerInit; after that the worker never returns to
 * its event loop, it sleeps in Atomics.wait until the pool stops it.
 */
import { parentPort } from "node:worker_threads";
import { serveKernels, type WorkerInit } from "./worker-loop.js";

const port = parentPort;
if (!port) throw new Error("dynabert's threads worker must be started as a worker thread");
port.once("message", (init: WorkerInit) => serveKernels(init, (reply) => port.postMessage(reply)));
