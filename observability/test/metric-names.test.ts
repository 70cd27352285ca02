/**
 * The cross-check: every metric name a rule, a dashboard panel or the canary analysis reads is
 * one that the operator, the JMX exporter config the stack renders, queue-manager's configured
 * names, or a listed upstream exporter really exports. An unknown name fails with where it is used.
 */
import { createMetrics } from "../../operator/src/metrics";
import { JMX_EXPORTER_CONFIG } from "../../infra/kafka/cluster-spec";
import { knownStacks, parseCommittedStack, renderStack } from "../../infra/render/render";
import { analysisTemplates } from "../../rollouts/spec";
import { dashboards } from "../dashboards";
import {
  ARGO_ROLLOUTS_METRICS,
  KAFKA_EXPORTER_METRICS,
  KAFKA_MBEANS,
  KUBELET_METRICS,
  LITMUS_EXPORTER_METRICS,
  PROMETHEUS_SYNTHETIC,
  jmxExport,
  jmxExportedNames,
} from "../metric-sources";
import { metricNames } from "../promql";
import { ruleGroups } from "../spec";
import { CONTEXT, testConfig } from "./fixture";

/** The operator's registry as it is built at start, histograms and summaries expanded. */
async function operatorNames(): Promise<string[]> {
  const metrics = createMetrics();
  const json = await metrics.registry.getMetricsAsJSON();
  metrics.registry.clear();
  return json.flatMap((m) => {
    const type = String(m.type);
    return type === "histogram"
      ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
      : type === "summary"
        ? [`${m.name}_sum`, `${m.name}_count`]
        : [m.name];
  });
}

const jmx = jmxExportedNames(JMX_EXPORTER_CONFIG, KAFKA_MBEANS);
let known: Set<string>;
beforeAll(async () => {
  known = new Set([
    ...(await operatorNames()),
    ...jmx.keys(),
    ...KAFKA_EXPORTER_METRICS,
    ...ARGO_ROLLOUTS_METRICS,
    ...LITMUS_EXPORTER_METRICS,
    ...KUBELET_METRICS,
    ...PROMETHEUS_SYNTHETIC,
  ]);
});

interface Use {
  readonly where: string;
  readonly expr: string;
}

function ruleUses(groups: ReturnType<typeof ruleGroups>, where: string): Use[] {
  return groups.flatMap((g) => g.rules.map((r) => ({ where: `${where} alert ${r.alert}`, expr: r.expr })));
}

