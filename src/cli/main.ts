/** The `dynabert` command: dispatches to a subcommand, turns typed errors into one clear line. */
import { DynaBertError } from "../errors.js";
import { ablation, ablationUsage } from "./ablation.js";
import { bench, benchUsage } from "./bench.js";
import { demo, demoUsage } from "./demo.js";
import { distillUsage } from "./distill.js";
import { evalCommand, evalUsage } from "./eval.js";
import { exportCommand, exportUsage } from "./export.js";
import { grad, gradUsage } from "./grad.js";
import { infer, inferUsage } from "./infer.js";
import { pretrain, pretrainUsage } from "./pretrain.js";
import { importance, importanceUsage, rewireCommand, rewireUsage } from "./rewire.js";
import { tokenize, tokenizeUsage } from "./tokenize.js";
import { train, trainUsage } from "./train.js";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  infer: { run: infer, usage: inferUsage },
  tokenize: { run: tokenize, usage: tokenizeUsage },
  importance: { run: importance, usage: importanceUsage },
  rewire: { run: rewireCommand, usage: rewireUsage },
  train: { run: train, usage: `${trainUsage}\n  ${distillUsage}` },
  pretrain: { run: pretrain, usage: pretrainUsage },
  eval: { run: evalCommand, usage: evalUsage },
  grad: { run: grad, usage: gradUsage },
  export: { run: exportCommand, usage: exportUsage },
  bench: { run: bench, usage: benchUsage },
  demo: { run: demo, usage: demoUsage },
  ablation: { run: ablation, usage: ablationUsage },
};

function usage(): string {
  return ["usage:", ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`dynabert: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`usage: ${command.usage}`);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof DynaBertError) {
      console.error(`dynabert ${name}: ${e.name} [${e.code}]: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
