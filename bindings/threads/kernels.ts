/**
 * The kernels a worker may be asked to run, by index (the control block
 * carries numbers, not names). Each is split by bindings/threads/split.ts so
 * that no output element depends on how the work was divided.
 */
export const THREAD_KERNELS = [
  "linear_forward",
  "linear_backward_input",
  "linear_backward_weight",
  "attention_forward",
  "layernorm_forward",
  "gelu_forward",
  "add_forward",
] as const;

export type ThreadKernel = (typeof THREAD_KERNELS)[number];

export function kernelIndex(name: ThreadKernel): number {
  return THREAD_KERNELS.indexOf(name);
}
