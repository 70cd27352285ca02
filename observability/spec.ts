/**
 * Pure builders of the observability area: PrometheusRules (alerts), PodMonitors (scrape
 * targets) and their context, derived from the validated config. No Pulumi, no I/O.
 *
 * Scrape jobs: every PodMonitor sets `job` to a fixed name (JOBS), so rules and dashboards select
 * by job and namespace and read the same on a cluster and on the local platform, whose
 * Prometheus lists its targets under these job names.
 */
import type { ChaosConfig } from "../chaos/config";
import type { CatalogueConfig, KafkaConfig } from "../infra/kafka/config";
import { OPERATOR_NAME } from "../infra/self-healing/manifests";
import type { AnalysisConfig, RolloutsConfig } from "../rollouts/config";
import { QUEUE_MANAGER } from "../rollouts/spec";
import type { ObservabilityConfig, Thresholds } from "./config";
import { anyOf, escapeRegex, selector } from "./promql";

export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";

/** The `job` label of each scrape target (set by the PodMonitors' relabelings). */
export const JOBS = {
  operator: "self-healing-operator",
  kafka: "kafka",
  kafkaExporter: "kafka-exporter",
  rollouts: "argo-rollouts",
} as const;

/** Strimzi's metrics port name in broker and Kafka Exporter pods (9404). */
export const STRIMZI_METRICS_PORT_NAME = "tcp-prometheus";

/**
 * The Argo Rollouts controller's pods, however it is installed: the argo-rollouts chart (2.41.0,
 * what rollouts/component.ts installs) labels them `app.kubernetes.io/name: argo-rollouts`,
 * `app.kubernetes.io/instance: <release>` and `app.kubernetes.io/component: rollouts-controller`,
 * while v1.10.2's own manifests (manifests/install.yaml, for a controller the stack does not
 * install) put only `app.kubernetes.io/name: argo-rollouts` on them. The dashboard's pods
 * (`argo-rollouts-dashboard` in the manifests; the chart's have no `metrics` port) stay out.
 */
export const ARGO_ROLLOUTS_CONTROLLER_POD_LABELS = { "app.kubernetes.io/name": "argo-rollouts" } as const;
/** The controller container's metrics port (8090) in both the chart and the manifests. */
export const ARGO_ROLLOUTS_METRICS_PORT_NAME = "metrics";

const PART_OF = { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "observability" };

/** What the rules and monitors need from the rest of the platform. */
export interface ObservabilityContext {
  /** Where the PrometheusRules and dashboard ConfigMaps go. */
  readonly namespace: string;
  readonly operator?: { readonly namespace: string };
  readonly kafka: {
    readonly namespace: string;
    readonly clusterName: string;
    readonly brokerPools: readonly { readonly name: string; readonly replicas: number }[];
    readonly controllerPools: readonly string[];
    /** Broker pools on persistent volumes (the disk alert reads their claims). */
    readonly persistentBrokerPools: readonly string[];
    readonly jmxExporter: boolean;
    readonly kafkaExporter: boolean;
    /** Consumer groups (or `prefix*`) of StreamForge's services, from the catalogue. */
    readonly consumerGroups: readonly string[];
  };
  readonly rollouts?: {
    /** Where the Rollout runs. */
    readonly namespace: string;
    readonly controllerNamespace: string;
    readonly rolloutName: string;
    readonly metrics: AnalysisConfig["metrics"];
  };
  readonly chaos?: { readonly namespace: string };
}

/** The settings the observability area reads: its own, and which pieces of the rest of the stack run where. */
export interface ObservabilityContextConfig {
  readonly observability: ObservabilityConfig;
  readonly monitoring: { readonly namespace: string };
  readonly apps: { readonly namespace: string };
  readonly kafka: KafkaConfig;
  readonly catalogue: CatalogueConfig;
  readonly operator?: { readonly enabled: boolean } | undefined;
  readonly rollouts?: RolloutsConfig | undefined;
  readonly chaos?: ChaosConfig | undefined;
}

