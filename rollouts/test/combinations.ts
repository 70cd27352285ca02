/**
 * The combinations of router, dynamicStableScale, scale-down delays and step shapes that the
 * config schema accepts, for scale-down.test.ts (the rules) and controller.itest.ts (the real controller).
 */
export const ROUTERS = {
  istio: { type: "istio", hosts: ["queue-manager"], gateways: [] },
  "gateway-api": {
    type: "gateway-api",
    gateway: { name: "public", namespace: "gateways" },
    hostnames: [],
    plugin: { version: "v0.15.0", location: "file:///plugin/gatewayapi", sha256: "0".repeat(64) },
  },
  replicas: { type: "replicas" },
} as const;
export const STEPS = {
  default: undefined,
  // An open-ended pause and weights 1 replica can express without a router.
  "open pause": [{ pause: {} }, { analysis: true }, { setWeight: 100 }],
};
export const CTX = {
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
