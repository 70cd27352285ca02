/**
 * Real series: every Kafka and self-healing-operator expression of the alerts and dashboards,
 * evaluated against the REAL local Prometheus while it scrapes real exporters:
 *
 * - the three-node Kafka of local/kafka-cluster.sh, whose JMX exporter agent runs the config the
 *   stack renders (the script copies JMX_EXPORTER_CONFIG from infra/kafka/cluster-spec.ts at every
 *   start; this test checks the copy), and
 * - the self-healing operator built in operator/dist, consuming a topic of that cluster and
 *   watching a namespace of its own on the local API server, provoked into a detection, a
 *   relaunch, a held relaunch and a give-up so that its labelled counters have series.
 *
 * Both are listed for Prometheus (file_sd) with the labels their PodMonitors give them in a
 * cluster (job, namespace, pod, and Strimzi's pod labels), named after the local stack's config.
 *
 * The expressions are those of the local stack's config, with the Kafka Exporter and persistent
 * broker pools switched on so that every alert and panel kind is among them. An expression returns
 * data when (1) each metric selector in it (`name{matchers}`, its range and offset dropped)
 * returns at least one series, and (2) the expression itself returns at least one sample, an
 * alert's condition removed first: alerts are conditions that return nothing while all is well,
 * so a trailing comparison with a number (`... > 0`, `... != 1`) is dropped and `absent(x)` is
 * evaluated as `x`. Expressions reading a metric in NOT_HERE (with the reason) are evaluated and
 * reported, not required.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { createTopics, deleteTopics, queueManagerJob } from "../../chaos/drill/traffic";
import { JMX_EXPORTER_CONFIG } from "../../infra/kafka/cluster-spec";
import { PROJECT_ROOT, parseCommittedStack } from "../../infra/render/render";
import { OPERATOR_NAME } from "../../infra/self-healing/manifests";
import { eventually, kubectl, kubectlApply, promQuery, writeScrapeTargets } from "../../test/integration/local-platform";
import { createMetrics } from "../../operator/src/metrics";
import { dashboards } from "../dashboards";
import { KAFKA_MBEANS, jmxExportedNames } from "../metric-sources";
import { metricNames } from "../promql";
import { JOBS, STRIMZI_METRICS_PORT_NAME, type ObservabilityContext, observabilityContext, ruleGroups } from "../spec";

const STACK = "local";
const PROMETHEUS = process.env.PROMETHEUS_URL?.replace(/\/$/, "");
const TARGETS_DIR = process.env.PROMETHEUS_TARGETS_DIR;
const CLUSTER_SCRIPT = path.join(PROJECT_ROOT, "local", "kafka-cluster.sh");
const METRICS_CONFIG_COPY = path.join(
  process.env.STREAMFORGE_STATE ?? path.join(PROJECT_ROOT, ".local", "state"),
  "kafka-cluster",
  "jmx-exporter.yaml",
);
const LOG_DIR = path.join(PROJECT_ROOT, "out", "itest");
/** A broker's full JMX scrape costs ~0.7 s of its CPU: every 5 s (local/prometheus.sh relabels job="kafka" the same). */
const KAFKA_SCRAPE = { __scrape_interval__: "5s", __scrape_timeout__: "4s" };
const TARGET = "loader-producer";

/** Metrics no exporter here can have series of, each with why. An expression reading one is reported, not required. */
const NOT_HERE: Readonly<Record<string, string>> = {
  kafka_consumergroup_lag:
    "Strimzi's Kafka Exporter (danielqsj/kafka_exporter) cannot be built here (the Go module proxy refuses it), so nothing exports consumer-group lag",
  kubelet_volume_stats_available_bytes:
    "the kubelet's volume stats: kwok plays the kubelet and exports none, and the local node pools are ephemeral (no claims)",
  kubelet_volume_stats_capacity_bytes:
    "the kubelet's volume stats: kwok plays the kubelet and exports none, and the local node pools are ephemeral (no claims)",
  rollout_info:
    "the Argo Rollouts controller exports it per Rollout, only while one exists (the local stack's deploy or rollouts/test/canary.itest.ts makes one); this test makes none",
  analysis_run_info: "per AnalysisRun, only while the canary's analysis runs exist; this test runs no rollout",
  analysis_run_metric_phase: "per AnalysisRun metric, only while the canary's analysis runs exist; this test runs no rollout",
  litmuschaos_failed_experiments:
    "Litmus chaos-exporter: no Litmus can run here (the Go module proxy refuses its modules); the drill evaluates the probes itself",
  litmuschaos_experiment_verdict:
    "Litmus chaos-exporter: no Litmus can run here (the Go module proxy refuses its modules); the drill evaluates the probes itself",
  streamforge_operator_action_failures_total:
    "counted only when the API server refuses a relaunch step; the operator here runs with the admin kubeconfig, so nothing is refused",
};