/** The context from the areas' config (types only: no area's code runs here). */
export function observabilityContext(config: ObservabilityContextConfig): ObservabilityContext {
  const { kafka } = config;
  const pools = (role: "broker" | "controller") => kafka.nodePools.filter((p) => p.roles.includes(role));
  return {
    namespace: config.observability.namespace ?? config.monitoring.namespace,
    ...(config.operator?.enabled ? { operator: { namespace: config.apps.namespace } } : {}),
    kafka: {
      namespace: kafka.namespace,
      clusterName: kafka.clusterName,
      brokerPools: pools("broker").map((p) => ({ name: p.name, replicas: p.replicas })),
      controllerPools: pools("controller").map((p) => p.name),
      persistentBrokerPools: pools("broker")
        .filter((p) => p.storage.type === "persistent-claim")
        .map((p) => p.name),
      jmxExporter: kafka.metrics.jmxPrometheusExporter,
      kafkaExporter: kafka.metrics.kafkaExporter,
      consumerGroups: [...new Set(Object.values(config.catalogue.users).flatMap((u) => u.groups))].sort(),
    },
    ...(config.rollouts?.enabled
      ? {
          rollouts: {
            namespace: config.apps.namespace,
            controllerNamespace: config.rollouts.controller.namespace,
            rolloutName: QUEUE_MANAGER,
            metrics: config.rollouts.analysis.metrics,
          },
        }
      : {}),
    ...(config.chaos?.enabled ? { chaos: { namespace: config.chaos.namespace } } : {}),
  };
}

// ---- Pod names ---------------------------------------------------------------------------------

/**
 * Strimzi node-pool pods are `<cluster>-<pool>-<node id>` (StrimziPodSets), not the
 * `<cluster>-kafka-<n>` of clusters without node pools that Strimzi's example rules match.
 */
export function nodePoolPodRegex(clusterName: string, pools: readonly string[]): string {
  return `${escapeRegex(clusterName)}-(${anyOf(pools)})-[0-9]+`;
}

/** A node's data claims: `data-<pod>` for one volume, `data-<volume id>-<pod>` for JBOD. */
export function nodePoolClaimRegex(clusterName: string, pools: readonly string[]): string {
  return `data(-[0-9]+)?-${nodePoolPodRegex(clusterName, pools)}`;
}

/** A consumer-group regex from catalogue entries (exact names, or prefixes ending in `*`). */
export function consumerGroupRegex(groups: readonly string[]): string {
  return groups.map((g) => (g.endsWith("*") ? `${escapeRegex(g.slice(0, -1))}.*` : escapeRegex(g))).join("|");
}

// ---- Alerts ------------------------------------------------------------------------------------

export type Severity = "critical" | "warning";

/** One alert as written: the runbook anchor is its name in lower case. */
export interface AlertSpec {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: Severity; readonly team: "streamforge" };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** The runbook section of an alert: docs/runbook.md has a `## <AlertName>` heading per alert. */
export const runbookAnchor = (alert: string): string => alert.toLowerCase();

function rule(spec: AlertSpec, runbookUrl: string): AlertRule {
  return {
    alert: spec.alert,
    expr: spec.expr,
    ...(spec.for ? { for: spec.for } : {}),
    labels: { severity: spec.severity, team: "streamforge" },
    annotations: {
      summary: spec.summary,
      description: spec.description,
      runbook_url: `${runbookUrl}#${runbookAnchor(spec.alert)}`,
    },
  };
}

