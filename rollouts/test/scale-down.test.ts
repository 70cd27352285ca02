/**
 * Every combination of router, dynamicStableScale, the two scale-down delays and the step shapes
 * that the config schema accepts: either `preview` refuses it naming the key, or the rendered
 * canary passes the controller's validation (argo-validation.ts, from validation.go). The real
 * controller judges the combinations these rules tell apart in controller.itest.ts.
 */
import { committedConfig, variantProblems } from "../../test/helpers";
import { rollout } from "../spec";
import { canaryErrors } from "./argo-validation";
import { CTX, applyCombination, combinations } from "./combinations";

describe("scale-down settings against the controller's validation", () => {
  const all = combinations();
  const verdicts = all.map((c) => {
    const problems = variantProblems("dev", (raw) => applyCombination(raw, c));
    return { c, problems };
  });

  it(`each of the ${all.length} combinations is refused naming its key, or renders a canary the controller accepts`, () => {
    const base = committedConfig("dev");
    for (const { c, problems } of verdicts) {
      if (problems.length > 0) {
        for (const p of problems)
          expect([c.name, p]).toEqual([
            c.name,
            expect.stringMatching(
              /^streamforge:rollouts\.(dynamicStableScale|scaleDownDelaySeconds|abortScaleDownDelaySeconds): expected /,
            ),
          ]);
        continue;
      }
      const raw = { rollouts: structuredClone(base.rollouts) } as any;
      applyCombination(raw, c);
      const canary = (rollout(raw.rollouts, CTX) as any).spec.strategy.canary;
      expect([c.name, canaryErrors(canary)]).toEqual([c.name, []]);
      // What was asked for, with the documented defaults where it was left unset.
      const routed = c.router !== "replicas";
      expect([c.name, canary.dynamicStableScale, canary.scaleDownDelaySeconds, canary.abortScaleDownDelaySeconds]).toEqual([
        c.name,
        c.dynamicStableScale || undefined,
        routed && !c.dynamicStableScale ? (c.scaleDownDelaySeconds ?? 60) : undefined,
        routed ? (c.abortScaleDownDelaySeconds ?? 600) : undefined,
      ]);
    }
  });

  it("refuses exactly what the controller would refuse (InvalidSpec) or ignore", () => {
    for (const { c, problems } of verdicts) {
      // The spec as the config asks for it, without our rules: what an `up` would have sent.
      const asked = {
        ...(c.router === "replicas" ? {} : { trafficRouting: {} }),
        ...(c.dynamicStableScale ? { dynamicStableScale: true } : {}),
        ...(c.scaleDownDelaySeconds === undefined ? {} : { scaleDownDelaySeconds: c.scaleDownDelaySeconds }),
      };
      const controllerRefuses = canaryErrors(asked).length > 0;
      const controllerIgnores = c.router === "replicas" && c.abortScaleDownDelaySeconds !== undefined;
      expect([c.name, problems.length > 0]).toEqual([c.name, controllerRefuses || controllerIgnores]);
    }
    // Both outcomes occur: the check can fail either way.
    expect(verdicts.filter((v) => v.problems.length > 0).length).toBeGreaterThan(0);
    expect(verdicts.filter((v) => v.problems.length === 0).length).toBeGreaterThan(0);
  });

  it("names the rule in the message", () => {
    expect(
      variantProblems("dev", (raw) =>
        applyCombination(raw, { name: "", router: "istio", dynamicStableScale: true, scaleDownDelaySeconds: 30, steps: "default" }),
      ),
    ).toEqual([
      "streamforge:rollouts.scaleDownDelaySeconds: expected no value with dynamicStableScale true: Argo Rollouts refuses both together (stable is scaled down step by step, so there is no old stable to keep); found 30",
    ]);
  });
});
