// Types for start-local.mjs, so the TypeScript tests can import it.
export interface LocalWorker {
  /** http://127.0.0.1:PORT/ served by workerd. */
  readonly url: URL;
  /** The wrangler bundle being served (removed by stop()). */
  readonly bundleDir: string;
  readonly timings: { readonly bundleMs: number; readonly startMs: number };
  stop(): Promise<void>;
}
export function bundleWorker(): string;
export function startWorker(): Promise<LocalWorker>;