export function operatorAlerts(namespace: string, t: Thresholds["operator"]): AlertSpec[] {
  const sel = selector({ job: JOBS.operator, namespace });
  const leader = `(streamforge_operator_leader${sel} == 1)`;
  const rejected = `sum(rate(streamforge_operator_event_rejections_total${sel}[10m]))`;
  const consumed = `sum(rate(streamforge_operator_events_total${sel}[10m]))`;
  return [
    {
      alert: "SelfHealingOperatorDown",
      expr: `absent(up${sel} == 1)`,
      for: t.downFor,
      severity: "critical",
      summary: "No self-healing operator replica is up",
      description: `No replica of the self-healing operator in ${namespace} has been scraped successfully for ${t.downFor}: stuck and failed Jobs are not relaunched.`,
    },
    {
      alert: "SelfHealingOperatorNoLeader",
      expr: `max(streamforge_operator_leader${sel}) < 1`,
      for: t.noLeaderFor,
      severity: "critical",
      summary: "The self-healing operator has no leader",
      description: `Replicas of the self-healing operator in ${namespace} are up but none has held the Lease for ${t.noLeaderFor}: nothing reads queue-events or relaunches Jobs.`,
    },
    {
      alert: "SelfHealingRelaunchLoop",
      expr: `sum by (reason) (increase(streamforge_operator_relaunches_total${sel}[1h])) > ${t.maxRelaunchesPerHour}`,
      for: t.relaunchLoopFor,
      severity: "critical",
      summary: "The self-healing operator is relaunching Jobs in a loop",
      description: `{{ $value | printf "%.0f" }} relaunches for reason {{ $labels.reason }} in the last hour (bound ${t.maxRelaunchesPerHour}): relaunched Jobs keep going stuck or failing.`,
    },
    {
      alert: "SelfHealingGaveUp",
      expr: `sum by (reason) (increase(streamforge_operator_give_ups_total${sel}[15m])) > 0`,
      severity: "critical",
      summary: "The self-healing operator gave up on a queue",
      description: "A queue spent its restart budget ({{ $labels.reason }}) and is no longer relaunched: it stays down until someone acts.",
    },
    {
      alert: "SelfHealingEventsRejected",
      expr: `${rejected} / (${consumed} + ${rejected}) > ${t.maxRejectedRatio}`,
      for: "10m",
      severity: "warning",
      summary: "The self-healing operator rejects queue-events messages",
      description: `{{ $value | humanizePercentage }} of the messages on queue-events are not usable events (bound ${t.maxRejectedRatio * 100}%): a producer writes a format the operator cannot read, so its Jobs look silent.`,
    },
    {
      alert: "SelfHealingConsumerLag",
      expr: `max(streamforge_operator_consumer_lag${sel} and on (instance) ${leader}) > ${t.maxConsumerLag}`,
      for: t.lagFor,
      severity: "warning",
      summary: "The self-healing operator lags on queue-events",
      description: `The leader is {{ $value }} messages behind the end of queue-events (bound ${t.maxConsumerLag}) for ${t.lagFor}: its view of the Jobs is late.`,
    },
    {
      alert: "SelfHealingEventSourceUnhealthy",
      expr: `max(streamforge_operator_event_source_healthy${sel} and on (instance) ${leader}) < 1`,
      for: t.sourceUnhealthyFor,
      severity: "warning",
      summary: "The self-healing operator cannot read queue-events",
      description: `The leader's event source has been disconnected, stale or lagging for ${t.sourceUnhealthyFor}: stuck verdicts are held back until it recovers.`,
    },
  ];
}

/** The series the Kafka rules and panels read: brokers, controllers, StreamForge's groups, data claims. */
export function kafkaSelectors(kafka: ObservabilityContext["kafka"]) {
  const { clusterName, namespace } = kafka;
  const pods = (pools: readonly string[]) => `~${nodePoolPodRegex(clusterName, pools)}`;
  const brokerPods = pods(kafka.brokerPools.map((p) => p.name));
  return {
    brokers: selector({ job: JOBS.kafka, namespace, pod: brokerPods }),
    /** A broker's all-topics meters: per-topic series of the same name carry `topic`. */
    brokerTotals: selector({ job: JOBS.kafka, namespace, pod: brokerPods, topic: "" }),
    controllers: selector({ job: JOBS.kafka, namespace, pod: pods(kafka.controllerPools) }),
    groups: selector({ job: JOBS.kafkaExporter, namespace, consumergroup: `~${consumerGroupRegex(kafka.consumerGroups)}` }),
    claims: selector({ namespace, persistentvolumeclaim: `~${nodePoolClaimRegex(clusterName, kafka.persistentBrokerPools)}` }),
  };
}

