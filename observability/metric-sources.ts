/**
 * What the platform's exporters really export, for the cross-check of every metric name a rule,
 * a dashboard panel or the canary analysis reads (observability/test/metric-names.test.ts).
 *
 * Ours are derived from the code that exports them: the operator's registry and the JMX exporter
 * config the stack renders (applied to Kafka's MBeans as the exporter applies its rules).
 * Upstream exporters we do not build are listed from their source, with where from.
 */
import { parse as parseYaml } from "yaml";

/** One exported series: its name and the labels its rule sets. */
export interface JmxSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface JmxRule {
  readonly pattern: string;
  readonly name?: string;
  readonly type?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The JMX exporter's rule engine, for the rules this program renders: each rule's pattern is
 * matched anywhere in `domain<key=value, ...><>attribute: value` (the exporter wraps it in
 * `^.*(?:...).*$`), the first match wins, `$n` fills the name and the label names and values;
 * the name is lower-cased (lowercaseOutputName) and made safe (invalid characters to `_`, runs
 * of `_` collapsed). Counters carry `_total` (client_java 1.x, JMX exporter 1.x). Undefined when
 * no rule matches, or the first match has no name (the exporter's default naming, unused here).
 */
export function jmxExport(config: string, bean: string, value = "1"): JmxSeries | undefined {
  const cfg = parseYaml(config) as { lowercaseOutputName?: boolean; rules: JmxRule[] };
  for (const rule of cfg.rules) {
    const m = new RegExp(`^.*(?:${rule.pattern}).*$`).exec(`${bean}: ${value}`);
    if (!m) continue;
    if (rule.name === undefined) return undefined;
    const fill = (template: string) => template.replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? "");
    const safe = (text: string) => text.replace(/[^a-zA-Z0-9:_]/g, "_").replace(/__+/g, "_");
    let name = fill(rule.name);
    if (cfg.lowercaseOutputName) name = name.toLowerCase();
    name = safe(name);
    if (rule.type === "COUNTER" && !name.endsWith("_total")) name += "_total";
    const labels = Object.fromEntries(Object.entries(rule.labels ?? {}).map(([k, v]) => [safe(fill(k)), fill(v)]));
    return { name, labels };
  }
  return undefined;
}

/** The names `beans` come out as through `config`, each with one bean that gives it. */
export function jmxExportedNames(config: string, beans: readonly string[]): Map<string, string> {
  const exported = new Map<string, string>();
  for (const bean of beans) {
    const series = jmxExport(config, bean);
    if (series) exported.set(series.name, bean);
  }
  return exported;
}

/**
 * Kafka 4.x MBeans (Kafka's monitoring docs) that the dashboards and alerts are about, as the
 * JMX exporter formats them. A name the rules read must come out of these through the rendered config.
 */
export const KAFKA_MBEANS = [
  "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value",
  "kafka.server<type=ReplicaManager, name=UnderMinIsrPartitionCount><>Value",
  "kafka.server<type=ReplicaManager, name=AtMinIsrPartitionCount><>Value",
  "kafka.server<type=ReplicaManager, name=PartitionCount><>Value",
  "kafka.server<type=ReplicaManager, name=LeaderCount><>Value",
  "kafka.server<type=ReplicaManager, name=OfflineReplicaCount><>Value",
  "kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count",
  "kafka.server<type=ReplicaManager, name=IsrExpandsPerSec><>Count",
  "kafka.server<type=KafkaServer, name=BrokerState><>Value",
  "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count",
  "kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec><>Count",
  "kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec><>Count",
  "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=queue-events><>Count",
  "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value",
  "kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value",
  "kafka.controller<type=KafkaController, name=GlobalPartitionCount><>Value",
  "kafka.controller<type=KafkaController, name=ActiveBrokerCount><>Value",
  "kafka.controller<type=KafkaController, name=FencedBrokerCount><>Value",
  "kafka.log<type=Log, name=Size, topic=queue-events, partition=0><>Value",
  "kafka.log<type=LogManager, name=OfflineLogDirectoryCount><>Value",
] as const;

/** Strimzi's Kafka Exporter (danielqsj/kafka_exporter, kafka_exporter.go): what it exports. */
export const KAFKA_EXPORTER_METRICS = [
  "kafka_brokers",
  "kafka_broker_info",
  "kafka_topic_partitions",
  "kafka_topic_partition_current_offset",
  "kafka_topic_partition_oldest_offset",
  "kafka_topic_partition_in_sync_replica",
  "kafka_topic_partition_leader",
  "kafka_topic_partition_leader_is_preferred",
  "kafka_topic_partition_replicas",
  "kafka_topic_partition_under_replicated_partition",
  "kafka_consumergroup_current_offset",
  "kafka_consumergroup_current_offset_sum",
  "kafka_consumergroup_lag",
  "kafka_consumergroup_lag_sum",
  "kafka_consumergroup_members",
] as const;

/** The Argo Rollouts controller v1.10.2 (controller/metrics/prommetrics.go), histograms expanded. */
export const ARGO_ROLLOUTS_METRICS = [
  ...["rollout_reconcile", "analysis_run_reconcile", "experiment_reconcile", "notification_send"].flatMap((h) => [
    `${h}_bucket`,
    `${h}_sum`,
    `${h}_count`,
  ]),
  "rollout_reconcile_error",
  "rollout_info",
  "rollout_info_replicas_available",
  "rollout_info_replicas_unavailable",
  "rollout_info_replicas_desired",
  "rollout_info_replicas_updated",
  "rollout_events_total",
  "rollout_phase",
  "analysis_run_reconcile_error",
  "analysis_run_info",
  "analysis_run_phase",
  "analysis_run_metric_type",
  "analysis_run_metric_phase",
  "analysis_template_info",
  "analysis_template_metric_info",
  "experiment_reconcile_error",
  "experiment_info",
  "experiment_phase",
  "notification_send_success",
  "notification_send_error",
  "controller_clientset_k8s_request_total",
  "argo_rollouts_controller_info",
] as const;

/** Litmus chaos-exporter (litmuschaos/chaos-exporter controller/types.go, 2024-11): per-ChaosResult gauges. */
export const LITMUS_EXPORTER_METRICS = [
  "litmuschaos_passed_experiments",
  "litmuschaos_failed_experiments",
  "litmuschaos_awaited_experiments",
  "litmuschaos_probe_success_percentage",
  "litmuschaos_experiment_verdict",
  "litmuschaos_experiment_start_time",
  "litmuschaos_experiment_end_time",
  "litmuschaos_experiment_chaos_injected_time",
  "litmuschaos_experiment_total_duration",
] as const;

/** The kubelet's volume stats (scraped by kube-prometheus-stack's kubelet ServiceMonitor, not by this program). */
export const KUBELET_METRICS = ["kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"] as const;

/** What Prometheus itself writes for every target. */
export const PROMETHEUS_SYNTHETIC = ["up"] as const;
