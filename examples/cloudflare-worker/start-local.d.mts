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
/** Raw and gzip bytes of the bundle's modules (what Cloudflare counts against the 1 MB / 10 MB plan limits). */
export function bundleSizes(bundleDir: string): { raw: number; gzip: number };
/** Peak RSS (VmHWM) of the workerd processes this process spawned, in bytes; undefined off Linux. */
export function workerdPeakRssBytes(): number | undefined;
