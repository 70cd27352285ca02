/**
 * The chaos area's settings: the Litmus chaos operator, and the scenarios of roadmap chapter 12 as
 * ChaosEngines. Chaos is off unless a stack turns it on, and never on in prod by accident.
 */
import { z } from "zod";
import {
  type AreaConfig,
  type ConfigProblem,
  chartVersion,
  defineArea,
  dnsLabel,
  dnsSubdomain,
  imageReference,
  keyName,
  problem,
} from "../infra/kit/config-kit";
import { BY_DIGEST, type ThirdPartyImage } from "../infra/kit/images";
import { LITMUS_CRD_SHA256 } from "./litmus-operator";

/** An image pinned by tag or digest (prod also needs the digest: chaosRules). */
const pinnedImage = imageReference.refine((s) => /:[\w][\w.-]*$|@sha256:[a-f0-9]{64}$/.test(s), "an image pinned by tag or digest");
const seconds = (max: number) => z.int().min(1).max(max);

const podDeleteSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** How long the fault runs, and the pause between deletions, in seconds. */
  durationSeconds: seconds(600).default(60),
  intervalSeconds: seconds(300).default(20),
  /** At most this share of the targeted pods is deleted per round (the blast radius). */
  podsAffectedPercent: z.int().min(1).max(100).default(50),
  /** The hypothesis: the work is running again within this many seconds. */
  recoverWithinSeconds: seconds(3600).default(300),
});

const networkLatencySchema = z.strictObject({
  enabled: z.boolean().default(true),
  latencyMs: z.int().min(1).max(10_000).default(300),
  jitterMs: z.int().min(0).max(10_000).default(50),
  durationSeconds: seconds(600).default(120),
  podsAffectedPercent: z.int().min(1).max(100).default(50),
});

const brokerFailureSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The node pool whose brokers are deleted, one at a time. */
  pool: dnsLabel,
  /** How many brokers are down at once: never more than the cluster's fault tolerance. */
  brokersAtOnce: z.int().min(1).default(1),
  durationSeconds: seconds(900).default(180),
  intervalSeconds: seconds(600).default(60),
  /** The hypothesis: under-replicated partitions are back to 0 within this many seconds. */
  recoverWithinSeconds: seconds(3600).default(300),
});

/**
 * Opt-in: a CronJob that starts the engines the stack declares ahead of a run (the broker
 * scenario), the way `chaosStartCommand` does by hand. Worker scenarios resolve their pods when
 * they start, so they run on demand (`npm run chaos`).
 */
const scheduleSchema = z.strictObject({
  /** Five-field cron, e.g. "0 3 * * 1" for Mondays at 03:00. */
  cron: z.string().regex(/^\S+( \S+){4}$/, 'a five-field cron expression such as "0 3 * * 1"'),
  timeZone: z.string().min(1).default("Etc/UTC"),
  /** Pause the schedule without removing it. */
  suspend: z.boolean().default(false),
  /** The kubectl image the CronJob runs, pinned. */
  image: imageReference.default("registry.k8s.io/kubectl:v1.34.2"),
});

const chaosSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** prod runs chaos only when this says so, in the stack's own file. */
  allowInProduction: z.boolean().default(false),
  operator: z
    .strictObject({
      /**
       * Install the Litmus chaos operator into the chaos namespace, watching only that namespace, with
       * the Role of what it does (chaos/litmus-operator.ts); false where it is already there (then
       * the engine guard is bound cluster-wide).
       */
      install: z.boolean().default(true),
      /** The litmus-core chart release whose `crds/` are applied (their sums pinned in chaos/litmus-operator.ts). */
      chartVersion: chartVersion.default("3.28.1"),
      /** The chaos-operator image (the chart's operator.image at that release, values.yaml L15-19); by digest in prod. */
      image: pinnedImage.default("litmuschaos.docker.scarf.sh/litmuschaos/chaos-operator:3.28.0"),
      /**
       * Where Litmus is already there (install false): the one namespace its operator watches
       * (its WATCH_NAMESPACE, namespaced mode), which must be the chaos namespace; the engine guard
       * is then bound there only. Unset: it may watch every namespace, so the guard is bound to all.
       */
      watchNamespace: dnsLabel.optional(),
    })
    .default({ install: true, chartVersion: "3.28.1", image: "litmuschaos.docker.scarf.sh/litmuschaos/chaos-operator:3.28.0" }),
  /** Where the operator, engines, runners, experiment and helper pods run: the only privileged namespace. */
  namespace: dnsLabel.default("chaos"),
  /** The go-runner image of the experiments and of the network-latency helper (LIB_IMAGE); by digest in prod. */
  runnerImage: pinnedImage.default("litmuschaos.docker.scarf.sh/litmuschaos/go-runner:3.28.0"),
  /** The chaos-runner image the operator starts for each engine (its CHAOS_RUNNER_IMAGE); by digest in prod. */
  chaosRunnerImage: pinnedImage.default("litmuschaos.docker.scarf.sh/litmuschaos/chaos-runner:3.28.0"),
  /**
   * The PriorityClasses the chaos pods (runners, experiment Jobs, the latency helper) may carry:
   * none by default, as Litmus names none (chaos-operator 3.18.0, litmus-go 3.28.0). List the
   * cluster's `globalDefault` class if it has one: Kubernetes writes it into every pod naming none.
   */
  priorityClasses: z.array(dnsSubdomain).default([]),
  /** The nodes' container runtime, whose socket the network-latency helper mounts (docker is not supported). */
  containerRuntime: z.enum(["containerd", "crio"]).default("containerd"),
  socketPath: z
    .string()
    .regex(/^\/(?:[\w.-]+\/)*[\w.-]+\.sock$/, "an absolute path to the runtime's socket, such as /run/containerd/containerd.sock")
    .default("/run/containerd/containerd.sock"),
  schedule: scheduleSchema.optional(),
  /**
   * Prometheus the probes query. litmus-go puts it in a shell line as a bare word (`promql --host
   * <endpoint> ...`, pkg/probe/promProbe.go L190, run by /bin/sh -c at L199), so only characters sh
   * leaves alone there are taken.
   */
  prometheusAddress: z
    .string()
    .regex(
      /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/,
      "an http(s) URL of letters, digits and . - _ ~ / only (litmus-go passes it to /bin/sh unquoted)",
    ),
  scenarios: z
    .strictObject({
      loaderPodDelete: podDeleteSchema.default(podDeleteSchema.parse({})),
      arangoConnectorPodDelete: podDeleteSchema.default(podDeleteSchema.parse({})),
      networkLatency: networkLatencySchema.default(networkLatencySchema.parse({})),
      brokerFailure: brokerFailureSchema.optional(),
    })
    .default({
      loaderPodDelete: podDeleteSchema.parse({}),
      arangoConnectorPodDelete: podDeleteSchema.parse({}),
      networkLatency: networkLatencySchema.parse({}),
    }),
});

export const chaosArea = defineArea({
  keys: { chaos: chaosSchema.optional() },
  secrets: [],
});

export type ChaosAreaConfig = AreaConfig<typeof chaosArea>;
export type ChaosConfig = z.output<typeof chaosSchema>;

/** Every image the chaos area runs, with its key under `streamforge:chaos` (the operator's only where the stack installs it). */
export function chaosImages(chaos: ChaosConfig): (ThirdPartyImage & { readonly path: readonly string[] })[] {
  const image = (path: string[], ref: string, runs: string) => ({ path, ref, runs, digestKey: keyName("chaos", path) });
  return [
    ...(chaos.operator.install ? [image(["operator", "image"], chaos.operator.image, "Litmus' chaos operator")] : []),
    image(["chaosRunnerImage"], chaos.chaosRunnerImage, "Litmus' chaos runner"),
    image(["runnerImage"], chaos.runnerImage, "the experiments and the privileged network-latency helper (LIB_IMAGE)"),
    ...(chaos.schedule ? [image(["schedule", "image"], chaos.schedule.image, "the chaos schedule's CronJob")] : []),
  ];
}
export type PodDeleteScenario = z.output<typeof podDeleteSchema>;
export type NetworkLatencyScenario = z.output<typeof networkLatencySchema>;
export type BrokerFailureScenario = z.output<typeof brokerFailureSchema>;
export type ChaosSchedule = z.output<typeof scheduleSchema>;

