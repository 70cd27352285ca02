/**
 * The progressive-delivery area's settings: the Argo Rollouts controller, queue-manager as a
 * canary Rollout, its traffic router, its steps and the analysis that gates them.
 */
import { z } from "zod";
import { ROLLOUTS_CRD_SHA256 } from "./crds";
import { digestSchema } from "../infra/kit/images";
import {
  type AreaConfig,
  type ConfigProblem,
  defineArea,
  dnsLabel,
  imageReference,
  ipv4Cidr,
  problem,
  resourcesSchema,
  chartVersion,
} from "../infra/kit/config-kit";

const percent = z.int().min(1).max(100);
const duration = z.string().regex(/^\d+(ms|s|m|h)$/, "a duration such as 30s, 5m or 1h");

/** One canary step, in config form: a traffic weight, a pause, or an analysis run. */
const stepSchema = z.union([
  z.strictObject({ setWeight: percent }),
  /** A pause; without `duration` it waits for `kubectl argo rollouts promote`. */
  z.strictObject({ pause: z.strictObject({ duration: duration.optional() }) }),
  /** Run the step analysis (the templates of `analysis.stepTemplates`) and wait for its verdict. */
  z.strictObject({ analysis: z.literal(true) }),
]);

const DEFAULT_STEPS: z.input<typeof stepSchema>[] = [
  { setWeight: 10 },
  { pause: { duration: "2m" } },
  { analysis: true },
  { setWeight: 25 },
  { analysis: true },
  { setWeight: 50 },
  { analysis: true },
  { setWeight: 100 },
];

const routerSchema = z.discriminatedUnion(
  "type",
  [
    /** Istio: the controller rewrites the weights of a VirtualService's route; needs a mesh (or, for tests, the CRDs). */
    z.strictObject({
      type: z.literal("istio"),
      /** Hosts of the VirtualService (the Service name inside the mesh, a public host at a gateway). */
      hosts: z.array(z.string().min(1)).min(1),
      /** Istio Gateways the VirtualService binds to; empty: mesh traffic only. */
      gateways: z.array(z.string().min(1)).default([]),
    }),
    /** Gateway API through the Argo Rollouts plugin: an HTTPRoute with both Services as backends. */
    z.strictObject({
      type: z.literal("gateway-api"),
      /** The Gateway the HTTPRoute attaches to. */
      gateway: z.strictObject({ name: dnsLabel, namespace: dnsLabel }),
      hostnames: z.array(z.string().min(1)).default([]),
      /** The plugin binary, pinned: its release URL and the sha256 from the release's checksums. */
      plugin: z.strictObject({
        version: z.string().regex(/^v\d+\.\d+\.\d+$/, "an exact version such as v0.15.0"),
        location: z.string().regex(/^(https|file):\/\/\S+$/, "an https:// or file:// URL"),
        sha256: z.string().regex(/^[a-f0-9]{64}$/, "the binary's sha256, 64 hex digits"),
        /**
         * Where an https location's host is, as CIDRs: the controller downloads the plugin at each
         * start (argo-rollouts v1.10.2 utils/plugin/downloader.go), and its namespace denies egress
         * but to these on 443. Required with https; a file:// location (baked into the image) needs none.
         */
        downloadFrom: z.array(ipv4Cidr).min(1).optional(),
      }),
    }),
    /** No router: weights are approximated by replica counts, so only weights the replicas can express are accepted. */
    z.strictObject({ type: z.literal("replicas") }),
  ],
  { error: 'one of "istio", "gateway-api", "replicas"' },
);

/** Names of queue-manager's metrics: not documented upstream; defaults of a FastAPI service using prometheus_client. */
const metricNamesSchema = z.strictObject({
  /** Counter of HTTP requests with a status label. */
  requestsTotal: z.string().default("http_requests_total"),
  /** Label of that counter holding the status code (or class, such as 5xx). */
  statusLabel: z.string().default("status"),
  /** Regular expression of the status values that count as server errors. */
  serverErrorStatus: z.string().default("5.."),
  /** Histogram buckets of request durations, in seconds. */
  durationBucket: z.string().default("http_request_duration_seconds_bucket"),
});

