/**
 * Grafana dashboards as typed JSON built by small functions (see README.md for why not an SDK):
 * the self-healing operator, Kafka, and queue-manager's canary. Each ships as a ConfigMap with
 * the label the Grafana sidecar watches. Pure: config in, objects out.
 */
import type { ObservabilityConfig } from "./config";
import { JOBS, type ObservabilityContext, kafkaSelectors } from "./spec";
import { selector } from "./promql";

export interface Target {
  readonly expr: string;
  readonly legendFormat: string;
  readonly refId: string;
}

/** The datasource every panel reads: the dashboard's `datasource` variable. */
const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

export interface Panel {
  readonly id: number;
  readonly type: "timeseries" | "stat";
  readonly title: string;
  readonly description: string;
  readonly datasource: typeof DATASOURCE;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly fieldConfig: { readonly defaults: { readonly unit: string }; readonly overrides: readonly never[] };
  readonly targets: readonly Target[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly timezone: "browser";
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: { readonly list: readonly object[] };
  readonly panels: readonly Panel[];
}

/** A panel before layout: what it shows and how. */
interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit?: string;
  readonly type?: Panel["type"];
  readonly queries: readonly (readonly [expr: string, legend: string])[];
}

const ROW_HEIGHT = 8;

/** Lays out rows of panels on Grafana's 24-column grid, each row's panels of equal width. */
export function dashboard(uid: string, title: string, rows: readonly (readonly PanelSpec[])[]): Dashboard {
  let id = 0;
  const panels = rows.flatMap((row, r) => {
    const w = Math.floor(24 / row.length);
    return row.map((p, i): Panel => {
      id += 1;
      return {
        id,
        type: p.type ?? "timeseries",
        title: p.title,
        description: p.description,
        datasource: DATASOURCE,
        gridPos: { x: i * w, y: r * ROW_HEIGHT, w, h: ROW_HEIGHT },
        fieldConfig: { defaults: { unit: p.unit ?? "short" }, overrides: [] },
        targets: p.queries.map(([expr, legendFormat], q) => ({ expr, legendFormat, refId: String.fromCharCode(65 + q) })),
      };
    });
  });
  return {
    uid,
    title,
    tags: ["streamforge"],
    schemaVersion: 39,
    timezone: "browser",
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" }] },
    panels,
  };
}

export function operatorDashboard(namespace: string): Dashboard {
  const sel = selector({ job: JOBS.operator, namespace });
  const leader = `(streamforge_operator_leader${sel} == 1)`;
  const q = (p: string) => `histogram_quantile(${p}, sum by (le) (rate(streamforge_operator_decision_seconds_bucket${sel}[5m])))`;
  return dashboard("streamforge-self-healing", "StreamForge / Self-healing operator", [
    [
      {
        title: "Events by kind",
        description: "queue-events messages applied to state, per second.",
        unit: "ops",
        queries: [[`sum by (kind) (rate(streamforge_operator_events_total${sel}[5m]))`, "{{kind}}"]],
      },
      {
        title: "Rejected messages by reason",
        description: "Messages that were not usable events.",
        unit: "ops",
        queries: [[`sum by (reason) (rate(streamforge_operator_event_rejections_total${sel}[5m]))`, "{{reason}}"]],
      },
      {
        title: "Tracked Jobs and queues",
        description: "Managed Jobs in the watched namespace, and queues with event state (the leader's view).",
        queries: [
          [`max(streamforge_operator_tracked_jobs${sel} and on (instance) ${leader})`, "jobs"],
          [`max(streamforge_operator_tracked_queues${sel} and on (instance) ${leader})`, "queues"],
        ],
      },
    ],
    [
      {
        title: "Verdicts",
        description: "Jobs found stuck or faulty, per hour.",
        queries: [[`sum by (verdict) (increase(streamforge_operator_detections_total${sel}[1h]))`, "{{verdict}}"]],
      },
      {
        title: "Relaunches by reason",
        description: "Relaunches in the last hour, by reason and result.",
        queries: [[`sum by (reason, result) (increase(streamforge_operator_relaunches_total${sel}[1h]))`, "{{reason}} {{result}}"]],
      },
      {
        title: "Held, given up, failed",
        description: "Relaunches held back (by why), queues given up on and refused actions, per hour.",
        queries: [
          [`sum by (why) (increase(streamforge_operator_relaunches_held_total${sel}[1h]))`, "held: {{why}}"],
          [`sum by (reason) (increase(streamforge_operator_give_ups_total${sel}[1h]))`, "gave up: {{reason}}"],
          [`sum by (kind) (increase(streamforge_operator_action_failures_total${sel}[1h]))`, "failed: {{kind}}"],
        ],
      },
    ],
    [
      {
        title: "Decision latency",
        description: "Time to decide over all tracked Jobs.",
        unit: "s",
        queries: [
          [q("0.5"), "p50"],
          [q("0.99"), "p99"],
        ],
      },
      {
        title: "Consumer lag on queue-events",
        description: "Messages the leader is behind the end of queue-events.",
        queries: [[`max(streamforge_operator_consumer_lag${sel} and on (instance) ${leader})`, "lag"]],
      },
      {
        title: "Leader and event source",
        description: "Replicas up, replicas holding the Lease (1 expected), and the leader's event source health (1 healthy).",
        queries: [
          [`sum(up${sel})`, "replicas up"],
          [`sum(streamforge_operator_leader${sel})`, "leaders"],
          [`max(streamforge_operator_event_source_healthy${sel} and on (instance) ${leader})`, "source healthy"],
        ],
      },
    ],
  ]);
}