export function kafkaAlerts(kafka: ObservabilityContext["kafka"], t: Thresholds["kafka"]): AlertSpec[] {
  const { clusterName } = kafka;
  const { brokers, controllers, groups, claims } = kafkaSelectors(kafka);
  const brokerCount = kafka.brokerPools.reduce((n, p) => n + p.replicas, 0);
  const alerts: AlertSpec[] = [];
  if (kafka.jmxExporter)
    alerts.push(
      {
        alert: "KafkaOfflinePartitions",
        expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount${controllers}) > 0`,
        for: "1m",
        severity: "critical",
        summary: `Kafka cluster ${clusterName} has offline partitions`,
        description: "{{ $value }} partition(s) have no leader: producers and consumers of them are stopped.",
      },
      {
        alert: "KafkaUnderReplicatedPartitions",
        expr: `sum by (pod) (kafka_server_replicamanager_underreplicatedpartitions${brokers}) > 0`,
        for: t.underReplicatedFor,
        severity: "warning",
        summary: `Kafka broker {{ $labels.pod }} leads under-replicated partitions`,
        description: `{{ $value }} partition(s) led by {{ $labels.pod }} have fewer in-sync replicas than replicas for ${t.underReplicatedFor}: one more broker loss may stop them.`,
      },
      {
        alert: "KafkaUnderMinIsrPartitions",
        expr: `sum by (pod) (kafka_server_replicamanager_underminisrpartitioncount${brokers}) > 0`,
        for: "1m",
        severity: "critical",
        summary: `Kafka broker {{ $labels.pod }} leads partitions under their min ISR`,
        description:
          "{{ $value }} partition(s) led by {{ $labels.pod }} have fewer in-sync replicas than min.insync.replicas: acks=all producers to them fail.",
      },
      {
        alert: "KafkaActiveControllerCount",
        expr: `sum(kafka_controller_kafkacontroller_activecontrollercount${controllers}) != 1`,
        for: "2m",
        severity: "critical",
        summary: `Kafka cluster ${clusterName} has {{ $value }} active controllers`,
        description:
          "A KRaft cluster has exactly one active controller; none means no metadata changes (leader elections, topic changes) happen.",
      },
      {
        alert: "KafkaBrokersMissing",
        expr: `(count(kafka_server_kafkaserver_brokerstate${brokers} == 3) or vector(0)) < ${brokerCount}`,
        for: t.brokersMissingFor,
        severity: "critical",
        summary: `Kafka cluster ${clusterName} runs fewer brokers than its node pools declare`,
        description: `{{ $value }} of ${brokerCount} brokers are running (broker state 3) for ${t.brokersMissingFor}.`,
      },
    );
  if (kafka.kafkaExporter && kafka.consumerGroups.length > 0) {
    alerts.push({
      alert: "KafkaConsumerGroupLag",
      expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag${groups}) > ${t.maxConsumerGroupLag}`,
      for: t.consumerGroupLagFor,
      severity: "warning",
      summary: "Consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
      description: `{{ $value }} messages behind on {{ $labels.topic }} (bound ${t.maxConsumerGroupLag}) for ${t.consumerGroupLagFor}.`,
    });
  }
  if (kafka.persistentBrokerPools.length > 0) {
    alerts.push({
      alert: "KafkaDiskFilling",
      expr: `100 * kubelet_volume_stats_available_bytes${claims} / kubelet_volume_stats_capacity_bytes${claims} < ${t.minFreeDiskPercent}`,
      for: "5m",
      severity: "warning",
      summary: "Kafka data volume {{ $labels.persistentvolumeclaim }} is filling up",
      description: `{{ $value | printf "%.1f" }}% free (bound ${t.minFreeDiskPercent}%): when it is full the broker stops.`,
    });
  }
  return alerts;
}

