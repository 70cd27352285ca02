/**
 * The alerts under Prometheus's own rule engine: every rule group passes `promtool check rules`,
 * and every alert has a `promtool test rules` unit test: synthetic series in, the alert with its
 * labels and expanded annotations out, and a case that must not fire.
 *
 * promtool comes with the local platform's Prometheus (Debian's package, cached by
 * `local/prometheus.sh promtool`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { knownStacks, renderStack } from "../../infra/render/render";
import { type AlertRule, ruleGroups } from "../spec";
import { CONTEXT, RUNBOOK, testConfig } from "./fixture";

const ROOT = path.resolve(__dirname, "..", "..");
const promtool = execFileSync("bash", [path.join(ROOT, "local/prometheus.sh"), "promtool"], { encoding: "utf8" }).trim();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-rules-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { code: number; output: string } {
  const r = spawnSync(promtool, args, { encoding: "utf8", cwd: dir });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const groups = ruleGroups(testConfig(), CONTEXT);
const rules = new Map<string, AlertRule>(groups.flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));
const rulesFile = path.join(dir, "rules.yml");
fs.writeFileSync(rulesFile, stringify({ groups }));

/** Annotations of `alert` with its template placeholders filled in as Prometheus would. */
function annotations(alert: string, fill: Record<string, string> = {}): Record<string, string> {
  const rule = rules.get(alert);
  if (!rule) throw new Error(`no alert ${alert}`);
  const expand = (text: string) => Object.entries(fill).reduce((t, [k, v]) => t.split(k).join(v), text);
  return {
    summary: expand(rule.annotations.summary),
    description: expand(rule.annotations.description),
    runbook_url: `${RUNBOOK}#${alert.toLowerCase()}`,
  };
}

interface Case {
  readonly alert: string;
  readonly evalTime: string;
  /** Series in promtool's notation: `metric{labels}` -> `values`. */
  readonly fires: Record<string, string>;
  readonly labels: Record<string, string>;
  /** Placeholders of the annotations and what Prometheus expands them to. */
  readonly fill?: Record<string, string>;
  /** Series under which the alert must stay silent. */
  readonly silent: Record<string, string>;
}

const OP = 'job="self-healing-operator", namespace="stf"';
const KAFKA = 'job="kafka", namespace="kafka"';
const ROLLOUTS = 'job="argo-rollouts", namespace="stf"';
const page = { severity: "critical", team: "streamforge" };
const warn = { severity: "warning", team: "streamforge" };

