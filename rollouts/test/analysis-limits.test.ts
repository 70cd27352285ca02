/**
 * What rollouts/README.md promises about the analysis limits, checked against Argo's aggregation
 * (argo-aggregation.ts, from argo-rollouts v1.10.2's source) for EVERY sequence of measurement
 * phases up to a length past the point where each metric must have completed. fast-check is not a
 * dependency, so the enumeration is exhaustive instead of sampled.
 */
import { analysisTemplates, BACKGROUND_LIMITS, STEP_LIMITS } from "../spec";
import { committedConfig } from "../../test/helpers";
import {
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  type Measurement,
  type MetricLimits,
  type MetricPhase,
  runMetric,
  sequences,
  validateLimits,
} from "./argo-aggregation";

const ALL: Measurement[] = ["Successful", "Failed", "Inconclusive", "Error"];
const [S, F, I, E] = ALL as [Measurement, Measurement, Measurement, Measurement];

/**
 * The README's sentences as a model, written from the docs and not from Argo's code: measurement by
 * measurement, the first of these decides a step metric —
 * two good in a row pass; a second bad aborts; a second no-data pauses; five query errors in a row
 * end it as Error (abort); the fourth counted measurement (errors do not count) without a pass pauses.
 */
function documentedStep(seq: readonly Measurement[]): { phase: MetricPhase; taken: number } {
  let streak = 0;
  let failed = 0;
  let inconclusive = 0;
  let errorsInARow = 0;
  let counted = 0;
  for (let i = 0; i < seq.length; i++) {
    const m = seq[i]!;
    streak = m === S ? streak + 1 : 0;
    errorsInARow = m === E ? errorsInARow + 1 : 0;
    if (m !== E) counted++;
    if (m === F) failed++;
    if (m === I) inconclusive++;
    if (errorsInARow === 5) return { phase: "Error", taken: i + 1 };
    if (failed === 2) return { phase: "Failed", taken: i + 1 };
    if (inconclusive === 2) return { phase: "Inconclusive", taken: i + 1 };
    if (streak === 2) return { phase: "Successful", taken: i + 1 };
    if (counted === 4) return { phase: "Inconclusive", taken: i + 1 };
  }
  return { phase: "Running", taken: seq.length };
}

/** The background metric: a second bad aborts, a fourth no-data pauses, five errors in a row end it; otherwise it runs until the rollout ends. */
function documentedBackground(seq: readonly Measurement[]): { phase: MetricPhase; taken: number } {
  let failed = 0;
  let inconclusive = 0;
  let errorsInARow = 0;
  for (let i = 0; i < seq.length; i++) {
    const m = seq[i]!;
    errorsInARow = m === E ? errorsInARow + 1 : 0;
    if (m === F) failed++;
    if (m === I) inconclusive++;
    if (errorsInARow === 5) return { phase: "Error", taken: i + 1 };
    if (failed === 2) return { phase: "Failed", taken: i + 1 };
    if (inconclusive === 4) return { phase: "Inconclusive", taken: i + 1 };
  }
  return { phase: "Running", taken: seq.length };
}

const step: MetricLimits = { interval: "1m", ...STEP_LIMITS };
const background: MetricLimits = { interval: "1m", ...BACKGROUND_LIMITS };
const render = (seq: readonly Measurement[]) => seq.map((m) => m[0]).join("");

describe("the step analysis limits, over every measurement sequence", () => {
  // 4 counted measurements plus up to 4 errors in a row before the fifth decides: 9 is past every decision point but errors between counted ones.
  const LENGTH = STEP_LIMITS.count + DEFAULT_CONSECUTIVE_ERROR_LIMIT + 1;
  const all = sequences(ALL, LENGTH);

  it("are limits the controller accepts (utils/analysis/factory.go ValidateMetric)", () => {
    expect(validateLimits(step)).toBeUndefined();
    expect(validateLimits(background)).toBeUndefined();
  });

  it(`end as the README says for all ${all.length} sequences of ${LENGTH} measurements`, () => {
    const differ = all.filter((seq) => {
      const argo = runMetric(step, seq);
      const docs = documentedStep(seq);
      return argo.phase !== docs.phase || argo.taken !== docs.taken;
    });
    expect(differ.map(render)).toEqual([]);
  });

  it("one bad minute anywhere is noise, and one minute without data too, when the others are good", () => {
    for (const seq of [...sequences([S, F], 4), ...sequences([S, I], 4)]) {
      const bad = seq.filter((m) => m !== S).length;
      const { phase } = runMetric(step, seq);
      if (bad <= 1) expect([render(seq), phase]).toEqual([render(seq), "Successful"]);
    }
    // Good, bad, good, good: the case count 3 got wrong.
    expect(runMetric(step, [S, F, S, S])).toEqual({ phase: "Successful", taken: 4 });
  });

  it("never passes without two good measurements in a row, so no data never passes", () => {
    for (const seq of all) {
      const { phase, taken } = runMetric(step, seq);
      if (phase === "Successful") expect(render(seq.slice(taken - 2, taken))).toBe("SS");
    }
  });

  it("always decides within four counted measurements or five errors in a row", () => {
    for (const seq of all) {
      const { phase, taken } = runMetric(step, seq);
      if (phase !== "Running") continue;
      const counted = seq.slice(0, taken).filter((m) => m !== E).length;
      expect(counted).toBeLessThan(STEP_LIMITS.count);
    }
  });

  it("with count 3 (the old limits) a bad or empty minute between good ones paused the rollout", () => {
    const old: MetricLimits = { ...step, count: 3 };
    expect(runMetric(old, [S, F, S]).phase).toBe("Inconclusive");
    expect(runMetric(old, [S, I, S]).phase).toBe("Inconclusive");
    expect(documentedStep([S, F, S, S]).phase).toBe("Successful");
  });
});

describe("the background analysis limits, over every measurement sequence", () => {
  it("end as the README says for all sequences of 8 measurements", () => {
    const differ = sequences(ALL, 8).filter((seq) => {
      const argo = runMetric(background, seq);
      const docs = documentedBackground(seq);
      return argo.phase !== docs.phase || argo.taken !== docs.taken;
    });
    expect(differ.map(render)).toEqual([]);
  });
});

describe("the rendered templates carry these limits", () => {
  it("every step metric has the step limits and the background metric the background limits", () => {
    const templates = analysisTemplates(committedConfig("dev").rollouts!.analysis, "stf");
    const metrics = templates.flatMap((t) =>
      (t.spec.metrics as (MetricLimits & { name: string })[]).map((m) => [t.metadata.name, m] as const),
    );
    for (const [template, m] of metrics) {
      const limits = template.endsWith("critical-errors") ? BACKGROUND_LIMITS : STEP_LIMITS;
      expect({ ...m }).toMatchObject(limits);
      expect(validateLimits(m)).toBeUndefined();
    }
    expect(metrics).toHaveLength(4);
  });
});