const analysisSchema = z.strictObject({
  /** The Prometheus the AnalysisTemplates query. */
  prometheusAddress: z.string().regex(/^https?:\/\/\S+$/, "an http(s) URL such as http://prometheus.monitoring:9090"),
  metrics: metricNamesSchema.default(metricNamesSchema.parse({})),
  /** How often each metric is measured, and the rate window of the queries. */
  interval: duration.default("1m"),
  /** How often Prometheus scrapes queue-manager (the PodMonitor's interval); a rate window holds at least two scrapes. */
  scrapeInterval: duration.default("15s"),
  /** At most this share of the canary's requests may fail (5xx). */
  maxErrorRate: z.number().min(0).max(1).default(0.01),
  /** The canary's p95 latency bound, in seconds, and its bound relative to stable's p95. */
  maxP95Seconds: z.number().positive().default(0.5),
  maxP95VsStable: z.number().min(1).default(1.5),
  /** Critical errors on queue-events (the self-healing operator's `fatal` events) during the canary against the hour before it. */
  criticalErrors: z
    .strictObject({
      maxIncreaseFactor: z.number().min(1).default(2),
      /** Below this rate per minute the baseline is taken as this rate: a quiet hour is not a zero to divide by. */
      baselineFloorPerMinute: z.number().positive().default(0.1),
    })
    .default({ maxIncreaseFactor: 2, baselineFloorPerMinute: 0.1 }),
});

const queueManagerSchema = z.strictObject({
  image: imageReference,
  replicas: z.int().min(1).max(100).default(1),
  resources: resourcesSchema.default({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } }),
  /** A HorizontalPodAutoscaler on the Rollout; the controller then scales the canary as a share of it. */
  autoscaling: z
    .strictObject({
      minReplicas: z.int().min(1),
      maxReplicas: z.int().min(1),
      targetCpuUtilization: percent,
    })
    .optional(),
  /** The Kafka user queue-manager connects as (its credentials Secret is in the apps namespace). */
  kafkaUser: dnsLabel.default("queue-manager"),
  /** Namespaces whose pods may reach queue-manager's port (its ingress controller or mesh gateway); the monitoring namespace always may. */
  ingressFrom: z.array(dnsLabel).default([]),
});

const rolloutsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  controller: z
    .strictObject({
      /** Install the controller (Helm) and its CRDs; false where it is already installed. */
      install: z.boolean().default(true),
      namespace: dnsLabel.default("argo-rollouts"),
      /**
       * The controller instance that serves this stack, where a cluster runs several: the
       * Rollout and its AnalysisTemplates carry it as a label, and an installed controller gets
       * `--instance-id`. A controller started without one ignores labelled objects, one with an
       * ID sees only its own (argo-rollouts v1.10.2 utils/controller/controller.go L287-299). It
       * also names the controller's Lease, so it is a DNS label.
       */
      instanceId: dnsLabel.optional(),
      chartVersion: chartVersion.default("2.41.0"),
      /** The controller image tag, pinned over the chart's appVersion. */
      version: z
        .string()
        .regex(/^v\d+\.\d+\.\d+$/, "an exact version such as v1.10.2")
        .refine(
          (v) => v in ROLLOUTS_CRD_SHA256,
          `a version whose CRD checksums are pinned in rollouts/crds.ts (${Object.keys(ROLLOUTS_CRD_SHA256).join(", ")})`,
        )
        .default("v1.10.2"),
      /** The digest of that version's image (`crane digest quay.io/argoproj/argo-rollouts:v1.10.2`); prod warns without it. */
      digest: digestSchema.optional(),
    })
    .default({ install: true, namespace: "argo-rollouts", chartVersion: "2.41.0", version: "v1.10.2" }),
  queueManager: queueManagerSchema,
  router: routerSchema,
  steps: z.array(stepSchema).min(1).default(DEFAULT_STEPS),
  /**
   * Seconds an aborted canary's pods stay (time to look at them); 0 keeps them until the next
   * rollout (Argo's meaning). Only with a traffic router; unset: 600.
   */
  abortScaleDownDelaySeconds: z.int().min(0).optional(),
  /** Seconds the old stable stays after promotion (a quick revert). Only with a traffic router and without dynamicStableScale; unset: 60. */
  scaleDownDelaySeconds: z.int().min(0).optional(),
  /** Scale stable down as the canary's weight rises (saves capacity; a revert then waits for stable to scale up again). Only with a traffic router. */
  dynamicStableScale: z.boolean().default(false),
  analysis: analysisSchema,
  /** `pulumi up` waits for the rollout's outcome (Healthy), failing on an abort; false returns at once. */
  await: z
    .strictObject({ enabled: z.boolean().default(true), timeoutSeconds: z.int().min(60).max(7200).default(1800) })
    .default({ enabled: true, timeoutSeconds: 1800 }),
});

