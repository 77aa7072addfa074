import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHeaderJson, type HeaderJsonValue } from "../../src/checkpoint/header-json.js";
import { CheckpointError } from "../../src/errors.js";

/** Converts Maps back to plain objects so results compare against JSON.parse. */
function plain(v: HeaderJsonValue): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function rejects(text: string, mention: RegExp): void {
  assert.throws(
    () => parseHeaderJson(text, "h.safetensors"),
    (e: unknown) => {
      assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
      assert.equal(e.code, "HEADER_JSON");
      assert.match(e.message, /^h\.safetensors: header is not valid JSON: /);
      assert.match(e.message, mention);
      return true;
    },
  );
}

describe("strict header JSON", () => {
  it("agrees with JSON.parse on valid integer-only JSON", () => {
    const samples = [
      `{"a":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`,
      ` { "x" : [ ] , "y" : { } , "z" : [true, false, null, -0, 0, 9007199254740991] }  \n\t\r `,
      `{"esc":"q\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t u\\u00e9 pair\\ud83d\\ude00 raw é 😀"}`,
      `{"__proto__":{"constructor":"x"}}`,
    ];
    for (const s of samples) assert.deepEqual(plain(parseHeaderJson(s, "f")), JSON.parse(s));
  });

  it("returns objects as Maps in key order, so a __proto__ key is plain data", () => {
    const v = parseHeaderJson(`{"b":1,"__proto__":2,"a":3}`, "f");
    assert.ok(v instanceof Map);
    assert.deepEqual([...v.keys()], ["b", "__proto__", "a"]);
  });

  it("rejects duplicate keys at any depth, naming the key", () => {
    rejects(`{"w":{"dtype":"F32"},"w":{"dtype":"F16"}}`, /duplicate key "w"/);
    rejects(`{"w":{"shape":[1],"shape":[2]}}`, /duplicate key "shape"/);
  });

  it("rejects non-integer numbers, which no valid header holds", () => {
    rejects(`{"a":[1.0]}`, /non-integer number/);
    rejects(`{"a":[1e3]}`, /non-integer number/);
    rejects(`{"a":[2E-1]}`, /non-integer number/);
    rejects(`{"a":[01]}`, /leading zero/);
    rejects(`{"a":[-]}`, /invalid number/);
    rejects(`{"a":[+1]}`, /unexpected character/);
  });

  it("rejects malformed JSON with the character position", () => {
    rejects(`{"a":1,}`, /expected a string key at character 7/);
    rejects(`{"a" 1}`, /expected ':' at character 5/);
    rejects(`{"a":[1 2]}`, /expected '\]'/);
    rejects(`{"a":1`, /unexpected end of header, expected '}'/);
    rejects(`{"a":"x`, /unterminated string/);
    rejects(`{"a":"\u0001"}`, /unescaped control character/);
    rejects(`{"a":"\\x"}`, /invalid escape/);
    rejects(`{"a":"\\u12g4"}`, /invalid \\u escape/);
    rejects(`{"a":"\\ud800"}`, /lone high surrogate/);
    rejects(`{"a":"\\udc00"}`, /lone low surrogate/);
    rejects(`{"a":"\\ud800\\u0041"}`, /not followed by a low surrogate/);
    rejects(`{"a":tru}`, /expected 'true'/);
    rejects(`{} {}`, /unexpected text after the header object/);
    rejects(`{'a':1}`, /expected a string key/);
    rejects(``, /unexpected end of header/);
  });

  it("caps nesting depth instead of exhausting the stack", () => {
    rejects(`{"a":${"[".repeat(100_000)}`, /nesting deeper than 64 levels/);
    assert.doesNotThrow(() => parseHeaderJson(`{"a":${"[".repeat(60)}${"]".repeat(60)}}`, "f"));
  });
});
