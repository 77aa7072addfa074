/**
 * `dynabert grad`: one accumulated training step without the update, dropout
 * off — the loss per sub-network, the global gradient norm, and every
 * gradient under its HF name, for checking against other implementations.
 */
import { writeSafetensors, HF_PT_METADATA } from "../checkpoint/safetensors.js";
import { hfNameFor } from "../checkpoint/names.js";
import { OptionError } from "../errors.js";
import type { IdRows } from "../model/inputs.js";
import { DynaBert } from "../node.js";
import { accumulateStep, type Phase, type TeacherWidth } from "../train/accumulate.js";
import { TrainableParameters } from "../train/params.js";
import { Flags } from "./args.js";
import { writeFileAtomic } from "./files.js";
import { readJsonFile } from "./io.js";
import { multiplierList } from "./train.js";

export const gradUsage =
  "dynabert grad --student DIR [--teacher DIR] --input FILE.json --phase finetune|final|width|depth [--widths 1,.75,.5,.25] [--depths 1,.75,.5] [--teacher-width same|full] [--lambda-logit X] [--lambda-emb X] [--lambda-hidden X] --out GRADS.safetensors";

const PHASES: readonly Phase[] = ["finetune", "final", "width", "depth"];

export async function grad(argv: string[]): Promise<void> {
  const flags = Flags.parse("grad", argv, {
    student: { type: "string" },
    teacher: { type: "string" },
    input: { type: "string" },
    phase: { type: "string" },
    widths: { type: "string" },
    depths: { type: "string" },
    "teacher-width": { type: "string" },
    "lambda-logit": { type: "string" },
    "lambda-emb": { type: "string" },
    "lambda-hidden": { type: "string" },
    out: { type: "string" },
  });
  const phase = flags.string("phase") as Phase;
  if (!PHASES.includes(phase)) throw new OptionError("BAD_FLAG", `dynabert grad: --phase must be one of ${PHASES.join(", ")}, got ${phase}`, { option: "--phase" });
  const defaultsAll = phase === "width" || phase === "depth" || phase === "final";
  const widths = multiplierList(flags, "widths", defaultsAll ? [1, 0.75, 0.5, 0.25] : [1]);
  const depths = multiplierList(flags, "depths", phase === "depth" || phase === "final" ? [1, 0.75, 0.5] : [1]);
  const teacherWidth = flags.string("teacher-width", "same") as TeacherWidth;
  if (teacherWidth !== "same" && teacherWidth !== "full") throw new OptionError("BAD_FLAG", "dynabert grad: --teacher-width must be same or full", { option: "--teacher-width" });
  const lambda = (name: string) => (flags.has(name) ? flags.number(name) : undefined);
  const out = flags.string("out");
  const request = await readJsonFile(flags.string("input"), "--input");

  const student = await DynaBert.load(flags.string("student"));
  const teacherDir = flags.string("teacher", undefined);
  const teacher = teacherDir === undefined ? undefined : await DynaBert.load(teacherDir);
  const params = new TrainableParameters(student.engine.core, student.engine.weights);
  const subnets = accumulateStep(
    student,
    params,
    {
      inputIds: request.input_ids as IdRows,
      attentionMask: request.attention_mask as IdRows | undefined,
      tokenTypeIds: request.token_type_ids as IdRows | undefined,
      labels: request.labels as number[],
    },
    { phase, widths, depths, teacherWidth, lambdas: { logit: lambda("lambda-logit"), emb: lambda("lambda-emb"), hidden: lambda("lambda-hidden") } },
    teacher,
  );
  const layout = { classifier: student.engine.weights.classifier !== undefined };
  const tensors = params.list.map((p) => {
    const values = params.gradRowMajor(p);
    return { name: hfNameFor(p.name, layout), dtype: "F32" as const, shape: [...p.value.shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  });
  await writeFileAtomic(out, writeSafetensors(tensors, HF_PT_METADATA));
  process.stdout.write(
    JSON.stringify({
      total_loss: subnets.reduce((a, s) => a + s.loss, 0),
      grad_global_norm: params.gradNorm(),
      subnets: subnets.map((s) => ({ width: s.width, depth: s.depth, kept_layers: s.keptLayers, loss: s.loss })),
    }) + "\n",
  );
}
