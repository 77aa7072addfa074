import { heap_base } from "../index";
describe("module", () => {
  it("has a 64-byte aligned arena start", () => {
    expect<usize>(heap_base() & 63).toBe(0);
  });
});
