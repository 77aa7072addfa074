/**
 * The /classify contract, checked over real HTTP against any server that
 * claims it (the Worker in workerd, the Node example): answers equal to
 * Node's DynaBert.classify, malformed bodies rejected with a JSON 400 while the
 * server keeps serving, and a bounded sequential + concurrent load.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { postClassify, type ClassifyCase } from "./classify-cases.js";

function assertAnswer(json: any, c: ClassifyCase, where: string): void {
  assert.equal(typeof json.ms, "number", `${where}: ms`);
  assert.ok(json.ms >= 0, `${where}: ms ≥ 0`);
  const { ms: _ms, ...rest } = json;
  assert.deepEqual(rest, c.expected, where);
}

/**
 * `generousChoice`: the (width, depth) a budget everything fits in must pick —
 * the full model without an accuracy table, the table's most accurate row with one.
 */
export function defineEndpointTests(
  base: () => URL,
  cases: () => ClassifyCase[],
  load = { sequential: 200, concurrent: 20 },
  generousChoice: () => [number, number] = () => [1, 1],
): void {
  it("answers exactly what Node's classify gives, at every sub-network asked", async () => {
    for (const [i, c] of cases().entries()) {
      const { status, json } = await postClassify(base(), c.body);
      assert.equal(status, 200, `case ${i}: ${JSON.stringify(json)}`);
      assertAnswer(json, c, `case ${i}`);
    }
  });

  it("rejects malformed bodies with a JSON 400 naming the problem, and keeps serving", async () => {
    const bad: [unknown, string][] = [
      ["{not json", "BODY_JSON"],
      ["[1, 2]", "BODY_SHAPE"],
      [{ texts: [] }, "TEXTS_MISSING"],
      [{ text: "singular" }, "TEXTS_MISSING"],
      [{ texts: ["ok", 3] }, "TEXTS_NOT_STRINGS"],
      [{ texts: ["ok"], width: "half" }, "OPTION_TYPE"],
      // The package's own InputError, passed through with its code.
      [{ texts: ["ok"], width: 1.5 }, "MULTIPLIER_OUT_OF_RANGE"],
      [{ texts: ["ok"], depth: 0 }, "MULTIPLIER_OUT_OF_RANGE"],
    ];
    for (const [body, code] of bad) {
      const { status, json } = await postClassify(base(), body);
      assert.equal(status, 400, `${JSON.stringify(body)} → ${status} ${JSON.stringify(json)}`);
      assert.equal(typeof json.error?.message, "string");
      assert.equal(json.error.code, code, JSON.stringify(json));
      const next = await postClassify(base(), cases()[0].body);
      assert.equal(next.status, 200, `after ${JSON.stringify(body)}`);
      assertAnswer(next.json, cases()[0], `after ${JSON.stringify(body)}`);
    }
    const wrongMethod = await fetch(new URL("/classify", base()));
    assert.equal(wrongMethod.status, 405);
    assert.equal(typeof (await wrongMethod.json()).error.message, "string");
    const wrongPath = await fetch(new URL("/nothing", base()), { method: "POST", body: "{}" });
    assert.equal(wrongPath.status, 404);
    assert.equal(typeof (await wrongPath.json()).error.message, "string");
  });

  it("picks the sub-network from an x-latency-budget-ms header, and rejects bad or impossible budgets", async () => {
    const url = new URL("/classify", base());
    const post = async (budget: string) => {
      const res = await fetch(url, { method: "POST", body: JSON.stringify({ texts: ["hello there"] }), headers: { "x-latency-budget-ms": budget } });
      return { status: res.status, json: (await res.json()) as any };
    };
    const generous = await post("100000");
    assert.equal(generous.status, 200, JSON.stringify(generous.json));
    assert.deepEqual([generous.json.width, generous.json.depth], generousChoice(), "a generous budget affords the most accurate sub-network");
    const impossible = await post("0.000001");
    assert.equal(impossible.status, 400);
    assert.equal(impossible.json.error.code, "BUDGET_UNREACHABLE");
    const malformed = await post("fast");
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, "BUDGET_HEADER");
  });

  it(`stays correct over ${load.sequential} sequential and ${load.concurrent} concurrent requests`, async () => {
    const all = cases();
    for (let i = 0; i < load.sequential; i++) {
      const c = all[i % all.length];
      const { status, json } = await postClassify(base(), c.body);
      assert.equal(status, 200, `request ${i}`);
      assertAnswer(json, c, `sequential request ${i}`);
    }
    const answers = await Promise.all(
      Array.from({ length: load.concurrent }, (_, i) => postClassify(base(), all[i % all.length].body)),
    );
    answers.forEach(({ status, json }, i) => {
      assert.equal(status, 200, `concurrent request ${i}`);
      assertAnswer(json, all[i % all.length], `concurrent request ${i}`);
    });
  });
}