/** queue-manager's names come from the stack's config: no queue-manager runs here (rollouts/test/analysis.itest.ts serves them from a fake). */
function queueManagerNotHere(ctx: ObservabilityContext): Record<string, string> {
  const m = ctx.rollouts?.metrics;
  const why = "queue-manager's own series: no queue-manager runs in this test (rollouts/test/analysis.itest.ts feeds them)";
  return m ? { [m.requestsTotal]: why, [m.durationBucket]: why } : {};
}

interface Use {
  readonly where: string;
  readonly expr: string;
  readonly alert: boolean;
}

/** The alert's series without its condition: a trailing comparison with a number dropped, `absent(x)` as `x`. */
export function withoutCondition(expr: string): string {
  const absent = /^absent\((.*)\)$/s.exec(expr.trim());
  if (absent) return absent[1]!;
  return expr.replace(/\s*(==|!=|>=|<=|>|<)\s*-?[0-9.]+(e[+-]?[0-9]+)?\s*$/i, "");
}

/** Each `name{matchers}` (or bare `name`) of the metrics an expression reads. */
export function metricSelectors(expr: string): string[] {
  const found = new Set<string>();
  for (const name of metricNames(expr)) {
    const re = new RegExp(`(?<![A-Za-z0-9_:])${name}(\\{[^}]*\\})?(?![A-Za-z0-9_:(])`, "g");
    for (const m of expr.matchAll(re)) found.add(`${name}${m[1] ?? ""}`);
  }
  return [...found].sort();
}

/** An instant query's samples (the kit's client: a refusal throws with Prometheus's error). */
const query = (q: string): Promise<number[]> => promQuery(PROMETHEUS!, q);

/** Which of an expression's checks return nothing (empty: it returns data). */
async function missing(use: Use): Promise<string[]> {
  const checks = [...metricSelectors(use.expr), use.alert ? withoutCondition(use.expr) : use.expr];
  const empty: string[] = [];
  for (const q of checks) if ((await query(q)).length === 0) empty.push(q);
  return empty;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function clusterScript(...args: string[]): { status: number; stdout: string } {
  try {
    return { status: 0, stdout: execFileSync("bash", [CLUSTER_SCRIPT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    if (args[0] === "status") return { status: e.status ?? 1, stdout: e.stdout ?? "" };
    throw new Error(`local/kafka-cluster.sh ${args.join(" ")} failed: ${e.stderr ?? String(err)}`, { cause: err });
  }
}

function clusterEnv(name: string): string[] {
  const line = clusterScript("env")
    .stdout.split("\n")
    .find((l) => l.startsWith(`export ${name}=`));
  if (!line) throw new Error(`local/kafka-cluster.sh env printed no ${name}`);
  return line.slice(`export ${name}=`.length).split(",");
}

const config = parseCommittedStack(STACK);
const base = observabilityContext(config);
/** Every alert and panel kind: the Kafka Exporter on, the broker pools persistent (their selectors stay the local stack's). */
const ctx: ObservabilityContext = {
  ...base,
  kafka: { ...base.kafka, kafkaExporter: true, persistentBrokerPools: base.kafka.brokerPools.map((p) => p.name) },
};
const uses: Use[] = [
  ...ruleGroups(config.observability, ctx).flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr, alert: true }))),
  ...dashboards(ctx).flatMap((d) =>
    d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${d.uid} "${p.title}" ${t.refId}`, expr: t.expr, alert: false }))),
  ),
];
const notHere: Record<string, string> = { ...NOT_HERE, ...queueManagerNotHere(ctx) };
const excused = (u: Use) => metricNames(u.expr).filter((n) => n in notHere);

describe("how an alert's series is read", () => {
  it("drops the condition, or unwraps absent()", () => {
    expect(withoutCondition('sum by (pod) (x{a="1"}) > 0')).toBe('sum by (pod) (x{a="1"})');
    expect(withoutCondition("(count(x == 3) or vector(0)) < 3")).toBe("(count(x == 3) or vector(0))");
    expect(withoutCondition("sum(y) != 1")).toBe("sum(y)");
    expect(withoutCondition('absent(up{job="a"} == 1)')).toBe('up{job="a"} == 1');
    expect(metricSelectors('sum(rate(a_total{x="1"}[5m])) / (b + a_total{x="1"}) and on (instance) (c{y=~"z|w"} == 1)')).toEqual([
      'a_total{x="1"}',
      "b",
      'c{y=~"z|w"}',
    ]);
  });

  it("every metric an expression reads is exported by the operator or the rendered JMX config, or is listed in NOT_HERE", () => {
    const { registry } = createMetrics();
    const ours = new Set([
      ...registry.getMetricsAsArray().map((m) => m.name),
      ...jmxExportedNames(JMX_EXPORTER_CONFIG, KAFKA_MBEANS).keys(),
      "up",
    ]);
    registry.clear();
    const expand = (n: string) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`];
    const known = new Set([...ours].flatMap(expand));
    const unaccounted = uses.flatMap((u) =>
      metricNames(u.expr)
        .filter((n) => !known.has(n) && !(n in notHere))
        .map((n) => `${u.where}: ${n}`),
    );
    expect(unaccounted).toEqual([]);
    const used = new Set(uses.flatMap((u) => metricNames(u.expr)));
    expect(Object.keys(notHere).filter((n) => !used.has(n))).toEqual([]);
  });
});

