/**
 * A canary is only as safe as its analysis. A Rollout without any analysis promotes on time
 * alone; an AnalysisTemplate whose conditions do not guard an empty (or NaN) result turns "no
 * data" into a verdict: `all(result, {# < 0.01})` is true on an empty vector, and `result[0]` on
 * one is an error. The program's templates guard with `len(result) > 0 && !isNaN(result[0]) && ...`
 * (rollouts/spec.ts): an empty or NaN result is neither success nor failure, so Inconclusive.
 */
import { type Subject, asArray, asRecord, asString, defineRule, describe, get, isKind, isRecord, shown } from "./common";

const ARGO = "argoproj.io";
const isRollout = (type: string) => isKind(type, ARGO, "Rollout");
const isTemplate = (type: string) => isKind(type, ARGO, "AnalysisTemplate") || isKind(type, ARGO, "ClusterAnalysisTemplate");

const hasTemplates = (analysis: unknown) => asArray(get(analysis, "templates")).length > 0;

export function rolloutAnalysisViolations(subject: Subject): string[] {
  const strategy = asRecord(get(subject.props, "spec", "strategy"));
  const where = describe(subject);
  if (isRecord(strategy.canary)) {
    const canary = strategy.canary;
    const background = hasTemplates(canary.analysis);
    const steps = asArray(canary.steps).some((s) => hasTemplates(get(s, "analysis")));
    return background || steps
      ? []
      : [
          `${where}: spec.strategy.canary: expected an analysis (spec.strategy.canary.analysis.templates or a step's analysis.templates); found none, so the canary is promoted on time alone`,
        ];
  }
  if (isRecord(strategy.blueGreen)) {
    const bg = strategy.blueGreen;
    return hasTemplates(bg.prePromotionAnalysis) || hasTemplates(bg.postPromotionAnalysis)
      ? []
      : [`${where}: spec.strategy.blueGreen: expected prePromotionAnalysis or postPromotionAnalysis with templates; found none`];
  }
  return [`${where}: spec.strategy: expected a canary or blueGreen strategy with an analysis; found ${shown(Object.keys(strategy))}`];
}

/** `len(result) > 0`, `len(result) >= 1`, `len(result) != 0`, or `len(result) == 0 || ...` (empty counts as a failure). */
const LENGTH_GUARD = /len\(\s*result\s*\)\s*(>\s*0|>=\s*1|!=\s*0|==\s*0|<\s*1)/;
const NAN_GUARD = /isNaN\(\s*result/;

/** What a condition lacks to guard an empty or NaN result; empty when it guards both (or does not read the result). */
export function unguarded(condition: string, prometheus: boolean): string[] {
  const indexes = /result\s*\[/.test(condition);
  const reads = /\bresult\b/.test(condition);
  if (!reads) return [];
  const lacks: string[] = [];
  if ((prometheus || indexes) && !LENGTH_GUARD.test(condition)) lacks.push("an empty-result guard such as `len(result) > 0 &&`");
  if (prometheus && indexes && !NAN_GUARD.test(condition)) lacks.push("a NaN guard such as `!isNaN(result[0]) &&`");
  return lacks;
}

export function analysisGuardViolations(subject: Subject): string[] {
  const where = describe(subject);
  const metrics = asArray(get(subject.props, "spec", "metrics"));
  const out: string[] = [];
  metrics.forEach((m, i) => {
    const metric = asRecord(m);
    const at = `spec.metrics[${i}] ("${asString(metric.name) ?? `#${i}`}")`;
    const prometheus = get(metric, "provider", "prometheus") !== undefined;
    const success = asString(metric.successCondition);
    const failure = asString(metric.failureCondition);
    if (success === undefined && failure === undefined) {
      out.push(`${where}: ${at}: expected a successCondition or failureCondition; found neither, so every measurement succeeds`);
      return;
    }
    for (const [field, condition] of [
      ["successCondition", success],
      ["failureCondition", failure],
    ] as const) {
      if (condition === undefined) continue;
      const lacks = unguarded(condition, prometheus);
      if (lacks.length > 0) out.push(`${where}: ${at}.${field}: expected ${lacks.join(" and ")}; found "${condition}"`);
    }
  });
  return out;
}

export const rolloutAnalysis = defineRule({
  name: "rollout-analysis",
  description: "Every Argo Rollout runs an analysis (background or in a step) before it promotes.",
  enforcementLevel: "mandatory",
  appliesTo: isRollout,
  scope: "Argo Rollouts",
  check: rolloutAnalysisViolations,
});

export const analysisGuardsEmptyResults = defineRule({
  name: "analysis-guards-empty-results",
  description: "Every AnalysisTemplate metric has a condition, and conditions guard an empty or NaN result so no data is Inconclusive.",
  enforcementLevel: "mandatory",
  appliesTo: isTemplate,
  scope: "Argo AnalysisTemplates and ClusterAnalysisTemplates",
  check: analysisGuardViolations,
});

export const rolloutRules = [rolloutAnalysis, analysisGuardsEmptyResults];