/** How many brokers may be down while every partition keeps accepting `acks=all` writes. */
export function faultTolerance(replicationFactor: number, minInSyncReplicas: number): number {
  return Math.max(0, replicationFactor - minInSyncReplicas);
}

/** Chaos against what the stack deploys: safe by default, within the cluster's tolerance. Cross-area: it reads the environment and Kafka. */
export function chaosRules(config: {
  readonly environment: string;
  readonly chaos?: ChaosConfig | undefined;
  readonly kafka: {
    readonly replication: { readonly factor: number; readonly minInSyncReplicas: number };
    readonly nodePools: readonly { readonly name: string; readonly roles: readonly string[]; readonly replicas: number }[];
  };
}): ConfigProblem[] {
  const { chaos, kafka } = config;
  if (!chaos?.enabled) return [];
  const problems: ConfigProblem[] = [];
  if (config.environment === "prod" && !chaos.allowInProduction)
    problems.push(
      problem(
        "chaos",
        ["enabled"],
        "prod: expected false unless streamforge:chaos.allowInProduction is true in the stack's own file; found true. Chaos never runs in prod by accident",
      ),
    );
  // The helper runs privileged on a node, the runner holds the engine's account, the operator
  // creates pods and the scheduler starts engines: in prod the images are the ones reviewed, not
  // whatever a tag points at today.
  if (config.environment === "prod")
    for (const image of chaosImages(chaos).filter((i) => !BY_DIGEST.test(i.ref)))
      problems.push(
        problem("chaos", image.path, `prod: expected an image pinned by digest (name:tag@sha256:<64 hex>); found "${image.ref}"`),
      );
  if (chaos.operator.install && !(chaos.operator.chartVersion in LITMUS_CRD_SHA256))
    problems.push(
      problem(
        "chaos",
        ["operator", "chartVersion"],
        `expected a litmus-core release whose CRD checksums chaos/litmus-operator.ts pins (${Object.keys(LITMUS_CRD_SHA256).join(", ")}); found "${chaos.operator.chartVersion}". Add the sha256 of each of its charts/litmus-core/crds/*.yaml there first`,
      ),
    );
  const watch = chaos.operator.watchNamespace;
  if (watch !== undefined && (chaos.operator.install || watch !== chaos.namespace))
    problems.push(
      problem(
        "chaos",
        ["operator", "watchNamespace"],
        chaos.operator.install
          ? "expected unset when the stack installs Litmus (it then watches the chaos namespace only)"
          : `expected the chaos namespace (${chaos.namespace}): engines run, and are guarded, there only; found "${watch}"`,
      ),
    );
  const broker = chaos.scenarios.brokerFailure;
  if (chaos.schedule && !broker?.enabled)
    problems.push(
      problem(
        "chaos",
        ["schedule"],
        "expected a scenario declared ahead of a run (streamforge:chaos.scenarios.brokerFailure) for the schedule to start; worker scenarios resolve their pods when they start and run on demand (npm run chaos)",
      ),
    );
  if (broker?.enabled) {
    const tolerance = faultTolerance(kafka.replication.factor, kafka.replication.minInSyncReplicas);
    const pool = kafka.nodePools.find((p) => p.name === broker.pool);
    if (!pool || !pool.roles.includes("broker"))
      problems.push(
        problem(
          "chaos",
          ["scenarios", "brokerFailure", "pool"],
          `expected a broker pool of streamforge:kafka.nodePools (${kafka.nodePools
            .filter((p) => p.roles.includes("broker"))
            .map((p) => p.name)
            .join(", ")}); found "${broker.pool}"`,
        ),
      );
    if (broker.brokersAtOnce > tolerance)
      problems.push(
        problem(
          "chaos",
          ["scenarios", "brokerFailure", "brokersAtOnce"],
          `expected at most the cluster's fault tolerance, replication factor ${kafka.replication.factor} minus min ISR ${kafka.replication.minInSyncReplicas} = ${tolerance}; found ${broker.brokersAtOnce}${tolerance === 0 ? ". This cluster cannot lose a broker without refusing acks=all writes: turn the scenario off" : ""}`,
        ),
      );
  }
  return problems;
}