export const rolloutsArea = defineArea({
  keys: { rollouts: rolloutsSchema.optional() },
  secrets: [],
  rules: ({ rollouts }) => (rollouts?.enabled ? rolloutRules(rollouts) : []),
});

export type RolloutsAreaConfig = AreaConfig<typeof rolloutsArea>;
export type RolloutsConfig = z.output<typeof rolloutsSchema>;
export type CanaryStepConfig = z.output<typeof stepSchema>;
export type RouterConfig = z.output<typeof routerSchema>;
export type AnalysisConfig = z.output<typeof analysisSchema>;

/** The share of traffic each canary replica count can carry: weight w needs w/100 * replicas to be a whole number. */
export function expressibleWeight(weight: number, replicas: number): boolean {
  return (weight * replicas) % 100 === 0;
}

function rolloutRules(rollouts: RolloutsConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { steps, queueManager, router } = rollouts;
  if (
    router.type === "gateway-api" &&
    router.plugin.location.startsWith("https://") &&
    rollouts.controller.install &&
    !router.plugin.downloadFrom
  )
    problems.push(
      problem(
        "rollouts",
        ["router", "plugin", "downloadFrom"],
        "expected the CIDRs of the plugin's download host: the controller downloads it at each start and its namespace denies egress elsewhere; found nothing. Name them, or serve the plugin from inside the cluster, or use a file:// location baked into the controller's image",
      ),
    );
  let previous = 0;
  steps.forEach((step, i) => {
    if (!("setWeight" in step)) return;
    if (step.setWeight < previous)
      problems.push(
        problem("rollouts", ["steps", i, "setWeight"], `expected a weight >= the previous step's ${previous}; found ${step.setWeight}`),
      );
    previous = step.setWeight;
    if (router.type === "replicas" && !expressibleWeight(step.setWeight, queueManager.replicas)) {
      const needed = 100 / gcd(step.setWeight, 100);
      problems.push(
        problem(
          "rollouts",
          ["steps", i, "setWeight"],
          `expected a weight ${queueManager.replicas} replica(s) can express without a traffic router (${step.setWeight}% needs a multiple of ${needed} replicas); found ${step.setWeight}. Use router istio or gateway-api for a true ${step.setWeight}%`,
        ),
      );
    }
  });
  if (!steps.some((s) => "setWeight" in s && s.setWeight === 100))
    problems.push(
      problem("rollouts", ["steps"], "expected a last setWeight of 100, so a healthy canary is promoted by its steps; found none"),
    );
  problems.push(...scaleDownRules(rollouts));
  problems.push(...scrapeRules(rollouts.analysis));
  const hpa = queueManager.autoscaling;
  if (hpa && hpa.minReplicas > hpa.maxReplicas)
    problems.push(
      problem(
        "rollouts",
        ["queueManager", "autoscaling", "minReplicas"],
        `expected at most maxReplicas (${hpa.maxReplicas}); found ${hpa.minReplicas}`,
      ),
    );
  if (hpa && router.type === "replicas")
    problems.push(
      problem(
        "rollouts",
        ["queueManager", "autoscaling"],
        "expected no autoscaler with router replicas: the weights are replica counts, which the autoscaler would change mid-canary",
      ),
    );
  return problems;
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration the schema accepted ("10s", "1m") in milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`expected a duration such as 30s, 5m or 1h; found "${text}"`);
  return Number(m[1]) * DURATION_MS[m[2]!]!;
}