describe("every Kafka and operator expression returns data on the real local Prometheus", () => {
  const cleanups: (() => unknown)[] = [];
  const stamp = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  const namespace = `obs-real-${stamp}`;
  const topic = `obs-real-events-${stamp}`;

  beforeAll(async () => {
    for (const [name, value] of Object.entries({
      PROMETHEUS_URL: PROMETHEUS,
      PROMETHEUS_TARGETS_DIR: TARGETS_DIR,
      KUBECONFIG: process.env.KUBECONFIG,
    }))
      if (!value)
        throw new Error(
          `The integration tier needs ${name}: start the local platform and load its env (eval "$(bash local/platform.sh env)")`,
        );
    const main = path.join(PROJECT_ROOT, "operator", "dist", "main.js");
    if (!existsSync(main)) throw new Error(`${main} is missing: build the operator first (cd operator && npm run build)`);
    if (!ctx.operator) throw new Error(`Stack ${STACK} runs no operator: nothing to check its expressions against`);

    // The three-node cluster: reuse it when someone (the drill) runs it, start (and later stop) it otherwise.
    const status = clusterScript("status").status;
    if (status === 1) throw new Error("local/kafka-cluster.sh runs only some of its nodes (a drill mid-fault?): try again when it is done");
    if (status !== 0) {
      clusterScript("start");
      cleanups.push(() => clusterScript("stop"));
    }
    const bootstrap = clusterEnv("KAFKA_CLUSTER_BOOTSTRAP_SERVERS");
    const metrics = clusterEnv("KAFKA_CLUSTER_METRICS_ADDRESSES");

    // Nodes 0, 1, 2 are a pool's pods <cluster>-<pool>-<id>: a pool that is both broker and controller, as the local stack's is.
    const pool = config.kafka.nodePools.find(
      (p) => p.roles.includes("broker") && p.roles.includes("controller") && p.replicas >= metrics.length,
    );
    if (!pool) throw new Error(`Stack ${STACK} has no dual-role node pool of ${metrics.length} nodes to name the local brokers after`);
    const { clusterName, namespace: kafkaNamespace } = ctx.kafka;
    const kafkaTargets = path.join(TARGETS_DIR!, `observability-real-kafka-${process.pid}.json`);
    writeScrapeTargets(
      kafkaTargets,
      metrics.map((address, id) => ({
        targets: [address],
        labels: {
          // What the PodMonitor sets (job) and prometheus-operator adds (namespace, pod, container, endpoint), with Strimzi's pod labels kept.
          job: JOBS.kafka,
          namespace: kafkaNamespace,
          pod: `${clusterName}-${pool.name}-${id}`,
          container: "kafka",
          endpoint: STRIMZI_METRICS_PORT_NAME,
          strimzi_io_cluster: clusterName,
          strimzi_io_kind: "Kafka",
          strimzi_io_name: `${clusterName}-kafka`,
          strimzi_io_pool_name: pool.name,
          strimzi_io_broker_role: "true",
          strimzi_io_controller_role: "true",
          node_name: "local",
          ...KAFKA_SCRAPE,
        },
      })),
    );
    cleanups.push(() => rmSync(kafkaTargets, { force: true }));

    await createTopics(bootstrap, [{ topic, partitions: 3, replicationFactor: 3, minInSync: 2 }]);
    cleanups.push(() => deleteTopics(bootstrap, [topic]));

    // The operator's world: its own namespace (its Lease goes there too), two silent Jobs of one target.
    kubectl("create", "namespace", namespace);
    cleanups.push(() => kubectl("delete", "namespace", namespace, "--wait=false"));
    for (const queueId of [`${stamp}-a`, `${stamp}-b`]) kubectlApply(queueManagerJob(queueId, TARGET, namespace));

    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(path.join(LOG_DIR, `observability-real-operator-${stamp}.log`));
    // Silent after 3 s; one relaunch per queue, then a give-up; one relaunch token, so the second Job waits (held).
    const stuck = { stuckAfterMs: 3000, startGraceMs: 3000, adaptive: false, minStuckAfterMs: 3000 };
    const policy = {
      targets: { [TARGET]: stuck },
      budget: { maxRelaunches: 1, windowMs: 3_600_000 },
      rateLimit: { perMinute: 0.01, burst: 1 },
      massSilence: { minJobs: 100, fraction: 1 },
    };
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? "",
        KUBECONFIG: process.env.KUBECONFIG,
        KAFKA_BROKERS: bootstrap.join(","),
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: `${namespace}-operator`,
        WATCH_NAMESPACE: namespace,
        POD_NAME: `obs-real-${stamp}`,
        BIND_ADDRESS: "127.0.0.1",
        HEALTH_PORT: String(healthPort),
        METRICS_PORT: String(metricsPort),
        TICK_INTERVAL_MS: "500",
        SELF_HEALING_POLICY: JSON.stringify(policy),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
        }),
    );
    const operatorTargets = path.join(TARGETS_DIR!, `observability-real-operator-${process.pid}.json`);
    writeScrapeTargets(operatorTargets, [
      {
        targets: [`127.0.0.1:${metricsPort}`],
        labels: {
          job: JOBS.operator,
          namespace: ctx.operator.namespace,
          pod: `${OPERATOR_NAME}-${stamp}`,
          container: "operator",
          endpoint: "metrics",
        },
      },
    ]);
    cleanups.push(() => rmSync(operatorTargets, { force: true }));

    // Events for a queue without a Job (applied to state), and a message that is no event (rejected).
    const producer = new Kafka({ clientId: "obs-real", brokers: bootstrap, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const event = { event: "status", queue_id: `${stamp}-idle`, symbol: "BTCUSDT", type: "trades", status: "loading", finished: false };
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...Array.from({ length: 5 }, () => ({ value: JSON.stringify({ ...event, sent_at: Date.now() / 1000 }) })),
        { value: "not an event" },
      ],
    });
  }, 180_000);

  afterAll(async () => {
    for (const c of cleanups.reverse())
      await Promise.resolve(c()).catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  }, 120_000);

  it("the brokers' exporter runs the config the stack renders", () => {
    const copy = readFileSync(METRICS_CONFIG_COPY, "utf8");
    expect(copy.slice(copy.indexOf("\n") + 1)).toBe(JMX_EXPORTER_CONFIG);
  });

  it("each expression, selector by selector and as a whole (an alert without its condition)", async () => {
    const required = uses.filter((u) => excused(u).length === 0);
    expect(required.length).toBeGreaterThan(25);
    let failing: { where: string; empty: string[] }[] = [];
    // Until every required expression returns data; the report below says which did not.
    await eventually(
      "every required expression to return data",
      async () => {
        failing = [];
        for (const u of required) {
          const empty = await missing(u);
          if (empty.length > 0) failing.push({ where: u.where, empty });
        }
        return failing.length === 0 ? true : undefined;
      },
      120_000,
      2500,
    ).catch(() => undefined);

    const optional = uses.filter((u) => excused(u).length > 0);
    const report = [
      `returned data (${required.length - failing.length} of ${required.length} required):`,
      ...required.filter((u) => !failing.some((f) => f.where === u.where)).map((u) => `  ${u.where}`),
      `not required here (${optional.length}):`,
      ...(await Promise.all(
        optional.map(
          async (u) =>
            `  ${u.where}: ${(await missing(u)).length === 0 ? "has data anyway" : "no data"} (${excused(u)
              .map((n) => `${n}: ${notHere[n]}`)
              .join("; ")})`,
        ),
      )),
    ];
    console.log(report.join("\n"));
    expect(failing).toEqual([]);
  }, 180_000);

  it("per-topic meters carry a topic label, not the topic in their name", async () => {
    const selector = `job="${JOBS.kafka}", namespace="${ctx.kafka.namespace}"`;
    expect(await query(`kafka_server_brokertopicmetrics_messagesin_total{${selector}, topic="${topic}"}`)).not.toEqual([]);
    expect(await query(`kafka_log_log_size{${selector}, topic="${topic}", partition="0"}`)).not.toEqual([]);
    expect(await query(`count({${selector}, __name__=~"kafka_server_brokertopicmetrics_.*_topic_.*|.*persec.*"})`)).toEqual([]);
  });
});
