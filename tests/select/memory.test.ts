// The activation count must match what the forward pass really allocates:
// the arena's peak use during one call, for several shapes and sub-networks.
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { DynaBert, subNetwork, syntheticBatch } from "../../src/node.js";
import { activationBytes, memoryMB, weightBytes } from "../../src/select/memory.js";
import { parametersUsed } from "../../src/model/subnetwork.js";

const H12 = join(import.meta.dirname, "..", "fixtures", "golden", "h12");

it("activationBytes equals the arena's peak scratch during forward", async () => {
  const model = await DynaBert.load(H12);
  const arena = model.engine.core.arena;
  const base = arena.usedBytes;
  let peak = base;
  const alloc = arena.alloc.bind(arena);
  arena.alloc = ((...args: Parameters<typeof alloc>) => {
    const t = alloc(...args);
    peak = Math.max(peak, arena.usedBytes);
    return t;
  }) as typeof arena.alloc;
  for (const [batch, seq] of [[1, 7], [3, 32], [2, 40]]) {
    for (const [width, depth] of [[1, 1], [0.75, 0.5], [0.25, 0.75]]) {
      peak = base;
      model.forward(syntheticBatch(model.config.vocabSize, batch, seq), { width, depth });
      const sub = subNetwork(model.config, width, depth);
      assert.equal(peak - base, activationBytes(model.config, sub, batch, seq), `${batch}×${seq} at (${width}, ${depth})`);
    }
  }
});

it("memoryMB is weights read plus activations, in MiB", async () => {
  const model = await DynaBert.load(H12);
  const sub = subNetwork(model.config, 0.5, 0.75);
  assert.equal(weightBytes(model.config, sub), 4 * parametersUsed(model.config, sub));
  assert.equal(memoryMB(model.config, sub, 2, 16), (weightBytes(model.config, sub) + activationBytes(model.config, sub, 2, 16)) / 1048576);
  // Narrower and shallower sub-networks need less.
  assert.ok(memoryMB(model.config, subNetwork(model.config, 0.25, 0.5), 1, 32) < memoryMB(model.config, subNetwork(model.config, 1, 1), 1, 32));
});
