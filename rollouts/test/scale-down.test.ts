/**
 * Every combination of router, dynamicStableScale, the two scale-down delays and the step shapes
 * that the config schema accepts: either `preview` refuses it naming the key, or the rendered
 * canary passes the controller's validation (argo-validation.ts, from validation.go). The real
 * controller judges the combinations these rules tell apart in controller.itest.ts.
 */
import { committedConfig, variantProblems } from "../../test/helpers";
import { rollout } from "../spec";
import { canaryErrors } from "./argo-validation";

const ROUTERS = {
  istio: { type: "istio", hosts: ["queue-manager"] },
  "gateway-api": {
    type: "gateway-api",
    gateway: { name: "public", namespace: "gateways" },
    plugin: { version: "v0.15.0", location: "file:///plugin/gatewayapi", sha256: "0".repeat(64) },
  },
  replicas: { type: "replicas" },
} as const;
const STEPS = {
  default: undefined,
  // An open-ended pause and weights 1 replica can express without a router.
  "open pause": [{ pause: {} }, { analysis: true }, { setWeight: 100 }],
};
const CTX = {
  namespace: "stf",
  kafkaBootstrap: "k:9093",
  controlTopic: "c",
  eventsTopic: "e",
  kafkaUserSecret: "qm",
  clusterCaSecret: "ca",
  monitoringNamespace: "monitoring",
};

export interface Combination {
  readonly name: string;
  readonly router: keyof typeof ROUTERS;
  readonly dynamicStableScale: boolean;
  readonly scaleDownDelaySeconds?: number;
  readonly abortScaleDownDelaySeconds?: number;
  readonly steps: keyof typeof STEPS;
}

export function combinations(): Combination[] {
  const out: Combination[] = [];
  for (const router of Object.keys(ROUTERS) as (keyof typeof ROUTERS)[])
    for (const dynamicStableScale of [false, true])
      for (const scaleDownDelaySeconds of [undefined, 0, 30])
        for (const abortScaleDownDelaySeconds of [undefined, 0, 30])
          for (const steps of Object.keys(STEPS) as (keyof typeof STEPS)[])
            out.push({
              name: `${router} dss=${dynamicStableScale} sdd=${scaleDownDelaySeconds ?? "-"} asdd=${abortScaleDownDelaySeconds ?? "-"} ${steps}`,
              router,
              dynamicStableScale,
              ...(scaleDownDelaySeconds === undefined ? {} : { scaleDownDelaySeconds }),
              ...(abortScaleDownDelaySeconds === undefined ? {} : { abortScaleDownDelaySeconds }),
              steps,
            });
  return out;
}

/** The dev stack's rollouts config with a combination applied to its raw values. */
export function applyCombination(raw: any, c: Combination): void {
  raw.rollouts.router = structuredClone(ROUTERS[c.router]);
  raw.rollouts.dynamicStableScale = c.dynamicStableScale;
  delete raw.rollouts.scaleDownDelaySeconds;
  delete raw.rollouts.abortScaleDownDelaySeconds;
  if (c.scaleDownDelaySeconds !== undefined) raw.rollouts.scaleDownDelaySeconds = c.scaleDownDelaySeconds;
  if (c.abortScaleDownDelaySeconds !== undefined) raw.rollouts.abortScaleDownDelaySeconds = c.abortScaleDownDelaySeconds;
  if (STEPS[c.steps]) raw.rollouts.steps = structuredClone(STEPS[c.steps]);
  else if (c.router === "replicas") raw.rollouts.queueManager.replicas = 20; // 10%, 25%, 50% need a multiple of 20
}

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