const CASES: Case[] = [
  {
    alert: "SelfHealingOperatorDown",
    evalTime: "10m",
    fires: { [`up{${OP}, instance="a"}`]: "0x15", [`up{${OP}, instance="b"}`]: "0x15" },
    labels: page,
    silent: { [`up{${OP}, instance="a"}`]: "0x15", [`up{${OP}, instance="b"}`]: "1x15" },
  },
  {
    alert: "SelfHealingOperatorNoLeader",
    evalTime: "10m",
    fires: { [`streamforge_operator_leader{${OP}, instance="a"}`]: "0x15", [`streamforge_operator_leader{${OP}, instance="b"}`]: "0x15" },
    labels: page,
    silent: { [`streamforge_operator_leader{${OP}, instance="a"}`]: "0x15", [`streamforge_operator_leader{${OP}, instance="b"}`]: "1x15" },
  },
  {
    alert: "SelfHealingRelaunchLoop",
    evalTime: "80m",
    // One relaunch a minute: 60 an hour.
    fires: { [`streamforge_operator_relaunches_total{${OP}, instance="a", reason="stuck", result="created"}`]: "0+1x90" },
    labels: { ...page, reason: "stuck" },
    fill: { '{{ $value | printf "%.0f" }}': "60", "{{ $labels.reason }}": "stuck" },
    // One every ten minutes: 6 an hour, under the bound of 12.
    silent: { [`streamforge_operator_relaunches_total{${OP}, instance="a", reason="stuck", result="created"}`]: "0+0.1x90" },
  },
  {
    alert: "SelfHealingGaveUp",
    evalTime: "5m",
    fires: { [`streamforge_operator_give_ups_total{${OP}, instance="a", reason="budget-spent"}`]: "0 0 0 1 1 1 1" },
    labels: { ...page, reason: "budget-spent" },
    fill: { "{{ $labels.reason }}": "budget-spent" },
    silent: { [`streamforge_operator_give_ups_total{${OP}, instance="a", reason="budget-spent"}`]: "0x10" },
  },
  {
    alert: "SelfHealingEventsRejected",
    evalTime: "25m",
    fires: {
      [`streamforge_operator_event_rejections_total{${OP}, instance="a", reason="malformed-json"}`]: "0+10x30",
      [`streamforge_operator_events_total{${OP}, instance="a", kind="progress"}`]: "0+90x30",
    },
    labels: warn,
    fill: { "{{ $value | humanizePercentage }}": "10%" },
    silent: {
      [`streamforge_operator_event_rejections_total{${OP}, instance="a", reason="malformed-json"}`]: "0+1x30",
      [`streamforge_operator_events_total{${OP}, instance="a", kind="progress"}`]: "0+99x30",
    },
  },
  {
    alert: "SelfHealingConsumerLag",
    evalTime: "15m",
    fires: {
      [`streamforge_operator_consumer_lag{${OP}, instance="a"}`]: "5000x20",
      [`streamforge_operator_leader{${OP}, instance="a"}`]: "1x20",
      [`streamforge_operator_consumer_lag{${OP}, instance="b"}`]: "0x20",
      [`streamforge_operator_leader{${OP}, instance="b"}`]: "0x20",
    },
    labels: warn,
    fill: { "{{ $value }}": "5000" },
    // A follower's stale lag is not the leader's.
    silent: {
      [`streamforge_operator_consumer_lag{${OP}, instance="a"}`]: "10x20",
      [`streamforge_operator_leader{${OP}, instance="a"}`]: "1x20",
      [`streamforge_operator_consumer_lag{${OP}, instance="b"}`]: "5000x20",
      [`streamforge_operator_leader{${OP}, instance="b"}`]: "0x20",
    },
  },
  {
    alert: "SelfHealingEventSourceUnhealthy",
    evalTime: "10m",
    fires: {
      [`streamforge_operator_event_source_healthy{${OP}, instance="a"}`]: "0x15",
      [`streamforge_operator_leader{${OP}, instance="a"}`]: "1x15",
    },
    labels: warn,
    // A follower reads nothing, so its source reports 0: only the leader's counts.
    silent: {
      [`streamforge_operator_event_source_healthy{${OP}, instance="a"}`]: "1x15",
      [`streamforge_operator_leader{${OP}, instance="a"}`]: "1x15",
      [`streamforge_operator_event_source_healthy{${OP}, instance="b"}`]: "0x15",
      [`streamforge_operator_leader{${OP}, instance="b"}`]: "0x15",
    },
  },
  {
    alert: "KafkaOfflinePartitions",
    evalTime: "5m",
    fires: { [`kafka_controller_kafkacontroller_offlinepartitionscount{${KAFKA}, pod="k3-controller-4"}`]: "2x10" },
    labels: page,
    fill: { "{{ $value }}": "2" },
    silent: { [`kafka_controller_kafkacontroller_offlinepartitionscount{${KAFKA}, pod="k3-controller-4"}`]: "0x10" },
  },
  {
    alert: "KafkaUnderReplicatedPartitions",
    evalTime: "10m",
    fires: { [`kafka_server_replicamanager_underreplicatedpartitions{${KAFKA}, pod="k3-broker-1"}`]: "3x15" },
    labels: { ...warn, pod: "k3-broker-1" },
    fill: { "{{ $value }}": "3", "{{ $labels.pod }}": "k3-broker-1" },
    // Only this cluster's broker pools: a pod named as Strimzi's pre-node-pool examples is someone else's.
    silent: {
      [`kafka_server_replicamanager_underreplicatedpartitions{${KAFKA}, pod="k3-broker-1"}`]: "0x15",
      [`kafka_server_replicamanager_underreplicatedpartitions{${KAFKA}, pod="k3-kafka-1"}`]: "3x15",
    },
  },
  {
    alert: "KafkaUnderMinIsrPartitions",
    evalTime: "5m",
    fires: { [`kafka_server_replicamanager_underminisrpartitioncount{${KAFKA}, pod="k3-broker-12"}`]: "1x10" },
    labels: { ...page, pod: "k3-broker-12" },
    fill: { "{{ $value }}": "1", "{{ $labels.pod }}": "k3-broker-12" },
    silent: { [`kafka_server_replicamanager_underminisrpartitioncount{${KAFKA}, pod="k3-broker-12"}`]: "0x10" },
  },
  {
    alert: "KafkaActiveControllerCount",
    evalTime: "5m",
    fires: {
      [`kafka_controller_kafkacontroller_activecontrollercount{${KAFKA}, pod="k3-controller-3"}`]: "0x10",
      [`kafka_controller_kafkacontroller_activecontrollercount{${KAFKA}, pod="k3-controller-4"}`]: "0x10",
    },
    labels: page,
    fill: { "{{ $value }}": "0" },
    silent: {
      [`kafka_controller_kafkacontroller_activecontrollercount{${KAFKA}, pod="k3-controller-3"}`]: "0x10",
      [`kafka_controller_kafkacontroller_activecontrollercount{${KAFKA}, pod="k3-controller-4"}`]: "1x10",
    },
  },
  {
    alert: "KafkaBrokersMissing",
    evalTime: "15m",
    // A lost broker: its series end at 2m (promtool writes no staleness marker, so they count for 5m more).
    fires: {
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-0"}`]: "3x15",
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-1"}`]: "3x15",
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-2"}`]: "3 3 3",
    },
    labels: page,
    fill: { "{{ $value }}": "2" },
    silent: {
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-0"}`]: "3x15",
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-1"}`]: "3x15",
      [`kafka_server_kafkaserver_brokerstate{${KAFKA}, pod="k3-broker-2"}`]: "3x15",
    },
  },
  {
    alert: "KafkaConsumerGroupLag",
    evalTime: "20m",
    fires: {
      'kafka_consumergroup_lag{job="kafka-exporter", namespace="kafka", consumergroup="loader-market", topic="queue-control", partition="0"}':
        "20000x25",
    },
    labels: { ...warn, consumergroup: "loader-market", topic: "queue-control" },
    fill: { "{{ $value }}": "20000", "{{ $labels.consumergroup }}": "loader-market", "{{ $labels.topic }}": "queue-control" },
    // Only StreamForge's groups (the catalogue's): another team's lag is theirs.
    silent: {
      'kafka_consumergroup_lag{job="kafka-exporter", namespace="kafka", consumergroup="analytics", topic="queue-control", partition="0"}':
        "20000x25",
    },
  },
  {
    alert: "KafkaDiskFilling",
    evalTime: "10m",
    fires: {
      'kubelet_volume_stats_available_bytes{namespace="kafka", persistentvolumeclaim="data-0-k3-broker-1"}': "10x15",
      'kubelet_volume_stats_capacity_bytes{namespace="kafka", persistentvolumeclaim="data-0-k3-broker-1"}': "100x15",
    },
    labels: { ...warn, namespace: "kafka", persistentvolumeclaim: "data-0-k3-broker-1" },
    fill: { '{{ $value | printf "%.1f" }}': "10.0", "{{ $labels.persistentvolumeclaim }}": "data-0-k3-broker-1" },
    silent: {
      'kubelet_volume_stats_available_bytes{namespace="kafka", persistentvolumeclaim="data-k3-broker-1"}': "50x15",
      'kubelet_volume_stats_capacity_bytes{namespace="kafka", persistentvolumeclaim="data-k3-broker-1"}': "100x15",
    },
  },
  {
    alert: "CanaryRolloutAborted",
    evalTime: "5m",
    fires: { [`rollout_info{${ROLLOUTS}, name="queue-manager", phase="Abort", strategy="canary", traffic_router="Istio"}`]: "1x10" },
    labels: { ...warn, namespace: "stf", name: "queue-manager" },
    fill: { "{{ $labels.name }}": "queue-manager", "{{ $labels.namespace }}": "stf" },
    silent: { [`rollout_info{${ROLLOUTS}, name="queue-manager", phase="Completed", strategy="canary", traffic_router="Istio"}`]: "1x10" },
  },
  {
    alert: "CanaryPausedInconclusive",
    evalTime: "40m",
    fires: {
      [`rollout_info{${ROLLOUTS}, name="queue-manager", phase="Paused", strategy="canary", traffic_router="Istio"}`]: "1x45",
      [`analysis_run_info{${ROLLOUTS}, name="queue-manager-6c9f7d8b4-3-2", phase="Inconclusive"}`]: "1x45",
    },
    labels: { ...warn, namespace: "stf", name: "queue-manager" },
    fill: { "{{ $labels.name }}": "queue-manager", "{{ $labels.namespace }}": "stf" },
    // A pause step of its own, with every analysis Successful.
    silent: {
      [`rollout_info{${ROLLOUTS}, name="queue-manager", phase="Paused", strategy="canary", traffic_router="Istio"}`]: "1x45",
      [`analysis_run_info{${ROLLOUTS}, name="queue-manager-6c9f7d8b4-3-2", phase="Successful"}`]: "1x45",
    },
  },
  {
    alert: "ChaosExperimentFailed",
    evalTime: "10m",
    fires: {
      'litmuschaos_failed_experiments{chaosresult_namespace="chaos", chaosresult_name="broker-failure-kafka-broker-pod-delete", chaosengine_name="broker-failure", chaosengine_context="", fault_name="kafka-broker-pod-delete"}':
        "0 0 0 1 1 1 1 1 1 1 1",
    },
    labels: {
      ...warn,
      chaosresult_namespace: "chaos",
      chaosresult_name: "broker-failure-kafka-broker-pod-delete",
      chaosengine_name: "broker-failure",
    },
    fill: {
      "{{ $labels.chaosresult_name }}": "broker-failure-kafka-broker-pod-delete",
      "{{ $labels.chaosresult_namespace }}": "chaos",
    },
    silent: {
      'litmuschaos_failed_experiments{chaosresult_namespace="chaos", chaosresult_name="broker-failure-kafka-broker-pod-delete", chaosengine_name="broker-failure", chaosengine_context="", fault_name="kafka-broker-pod-delete"}':
        "0x10",
      'litmuschaos_experiment_verdict{chaosresult_namespace="chaos", chaosresult_name="broker-failure-kafka-broker-pod-delete", chaosengine_name="broker-failure", chaosresult_verdict="Pass"}':
        "1x10",
    },
  },
];

