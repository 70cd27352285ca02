import { analysisTemplates } from "../spec";
import { committedConfig } from "../../test/helpers";
import { evaluateCondition, measure } from "./argo-conditions";

const S = "len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.01";
const F = "len(result) > 0 && !isNaN(result[0]) && result[0] > 0.01";

describe("the conditions evaluator", () => {
  it.each([
    [[0.001], "Successful"],
    [[0.2], "Failed"],
    [[Number.NaN], "Inconclusive"],
    [[], "Inconclusive"],
    [[0.01], "Successful"],
  ] as const)("result %j -> %s", (result, phase) => {
    expect(measure(S, F, [...result])).toBe(phase);
  });

  it("does not read result[0] of an empty result when guarded, and fails loudly on what it does not know", () => {
    expect(evaluateCondition("len(result) > 0 && result[0] > 1", [])).toBe(false);
    expect(() => evaluateCondition("result[0] > 1", [])).toThrow(/out of range/);
    expect(() => evaluateCondition("all(result, # < 1)", [1])).toThrow(/Unsupported token/);
    expect(evaluateCondition("!(1 > 2) || result[0] == 3", [0])).toBe(true);
  });

  it("parses every condition the committed stacks' templates carry", () => {
    const config = committedConfig("local");
    for (const t of analysisTemplates(config.rollouts!.analysis, "stf"))
      for (const m of t.spec.metrics as { successCondition: string; failureCondition: string }[]) {
        expect(["Successful", "Failed", "Inconclusive"]).toContain(measure(m.successCondition, m.failureCondition, [0.5]));
        expect(measure(m.successCondition, m.failureCondition, [])).toBe("Inconclusive");
      }
  });
});