export function kafkaDashboard(kafka: ObservabilityContext["kafka"]): Dashboard {
  const { brokers, brokerTotals, controllers, groups, claims } = kafkaSelectors(kafka);
  const rows: PanelSpec[][] = [];
  if (kafka.jmxExporter)
    rows.push(
      [
        {
          title: "Messages in",
          description: "Messages produced to each broker, per second (its all-topics meter).",
          unit: "ops",
          queries: [[`sum by (pod) (rate(kafka_server_brokertopicmetrics_messagesin_total${brokerTotals}[5m]))`, "{{pod}}"]],
        },
        {
          title: "Bytes in and out",
          description: "Bytes produced to and fetched from each broker, per second (its all-topics meters).",
          unit: "Bps",
          queries: [
            [`sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesin_total${brokerTotals}[5m]))`, "in {{pod}}"],
            [`sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesout_total${brokerTotals}[5m]))`, "out {{pod}}"],
          ],
        },
        {
          title: "Brokers running and active controllers",
          description: "Brokers in state RUNNING (3), and active KRaft controllers (1 expected).",
          queries: [
            [`count(kafka_server_kafkaserver_brokerstate${brokers} == 3)`, "brokers running"],
            [`sum(kafka_controller_kafkacontroller_activecontrollercount${controllers})`, "active controllers"],
          ],
        },
      ],
      [
        {
          title: "Partitions and leaders",
          description: "Partitions and partition leaders on each broker.",
          queries: [
            [`sum by (pod) (kafka_server_replicamanager_partitioncount${brokers})`, "partitions {{pod}}"],
            [`sum by (pod) (kafka_server_replicamanager_leadercount${brokers})`, "leaders {{pod}}"],
          ],
        },
        {
          title: "ISR health",
          description: "Under-replicated, under-min-ISR and offline partitions, and log directories a broker took offline (disk errors).",
          queries: [
            [`sum(kafka_server_replicamanager_underreplicatedpartitions${brokers})`, "under-replicated"],
            [`sum(kafka_server_replicamanager_underminisrpartitioncount${brokers})`, "under min ISR"],
            [`sum(kafka_controller_kafkacontroller_offlinepartitionscount${controllers})`, "offline"],
            [`sum(kafka_log_logmanager_offlinelogdirectorycount${brokers})`, "offline log dirs"],
          ],
        },
        {
          title: "ISR shrinks and expands",
          description: "ISR changes per second: a steady rate means a flapping follower.",
          unit: "ops",
          queries: [
            [`sum by (pod) (rate(kafka_server_replicamanager_isrshrinks_total${brokers}[5m]))`, "shrinks {{pod}}"],
            [`sum by (pod) (rate(kafka_server_replicamanager_isrexpands_total${brokers}[5m]))`, "expands {{pod}}"],
          ],
        },
      ],
    );
  const bottom: PanelSpec[] = [];
  if (kafka.kafkaExporter && kafka.consumerGroups.length > 0) {
    bottom.push({
      title: "Consumer lag by group",
      description: "Messages StreamForge's consumer groups are behind, by topic (Kafka Exporter).",
      queries: [[`sum by (consumergroup, topic) (kafka_consumergroup_lag${groups})`, "{{consumergroup}} {{topic}}"]],
    });
  }
  if (kafka.jmxExporter)
    bottom.push({
      title: "Log size",
      description: "Bytes of partition logs on each broker.",
      unit: "bytes",
      queries: [[`sum by (pod) (kafka_log_log_size${brokers})`, "{{pod}}"]],
    });
  if (kafka.persistentBrokerPools.length > 0) {
    bottom.push({
      title: "Data volume free",
      description: "Free space of each broker's data volumes (kubelet).",
      unit: "percent",
      queries: [
        [`100 * kubelet_volume_stats_available_bytes${claims} / kubelet_volume_stats_capacity_bytes${claims}`, "{{persistentvolumeclaim}}"],
      ],
    });
  }
  if (bottom.length > 0) rows.push(bottom);
  return dashboard("streamforge-kafka", `StreamForge / Kafka ${kafka.clusterName}`, rows);
}