const series = (input: Record<string, string>) => Object.entries(input).map(([s, values]) => ({ series: s, values }));

describe("promtool", () => {
  it("uses Prometheus's own promtool", () => {
    expect(run(["--version"]).output).toMatch(/^promtool, version \d+\.\d+/);
  });

  it("checks the rule groups of the test platform", () => {
    const r = run(["check", "rules", rulesFile]);
    expect([r.code, r.output]).toEqual([0, expect.stringContaining(`SUCCESS: ${[...rules.keys()].length} rules found`)]);
  });

  it("checks every committed stack's PrometheusRules", async () => {
    for (const stack of knownStacks()) {
      const result = await renderStack(stack);
      for (const rule of result.manifests.filter((m) => m.kind === "PrometheusRule")) {
        const file = path.join(dir, `${stack}-${rule.metadata.name}.yml`);
        fs.writeFileSync(file, stringify((rule as unknown as { spec: object }).spec));
        const r = run(["check", "rules", file]);
        expect([stack, rule.metadata.name, r.code, r.output]).toEqual([stack, rule.metadata.name, 0, expect.stringContaining("SUCCESS")]);
      }
    }
  });

  it("has a unit test for every alert", () => {
    expect(CASES.map((c) => c.alert).sort()).toEqual([...rules.keys()].sort());
  });

  it.each(CASES.map((c) => [c.alert, c] as const))("%s fires on its series and stays silent otherwise", (alert, c) => {
    const tests = [
      {
        interval: "1m",
        input_series: series(c.fires),
        alert_rule_test: [
          { eval_time: c.evalTime, alertname: alert, exp_alerts: [{ exp_labels: c.labels, exp_annotations: annotations(alert, c.fill) }] },
        ],
      },
      {
        interval: "1m",
        input_series: series(c.silent),
        alert_rule_test: [{ eval_time: c.evalTime, alertname: alert, exp_alerts: [] }],
      },
    ];
    const file = path.join(dir, `test-${alert}.yml`);
    fs.writeFileSync(file, stringify({ rule_files: [path.basename(rulesFile)], evaluation_interval: "1m", tests }));
    const r = run(["test", "rules", file]);
    expect([r.code, r.output]).toEqual([0, expect.stringContaining("SUCCESS")]);
  });
});