function dashboardUses(ds: ReturnType<typeof dashboards>, where: string): Use[] {
  return ds.flatMap((d) =>
    d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${where} dashboard ${d.uid} panel "${p.title}"`, expr: t.expr }))),
  );
}

/** Uses whose metrics are neither known nor in `extra` (queue-manager's configured names). */
function unknown(uses: readonly Use[], extra: readonly string[] = []): string[] {
  const allowed = new Set([...known, ...extra]);
  return uses.flatMap((u) => metricNames(u.expr).flatMap((name) => (allowed.has(name) ? [] : [`${u.where}: ${name}`])));
}

describe("metric names a query reads", () => {
  it("are found in PromQL, without functions, keywords, labels or durations", () => {
    expect(
      metricNames(
        'sum by (reason) (increase(a_total{job="x", le=~"1|2"}[1h] offset 5m)) / on (instance) group_left max without (pod) (b) > bool 3 or vector(0) and histogram_quantile(0.95, c_bucket)',
      ),
    ).toEqual(["a_total", "b", "c_bucket"]);
    expect(metricNames('absent(up{job="a"} == 1)')).toEqual(["up"]);
  });
});

describe("the rendered JMX exporter config", () => {
  const series = (bean: string) => jmxExport(JMX_EXPORTER_CONFIG, bean);

  it("exports the broker metrics the rules and dashboards read, under Strimzi's names", () => {
    expect([...jmx.keys()]).toEqual(
      expect.arrayContaining([
        "kafka_server_replicamanager_underreplicatedpartitions",
        "kafka_server_replicamanager_underminisrpartitioncount",
        "kafka_controller_kafkacontroller_activecontrollercount",
        "kafka_controller_kafkacontroller_offlinepartitionscount",
        "kafka_server_kafkaserver_brokerstate",
        "kafka_server_brokertopicmetrics_messagesin_total",
        "kafka_server_replicamanager_isrshrinks_total",
        "kafka_log_log_size",
        "kafka_log_logmanager_offlinelogdirectorycount",
      ]),
    );
  });

  it("puts the topic (and partition) in labels, not in the name: specific rules come before the generic ones", () => {
    expect(series("kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=queue-events><>Count")).toEqual({
      name: "kafka_server_brokertopicmetrics_messagesin_total",
      labels: { topic: "queue-events" },
    });
    expect(series("kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count")).toEqual({
      name: "kafka_server_brokertopicmetrics_messagesin_total",
      labels: {},
    });
    expect(series("kafka.log<type=Log, name=Size, topic=queue-events, partition=2><>Value")).toEqual({
      name: "kafka_log_log_size",
      labels: { topic: "queue-events", partition: "2" },
    });
    expect(series("kafka.log<type=LogManager, name=OfflineLogDirectoryCount><>Value")).toEqual({
      name: "kafka_log_logmanager_offlinelogdirectorycount",
      labels: {},
    });
    // What the generic rule made of per-topic meters when it came first.
    const names = [...jmxExportedNames(JMX_EXPORTER_CONFIG, KAFKA_MBEANS).keys()];
    expect(names.filter((n) => /_topic_|persec/.test(n))).toEqual([]);
  });
});

describe("every metric name used is exported", () => {
  it("by the test platform's rules and dashboards", () => {
    const o = testConfig();
    const uses = [...ruleUses(ruleGroups(o, CONTEXT), "test"), ...dashboardUses(dashboards(CONTEXT), "test")];
    const qm = CONTEXT.rollouts!.metrics;
    expect(uses.length).toBeGreaterThan(40);
    expect(unknown(uses, [qm.requestsTotal, qm.durationBucket])).toEqual([]);
  });

  it.each(knownStacks())("by stack %s: rules, dashboards and the canary analysis", async (stack) => {
    const config = parseCommittedStack(stack);
    const result = await renderStack(stack);
    const rules = result.manifests
      .filter((m) => m.kind === "PrometheusRule")
      .flatMap((m) =>
        ruleUses((m as unknown as { spec: { groups: ReturnType<typeof ruleGroups> } }).spec.groups, `${stack} ${m.metadata.name}`),
      );
    const panels = result.manifests
      .filter((m) => m.kind === "ConfigMap" && m.metadata.name.endsWith("-dashboard"))
      .flatMap((m) =>
        Object.values((m as unknown as { data: Record<string, string> }).data).flatMap((json) => dashboardUses([JSON.parse(json)], stack)),
      );
    const analysis = config.rollouts?.enabled
      ? analysisTemplates(config.rollouts.analysis, config.apps.namespace).flatMap((t) =>
          t.spec.metrics.map((m) => ({
            where: `${stack} AnalysisTemplate ${t.metadata.name}`,
            expr: (m as { provider: { prometheus: { query: string } } }).provider.prometheus.query,
          })),
        )
      : [];
    const qm = config.rollouts?.analysis.metrics;
    expect(config.observability.enabled ? rules.length : 1).toBeGreaterThan(0);
    expect(unknown([...rules, ...panels, ...analysis], qm ? [qm.requestsTotal, qm.durationBucket] : [])).toEqual([]);
  });

  it("fails on a name no exporter has", () => {
    expect(unknown([{ where: "x", expr: "sum(kafka_server_replicamanager_underreplicatedpartition)" }])).toEqual([
      "x: kafka_server_replicamanager_underreplicatedpartition",
    ]);
  });
});
