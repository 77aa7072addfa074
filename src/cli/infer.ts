/** `dynabert infer`: one forward pass of a sub-network over ids or texts, printed as JSON. */
import { DynaBert } from "../node.js";
import { OptionError } from "../errors.js";
import type { BatchInput, IdRows } from "../model/inputs.js";
import { toNested } from "../model/output.js";
import { Flags } from "./args.js";
import { ENGINE_FLAGS, ENGINE_USAGE, engineLoadOptions } from "./engine-flags.js";
import { readJsonFile, stringList } from "./io.js";

export const inferUsage = `dynabert infer --model DIR --input FILE.json [--width W] [--depth D] [--hidden-states] ${ENGINE_USAGE}`;

export async function infer(argv: string[]): Promise<void> {
  const flags = Flags.parse("infer", argv, {
    ...ENGINE_FLAGS,
    model: { type: "string" },
    input: { type: "string" },
    width: { type: "string" },
    depth: { type: "string" },
    "hidden-states": { type: "boolean" },
  });
  const inputPath = flags.string("input");
  const width = flags.fraction("width", 1);
  const depth = flags.fraction("depth", 1);
  const request = await readJsonFile(inputPath, "--input");
  const model = await DynaBert.load(flags.string("model"), engineLoadOptions(flags));
  const batch = batchFromRequest(model, request, inputPath);
  const result = model.forward(batch, { width, depth, hiddenStates: flags.bool("hidden-states") });
  const sub = result.subNetwork;
  const out: Record<string, unknown> = {
    width,
    depth,
    heads: sub.heads,
    intermediate: sub.intermediate,
    kept_layers: sub.keptLayers,
    logits: result.logits ? toNested(result.logits) : null,
  };
  if (result.hiddenStates) out.hidden_states = toNested(result.hiddenStates);
  model.dispose();
  process.stdout.write(JSON.stringify(out) + "\n");
}

function batchFromRequest(model: DynaBert, request: Record<string, unknown>, path: string): BatchInput {
  if ("texts" in request) return model.tokenize(stringList(request, "texts", path));
  if (!("input_ids" in request)) throw new OptionError("BAD_JSON", `${path}: expected "input_ids" (with optional "attention_mask", "token_type_ids") or "texts"`);
  return {
    inputIds: request.input_ids as IdRows,
    attentionMask: request.attention_mask as IdRows | undefined,
    tokenTypeIds: request.token_type_ids as IdRows | undefined,
  };
}
