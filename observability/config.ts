/**
 * The observability area's settings: whether the stack declares prometheus-operator objects
 * (PrometheusRules, PodMonitors) and Grafana dashboards at all, the labels the stack's
 * Prometheus and Grafana select them by, where the runbook lives, and the alert thresholds.
 */
import { z } from "zod";
import { type AreaConfig, type ConfigProblem, defineArea, dnsLabel, problem } from "../infra/kit/config-kit";

/** A Prometheus `for:` or range duration: a whole number of seconds, minutes or hours. */
const duration = z.string().regex(/^[1-9]\d*(s|m|h)$/, "a duration such as 30s, 5m or 1h");

/** A Kubernetes label key (optional DNS prefix, then a name) and a label value. */
const labelKey = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, "a label key such as release");
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "a label value such as kube-prometheus-stack");
const labels = z.record(labelKey, labelValue);

const operatorThresholds = z.strictObject({
  /** The operator's scrape target down (or absent) this long pages. */
  downFor: duration.default("5m"),
  /** No replica holding the Lease this long: nothing relaunches. */
  noLeaderFor: duration.default("5m"),
  /** More relaunches than this per hour, sustained over `relaunchLoopFor`, is a relaunch loop. */
  maxRelaunchesPerHour: z.number().positive().default(12),
  relaunchLoopFor: duration.default("15m"),
  /** Share of queue-events messages rejected as unusable (not parsed into an event). */
  maxRejectedRatio: z.number().min(0).max(1).default(0.05),
  /** Messages behind the end of queue-events, sustained over `lagFor`. */
  maxConsumerLag: z.int().min(1).default(1000),
  lagFor: duration.default("10m"),
  /** The event source disconnected or not current this long. */
  sourceUnhealthyFor: duration.default("5m"),
});

const kafkaThresholds = z.strictObject({
  /** Under-replicated or under-min-ISR partitions this long. */
  underReplicatedFor: duration.default("5m"),
  /** Fewer running brokers than the node pools declare, this long. */
  brokersMissingFor: duration.default("3m"),
  /** Lag of a StreamForge consumer group (summed over its partitions), sustained over `consumerGroupLagFor`. */
  maxConsumerGroupLag: z.int().min(1).default(10000),
  consumerGroupLagFor: duration.default("15m"),
  /** Free space of a broker's data volume, in percent. */
  minFreeDiskPercent: z.number().min(1).max(99).default(15),
});

const rolloutThresholds = z.strictObject({
  /** A Rollout paused with an Inconclusive analysis run this long waits on a person. */
  pausedInconclusiveFor: duration.default("30m"),
});

const chaosThresholds = z.strictObject({
  /** A ChaosResult that turned Fail within this window fires. */
  failWindow: duration.default("1h"),
});

const thresholdsSchema = z.strictObject({
  operator: operatorThresholds.default(operatorThresholds.parse({})),
  kafka: kafkaThresholds.default(kafkaThresholds.parse({})),
  rollouts: rolloutThresholds.default(rolloutThresholds.parse({})),
  chaos: chaosThresholds.default(chaosThresholds.parse({})),
});

/**
 * Where this repository is hosted is recorded nowhere in it (package.json names no repository;
 * the README links StreamForge's application repository, not this one), so the default is the
 * runbook's path in the repository: a stack whose alerts reach people sets the URL they open.
 */
const DEFAULT_RUNBOOK = "docs/runbook.md";

const observabilitySchema = z.strictObject({
  /** Declare PrometheusRules, PodMonitors and dashboards; false where the cluster has no prometheus-operator CRDs. */
  enabled: z.boolean().default(false),
  /** Labels the stack's Prometheus selects rules and monitors by (kube-prometheus-stack: `release: <its release>`). */
  selectorLabels: labels.default({ release: "kube-prometheus-stack" }),
  /** Where the PrometheusRules and dashboard ConfigMaps go; default: `streamforge:monitoring.namespace`. */
  namespace: dnsLabel.optional(),
  /** The runbook every alert links into (`<url>#<alert anchor>`): an http(s) URL, or a path relative to where the alerts are read. */
  runbookUrl: z
    .string()
    .regex(
      /^(https?:\/\/[^\s#]+|[A-Za-z0-9._~-][A-Za-z0-9._~/-]*)$/,
      "an http(s) URL or a relative path such as docs/runbook.md, without a #fragment",
    )
    .default(DEFAULT_RUNBOOK),
  dashboards: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** The label the Grafana sidecar watches ConfigMaps by (kube-prometheus-stack: grafana_dashboard: "1"). */
      labels: labels.default({ grafana_dashboard: "1" }),
      /** Grafana folder, through the sidecar's folder annotation. */
      folder: z.string().min(1).default("StreamForge"),
    })
    .default({ enabled: true, labels: { grafana_dashboard: "1" }, folder: "StreamForge" }),
  thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
});

export const observabilityArea = defineArea({
  keys: { observability: observabilitySchema.default(observabilitySchema.parse({})) },
  secrets: [],
  rules: ({ observability }) => observabilityRules(observability),
});

export type ObservabilityAreaConfig = AreaConfig<typeof observabilityArea>;
export type ObservabilityConfig = z.output<typeof observabilitySchema>;
export type Thresholds = z.output<typeof thresholdsSchema>;

function observabilityRules(o: ObservabilityConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (o.enabled && Object.keys(o.selectorLabels).length === 0)
    problems.push(
      problem(
        "observability",
        ["selectorLabels"],
        "expected at least one label the stack's Prometheus selects rules and monitors by (e.g. release: kube-prometheus-stack); found none",
      ),
    );
  if (o.enabled && o.dashboards.enabled && Object.keys(o.dashboards.labels).length === 0)
    problems.push(
      problem(
        "observability",
        ["dashboards", "labels"],
        'expected the label the Grafana sidecar watches (e.g. grafana_dashboard: "1"); found none',
      ),
    );
  return problems;
}