export function canaryDashboard(rollouts: NonNullable<ObservabilityContext["rollouts"]>): Dashboard {
  const { namespace, rolloutName, metrics } = rollouts;
  const hash = "rollouts_pod_template_hash";
  const qm = (extra: Record<string, string> = {}) => selector({ namespace, [hash]: "~.+", ...extra });
  const requests = (extra: Record<string, string> = {}) => `sum by (${hash}) (rate(${metrics.requestsTotal}${qm(extra)}[5m]))`;
  const p95 = `histogram_quantile(0.95, sum by (${hash}, le) (rate(${metrics.durationBucket}${qm()}[5m])))`;
  const rollout = selector({ job: JOBS.rollouts, namespace, name: rolloutName });
  const runs = selector({ job: JOBS.rollouts, namespace, name: `~${rolloutName}-.*` });
  return dashboard("streamforge-canary", `StreamForge / ${rolloutName} canary`, [
    [
      {
        title: "Success rate by pod-template hash",
        description: "Share of requests without a server error; the canary and stable are the two hashes during a rollout.",
        unit: "percentunit",
        queries: [
          [
            // No 5xx at all is no series: count it as 0 errors rather than no data.
            `1 - (${requests({ [metrics.statusLabel]: `~${metrics.serverErrorStatus}` })} or 0 * ${requests()}) / ${requests()}`,
            "{{" + hash + "}}",
          ],
        ],
      },
      {
        title: "p95 latency by pod-template hash",
        description: "95th percentile request duration, canary vs stable.",
        unit: "s",
        queries: [[p95, "{{" + hash + "}}"]],
      },
      {
        title: "Requests by pod-template hash",
        description: "Requests per second: the canary's share follows the step weights.",
        unit: "reqps",
        queries: [[requests(), "{{" + hash + "}}"]],
      },
    ],
    [
      {
        title: "Rollout phase",
        description: "The Rollout's phase as the controller reports it (Completed, Progressing, Paused, Abort, ...).",
        type: "stat",
        queries: [[`max by (phase) (rollout_info${rollout}) == 1`, "{{phase}}"]],
      },
      {
        title: "Analysis runs by phase",
        description: "The canary's AnalysisRuns by phase (Successful, Failed, Inconclusive, ...).",
        queries: [[`count by (phase) (analysis_run_info${runs})`, "{{phase}}"]],
      },
      {
        title: "Analysis metric verdicts",
        description: "Each analysis metric's latest phase.",
        queries: [[`count by (metric, phase) (analysis_run_metric_phase${runs} == 1)`, "{{metric}} {{phase}}"]],
      },
    ],
  ]);
}

export function dashboards(ctx: ObservabilityContext): Dashboard[] {
  return [
    ...(ctx.operator ? [operatorDashboard(ctx.operator.namespace)] : []),
    kafkaDashboard(ctx.kafka),
    ...(ctx.rollouts ? [canaryDashboard(ctx.rollouts)] : []),
  ];
}

/** Each dashboard as a ConfigMap the Grafana sidecar picks up by its label. */
export function dashboardConfigMaps(o: ObservabilityConfig, ctx: ObservabilityContext) {
  if (!o.dashboards.enabled) return [];
  return dashboards(ctx).map((d) => ({
    apiVersion: "v1" as const,
    kind: "ConfigMap" as const,
    metadata: {
      name: `${d.uid}-dashboard`,
      namespace: ctx.namespace,
      labels: { "app.kubernetes.io/part-of": "streamforge", "app.kubernetes.io/component": "observability", ...o.dashboards.labels },
      annotations: { grafana_folder: o.dashboards.folder },
    },
    data: { [`${d.uid}.json`]: JSON.stringify(d, null, 2) },
  }));
}
