/** The area's config, rules, monitors and dashboards as plain objects, and their CRD validation. */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, parsePlatformConfig } from "../../infra/config";
import { readStackValues, renderStack } from "../../infra/render/render";
import { CrdCatalog } from "../../test/validate/crd-schema";
import { dashboardConfigMaps } from "../dashboards";
import { consumerGroupRegex, nodePoolClaimRegex, nodePoolPodRegex, podMonitors, prometheusRules, ruleGroups } from "../spec";
import { CONTEXT, testConfig } from "./fixture";

const RUNBOOK = fs.readFileSync(path.resolve(__dirname, "../../docs/runbook.md"), "utf8");

function problems(edit: (raw: Record<string, any>) => void): string[] {
  const { raw, secretKeys } = readStackValues("dev");
  edit(raw);
  try {
    parsePlatformConfig(raw, secretKeys);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
}

describe("streamforge:observability", () => {
  it("links the runbook by its path in the repository unless a stack names its URL", () => {
    expect(testConfig((raw) => delete raw.runbookUrl).runbookUrl).toBe("docs/runbook.md");
    expect(
      ruleGroups(
        testConfig((raw) => delete raw.runbookUrl),
        CONTEXT,
      )[0]!.rules[0]!.annotations.runbook_url,
    ).toBe("docs/runbook.md#selfhealingoperatordown");
    expect(testConfig((raw) => (raw.runbookUrl = "https://wiki.example/streamforge/runbook")).runbookUrl).toBe(
      "https://wiki.example/streamforge/runbook",
    );
  });

  it("is off unless a stack turns it on", () => {
    const { raw, secretKeys } = readStackValues("dev");
    delete raw.observability;
    expect(parsePlatformConfig(raw, secretKeys).observability.enabled).toBe(false);
  });

  it("names the bad key", () => {
    expect(problems((raw) => (raw.observability.thresholds = { operator: { lagFor: "10 minutes" } }))).toEqual([
      'streamforge:observability.thresholds.operator.lagFor: expected a duration such as 30s, 5m or 1h; found "10 minutes" (string)',
    ]);
    expect(problems((raw) => (raw.observability.selectorLabels = {}))).toEqual([
      "streamforge:observability.selectorLabels: expected at least one label the stack's Prometheus selects rules and monitors by (e.g. release: kube-prometheus-stack); found none",
    ]);
    expect(problems((raw) => (raw.observability.runbookUrl = "https://docs.example/runbook.md#top"))).toEqual([
      'streamforge:observability.runbookUrl: expected an http(s) URL or a relative path such as docs/runbook.md, without a #fragment; found "https://docs.example/runbook.md#top" (string)',
    ]);
    expect(problems((raw) => (raw.observability.runbookUrl = "file:///etc/runbook.md"))).toHaveLength(1);
  });
});

describe("pod and claim names", () => {
  it("match Strimzi node-pool pods, not the pre-node-pool <cluster>-kafka-<n>", () => {
    const pods = new RegExp(`^${nodePoolPodRegex("k3", ["broker", "dual-role"])}$`);
    expect(["k3-broker-0", "k3-dual-role-12"].filter((p) => pods.test(p))).toHaveLength(2);
    expect(["k3-kafka-0", "k3-broker-exporter-0", "k30-broker-0"].filter((p) => pods.test(p))).toEqual([]);
    const claims = new RegExp(`^${nodePoolClaimRegex("k3", ["broker"])}$`);
    expect(["data-k3-broker-0", "data-1-k3-broker-0"].every((c) => claims.test(c))).toBe(true);
    expect(claims.test("data-k3-kafka-0")).toBe(false);
  });

  it("consumer groups from the catalogue: exact names and prefixes", () => {
    const groups = new RegExp(`^(${consumerGroupRegex(["loader-*", "queue.manager"])})$`);
    expect(["loader-1", "queue.manager"].every((g) => groups.test(g))).toBe(true);
    expect(["queueXmanager", "x-loader-1"].some((g) => groups.test(g))).toBe(false);
  });
});

describe("alerts", () => {
  const rules = ruleGroups(testConfig(), CONTEXT).flatMap((g) => g.rules);

  it("each has a severity, a summary, a description and a runbook section", () => {
    for (const r of rules) {
      expect([r.alert, ["critical", "warning"].includes(r.labels.severity)]).toEqual([r.alert, true]);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(20);
      expect(r.annotations.runbook_url).toBe(`https://docs.example/runbook.md#${r.alert.toLowerCase()}`);
      expect([r.alert, RUNBOOK.includes(`\n## ${r.alert}\n`)]).toEqual([r.alert, true]);
    }
  });

  it("an operator relaunch loop and a lost broker page", () => {
    const paging = rules.filter((r) => r.labels.severity === "critical").map((r) => r.alert);
    expect(paging).toEqual(expect.arrayContaining(["SelfHealingRelaunchLoop", "KafkaBrokersMissing", "SelfHealingOperatorDown"]));
  });

  it("follow the areas the stack has: no operator, no rollouts, no chaos, ephemeral brokers", () => {
    const ctx = { namespace: CONTEXT.namespace, kafka: { ...CONTEXT.kafka, persistentBrokerPools: [] } };
    expect(ruleGroups(testConfig(), ctx).map((g) => g.name)).toEqual(["streamforge-kafka"]);
    expect(ruleGroups(testConfig(), ctx).flatMap((g) => g.rules.map((r) => r.alert))).not.toContain("KafkaDiskFilling");
  });

  it("PrometheusRules carry the Prometheus selector's labels", () => {
    const o = testConfig((raw) => (raw.selectorLabels = { release: "prom", team: "data" }));
    for (const r of prometheusRules(o, CONTEXT)) expect(r.metadata.labels).toMatchObject({ release: "prom", team: "data" });
  });
});

describe("scrape targets and dashboards", () => {
  it("one PodMonitor per target, each setting its job; queue-manager's stays the rollouts area's", () => {
    const monitors = podMonitors(testConfig(), CONTEXT);
    expect(monitors.map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      "stf/streamforge-self-healing-operator",
      "kafka/k3-kafka",
      "kafka/k3-kafka-exporter",
      "argo-rollouts/argo-rollouts",
    ]);
    expect(monitors.map((m) => m.spec.podMetricsEndpoints[0]!.relabelings[0])).toEqual(
      ["self-healing-operator", "kafka", "kafka-exporter", "argo-rollouts"].map((job) => ({
        targetLabel: "job",
        replacement: job,
        action: "replace",
      })),
    );
  });

  it("the Argo Rollouts controller's pods, installed by the chart or by v1.10.2's manifests, on their metrics port", () => {
    const argo = podMonitors(testConfig(), CONTEXT).find((m) => m.metadata.name === "argo-rollouts")!;
    // The chart (2.41.0) adds instance and component to this label; the manifests have only it.
    expect(argo.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "argo-rollouts" });
    expect(argo.spec.podMetricsEndpoints.map((e) => e.port)).toEqual(["metrics"]);
  });

  it("dashboards ship as ConfigMaps with the sidecar's label, or not at all", () => {
    const maps = dashboardConfigMaps(testConfig(), CONTEXT);
    expect(maps.map((m) => m.metadata.name)).toEqual([
      "streamforge-self-healing-dashboard",
      "streamforge-kafka-dashboard",
      "streamforge-canary-dashboard",
    ]);
    for (const m of maps) {
      expect((m.metadata.labels as Record<string, string>).grafana_dashboard).toBe("1");
      const d = JSON.parse(Object.values(m.data)[0]!);
      expect(d.panels.length).toBeGreaterThanOrEqual(6);
    }
    expect(
      dashboardConfigMaps(
        testConfig((raw) => (raw.dashboards = { enabled: false })),
        CONTEXT,
      ),
    ).toEqual([]);
  });
});

describe("rendered stacks", () => {
  const catalog = CrdCatalog.load();

  it("the local stack's rules, monitors and dashboards validate against prometheus-operator's CRDs", async () => {
    const local = await renderStack("local");
    const ours = local.manifests.filter(
      (m) => (m.metadata.labels as Record<string, string> | undefined)?.["app.kubernetes.io/component"] === "observability",
    );
    expect(ours.map((m) => m.kind).sort()).toEqual([
      ...Array(3).fill("ConfigMap"),
      ...Array(4).fill("PodMonitor"),
      ...Array(4).fill("PrometheusRule"),
    ]);
    expect(ours.filter((m) => catalog.coversGroup(m.apiVersion)).flatMap((m) => catalog.validate(m))).toEqual([]);
  });

  it("a stack with observability off declares none of it", async () => {
    const off = await renderStack("local-kafka-api");
    expect(off.manifests.filter((m) => m.kind === "PrometheusRule")).toEqual([]);
  });
});