export function rolloutAlerts(rollouts: NonNullable<ObservabilityContext["rollouts"]>, t: Thresholds["rollouts"]): AlertSpec[] {
  const { namespace, rolloutName } = rollouts;
  const info = (phase: string) => `rollout_info${selector({ job: JOBS.rollouts, namespace, name: rolloutName, phase })}`;
  const inconclusive = `analysis_run_info${selector({ job: JOBS.rollouts, namespace, name: `~${escapeRegex(rolloutName)}-.*`, phase: "Inconclusive" })}`;
  return [
    {
      alert: "CanaryRolloutAborted",
      expr: `max by (namespace, name) (${info("Abort")}) == 1`,
      for: "1m",
      severity: "warning",
      summary: "The canary of {{ $labels.name }} was aborted",
      description:
        "The Rollout {{ $labels.namespace }}/{{ $labels.name }} aborted its canary (an analysis failed, or someone aborted it): traffic is back on stable and the new version is not shipped.",
    },
    {
      alert: "CanaryPausedInconclusive",
      expr: `max by (namespace, name) (${info("Paused")}) == 1 and on (namespace) (max by (namespace) (${inconclusive}) == 1)`,
      for: t.pausedInconclusiveFor,
      severity: "warning",
      summary: "The canary of {{ $labels.name }} is paused on an Inconclusive analysis",
      description: `The Rollout {{ $labels.namespace }}/{{ $labels.name }} has been paused for ${t.pausedInconclusiveFor} with an Inconclusive analysis run: it waits for someone to promote or abort it.`,
    },
  ];
}

export function chaosAlerts(chaos: NonNullable<ObservabilityContext["chaos"]>, t: Thresholds["chaos"]): AlertSpec[] {
  const sel = selector({ chaosresult_namespace: chaos.namespace });
  const by = "by (chaosresult_namespace, chaosresult_name, chaosengine_name)";
  return [
    {
      alert: "ChaosExperimentFailed",
      // failed_experiments counts a ChaosResult's failed runs; the verdict gauge catches a result's
      // first run (a new series has no delta) and is reset to 0 by the exporter once exported.
      expr: `max ${by} (delta(litmuschaos_failed_experiments${sel}[${t.failWindow}])) > 0 or max ${by} (max_over_time(litmuschaos_experiment_verdict{chaosresult_namespace="${chaos.namespace}", chaosresult_verdict="Fail"}[${t.failWindow}])) == 1`,
      severity: "warning",
      summary: "Chaos experiment {{ $labels.chaosresult_name }} failed its hypothesis",
      description: `The ChaosResult {{ $labels.chaosresult_namespace }}/{{ $labels.chaosresult_name }} turned Fail within ${t.failWindow}: the platform did not recover as the scenario expects.`,
    },
  ];
}

/** Every alert group the stack declares, in one PrometheusRule each. */
export function ruleGroups(o: ObservabilityConfig, ctx: ObservabilityContext): RuleGroup[] {
  const t = o.thresholds;
  const groups: { name: string; alerts: AlertSpec[] }[] = [
    ...(ctx.operator ? [{ name: "streamforge-self-healing", alerts: operatorAlerts(ctx.operator.namespace, t.operator) }] : []),
    { name: "streamforge-kafka", alerts: kafkaAlerts(ctx.kafka, t.kafka) },
    ...(ctx.rollouts ? [{ name: "streamforge-canary", alerts: rolloutAlerts(ctx.rollouts, t.rollouts) }] : []),
    ...(ctx.chaos ? [{ name: "streamforge-chaos", alerts: chaosAlerts(ctx.chaos, t.chaos) }] : []),
  ];
  return groups.filter((g) => g.alerts.length > 0).map((g) => ({ name: g.name, rules: g.alerts.map((a) => rule(a, o.runbookUrl)) }));
}