/**
 * rate() needs two samples inside its window: with a window shorter than two scrape intervals
 * every query is empty (Inconclusive) however healthy the canary.
 */
export function scrapeRules(analysis: Pick<AnalysisConfig, "interval" | "scrapeInterval">): ConfigProblem[] {
  if (durationMs(analysis.interval) >= 2 * durationMs(analysis.scrapeInterval)) return [];
  return [
    problem(
      "rollouts",
      ["analysis", "interval"],
      `expected at least two scrape intervals (analysis.scrapeInterval ${analysis.scrapeInterval}), so each rate window holds two samples; found ${analysis.interval}`,
    ),
  ];
}

/**
 * The controller's rules for the scale-down fields, so a config it would refuse as InvalidSpec is
 * refused at preview instead (argo-rollouts v1.10.2 pkg/apis/rollouts/validation/validation.go
 * ValidateRolloutStrategyCanary, L296-306), and a delay it would ignore is not offered.
 */
export function scaleDownRules(
  rollouts: Pick<RolloutsConfig, "router" | "dynamicStableScale" | "scaleDownDelaySeconds" | "abortScaleDownDelaySeconds">,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { router, dynamicStableScale, scaleDownDelaySeconds, abortScaleDownDelaySeconds } = rollouts;
  if (router.type === "replicas") {
    // InvalidCanaryDynamicStableScale: "Canary dynamicStableScale can only be used with traffic routing".
    if (dynamicStableScale)
      problems.push(
        problem(
          "rollouts",
          ["dynamicStableScale"],
          "expected false with router replicas: Argo Rollouts accepts dynamicStableScale only with traffic routing (istio or gateway-api); found true",
        ),
      );
    // InvalidCanaryScaleDownDelay: "Canary scaleDownDelaySeconds can only be used with traffic routing".
    if (scaleDownDelaySeconds !== undefined)
      problems.push(
        problem(
          "rollouts",
          ["scaleDownDelaySeconds"],
          `expected no value with router replicas: Argo Rollouts accepts scaleDownDelaySeconds only with traffic routing (without it the old pods go as the new ones come); found ${scaleDownDelaySeconds}`,
        ),
      );
    // Not an InvalidSpec, but without traffic routing the controller never delays an aborted
    // canary's scale-down (rollout/replicaset.go shouldDelayScaleDownOnAbort returns false for a
    // basic canary; utils/defaults/defaults.go GetAbortScaleDownDelaySecondsOrDefault ignores the field).
    if (abortScaleDownDelaySeconds !== undefined)
      problems.push(
        problem(
          "rollouts",
          ["abortScaleDownDelaySeconds"],
          `expected no value with router replicas: without traffic routing Argo Rollouts scales an aborted canary down at once and ignores this field; found ${abortScaleDownDelaySeconds}`,
        ),
      );
  } else if (dynamicStableScale && scaleDownDelaySeconds !== undefined) {
    // InvalidCanaryDynamicStableScaleWithScaleDownDelay: "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds".
    problems.push(
      problem(
        "rollouts",
        ["scaleDownDelaySeconds"],
        `expected no value with dynamicStableScale true: Argo Rollouts refuses both together (stable is scaled down step by step, so there is no old stable to keep); found ${scaleDownDelaySeconds}`,
      ),
    );
  }
  return problems;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