export function prometheusRules(o: ObservabilityConfig, ctx: ObservabilityContext) {
  return ruleGroups(o, ctx).map((group) => ({
    apiVersion: MONITORING_API_VERSION,
    kind: "PrometheusRule" as const,
    metadata: { name: group.name, namespace: ctx.namespace, labels: { ...PART_OF, ...o.selectorLabels } },
    spec: { groups: [group] },
  }));
}

// ---- Scrape targets --------------------------------------------------------------------------

/** Sets `job`, so every target is selected by the same name everywhere. */
const jobRelabel = (job: string) => ({ targetLabel: "job", replacement: job, action: "replace" as const });

function podMonitor(
  o: ObservabilityConfig,
  name: string,
  namespace: string,
  matchLabels: Record<string, string>,
  endpoint: { port: string; job: string; relabelings?: object[] },
  podTargetLabels: string[] = [],
) {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: "PodMonitor" as const,
    metadata: { name, namespace, labels: { ...PART_OF, ...o.selectorLabels } },
    spec: {
      selector: { matchLabels },
      ...(podTargetLabels.length > 0 ? { podTargetLabels } : {}),
      podMetricsEndpoints: [
        {
          port: endpoint.port,
          path: "/metrics",
          interval: "30s",
          relabelings: [jobRelabel(endpoint.job), ...(endpoint.relabelings ?? [])],
        },
      ],
    },
  };
}

/**
 * The PodMonitors of the operator, the brokers' JMX exporter, Strimzi's Kafka Exporter and the
 * Argo Rollouts controller. queue-manager's PodMonitor (with `rollouts-pod-template-hash`) is
 * the rollouts area's (rollouts/spec.ts podMonitor), next to the analysis that reads it.
 */
export function podMonitors(o: ObservabilityConfig, ctx: ObservabilityContext) {
  const { kafka } = ctx;
  const strimzi = (name: string) => ({ "strimzi.io/cluster": kafka.clusterName, "strimzi.io/name": name });
  return [
    ...(ctx.operator
      ? [
          podMonitor(
            o,
            OPERATOR_NAME,
            ctx.operator.namespace,
            { "app.kubernetes.io/name": OPERATOR_NAME },
            { port: "metrics", job: JOBS.operator },
          ),
        ]
      : []),
    ...(kafka.jmxExporter
      ? [
          podMonitor(o, `${kafka.clusterName}-kafka`, kafka.namespace, strimzi(`${kafka.clusterName}-kafka`), {
            port: STRIMZI_METRICS_PORT_NAME,
            job: JOBS.kafka,
            relabelings: [
              // The node pool and roles, as Strimzi's example PodMonitor keeps them.
              { action: "labelmap" as const, regex: "__meta_kubernetes_pod_label_(strimzi_io_.+)", replacement: "$1" },
              { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node_name", action: "replace" as const },
            ],
          }),
        ]
      : []),
    ...(kafka.kafkaExporter
      ? [
          podMonitor(o, `${kafka.clusterName}-kafka-exporter`, kafka.namespace, strimzi(`${kafka.clusterName}-kafka-exporter`), {
            port: STRIMZI_METRICS_PORT_NAME,
            job: JOBS.kafkaExporter,
          }),
        ]
      : []),
    ...(ctx.rollouts
      ? [
          podMonitor(o, "argo-rollouts", ctx.rollouts.controllerNamespace, ARGO_ROLLOUTS_CONTROLLER_POD_LABELS, {
            port: ARGO_ROLLOUTS_METRICS_PORT_NAME,
            job: JOBS.rollouts,
          }),
        ]
      : []),
  ];
}
