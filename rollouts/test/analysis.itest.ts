/**
 * Each AnalysisTemplate's PromQL against the REAL local Prometheus, fed with known series: a
 * small exporter in this process serves queue-manager's metrics for several pod-template hashes
 * (as the PodMonitor would label them) and the self-healing operator's event counters, and
 * Prometheus scrapes it every 2 s. Each query's answer is turned into the measurement's phase
 * with the template's own success and failure conditions: a healthy canary passes, a failing
 * one fails, a slow one fails on latency, and no traffic or no series is Inconclusive.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { committedConfig } from "../../test/helpers";
import { POD_TEMPLATE_HASH_SERIES_LABEL, analysisTemplates } from "../spec";
import { sleep, writeScrapeTargets } from "../../test/integration/local-platform";
import { type MeasurementPhase, measure } from "./argo-conditions";

const PROMETHEUS = process.env.PROMETHEUS_URL;
const TARGETS_DIR = process.env.PROMETHEUS_TARGETS_DIR;
const NAMESPACE = "stf";
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** How one pod-template hash behaves: requests per second, share of 5xx, and where its latencies fall. */
interface Behaviour {
  readonly rps: number;
  readonly errorShare: number;
  /** Share of requests at or under each bucket bound (cumulative, last = 1). */
  readonly latency: readonly number[];
}
const FAST = [0.9, 0.99, 1, 1, 1, 1, 1];
const SLOW = [0, 0, 0, 0, 0.05, 0.9, 1];
const BEHAVIOURS: Record<string, Behaviour> = {
  healthy: { rps: 50, errorShare: 0.001, latency: FAST },
  /** Never served a 5xx: prometheus_client has not created the 5xx series. */
  clean: { rps: 50, errorShare: 0, latency: FAST },
  failing: { rps: 50, errorShare: 0.2, latency: FAST },
  slow: { rps: 50, errorShare: 0, latency: SLOW },
  stable: { rps: 50, errorShare: 0.001, latency: FAST },
  idle: { rps: 0, errorShare: 0, latency: FAST },
};

const started = Date.now();
const seconds = () => (Date.now() - started) / 1000;
let fatalSince: number | undefined;

function queueManagerMetrics(b: Behaviour): string {
  const t = seconds();
  const total = b.rps * t;
  const lines = [
    "# TYPE http_requests_total counter",
    `http_requests_total{handler="/queues",method="POST",status="2xx"} ${total * (1 - b.errorShare)}`,
    // prometheus_client creates a labelled series when it is first incremented: no 5xx yet, no series.
    ...(b.errorShare > 0 ? [`http_requests_total{handler="/queues",method="POST",status="5xx"} ${total * b.errorShare}`] : []),
    "# TYPE http_request_duration_seconds histogram",
    ...BUCKETS.map((le, i) => `http_request_duration_seconds_bucket{handler="/queues",le="${le}"} ${total * b.latency[i]!}`),
    `http_request_duration_seconds_bucket{handler="/queues",le="+Inf"} ${total}`,
    `http_request_duration_seconds_count{handler="/queues"} ${total}`,
  ];
  return `${lines.join("\n")}\n`;
}

function operatorMetrics(): string {
  const t = seconds();
  const fatal = fatalSince === undefined ? 0 : (t - fatalSince) * 1; // one critical error a second
  return [
    "# TYPE streamforge_operator_events_total counter",
    `streamforge_operator_events_total{kind="progress"} ${t * 20}`,
    `streamforge_operator_events_total{kind="fatal"} ${fatal}`,
    "",
  ].join("\n");
}

const server = http.createServer((req, res) => {
  const name = (req.url ?? "").replace(/^\/metrics\//, "");
  const behaviour = BEHAVIOURS[name];
  const body = name === "operator" ? operatorMetrics() : behaviour ? queueManagerMetrics(behaviour) : undefined;
  res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
  res.end(body ?? "");
});

const targetsFile = TARGETS_DIR ? path.join(TARGETS_DIR, `rollouts-analysis-${process.pid}.json`) : "";
function registerTargets(port: number, withOperator: boolean): void {
  const target = (name: string, labels: Record<string, string>) => ({
    targets: [`127.0.0.1:${port}`],
    labels: { __metrics_path__: `/metrics/${name}`, ...labels },
  });
  const targets = [
    // The labels the PodMonitor gives queue-manager's series: its namespace and the pod-template hash.
    ...Object.keys(BEHAVIOURS).map((hash) =>
      target(hash, { job: "queue-manager", namespace: NAMESPACE, rollouts_pod_template_hash: hash }),
    ),
    ...(withOperator ? [target("operator", { job: "self-healing-operator" })] : []),
  ];
  writeScrapeTargets(targetsFile, targets);
}

async function query(promql: string): Promise<number[]> {
  const response = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: { value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`Prometheus refused ${promql}: ${body.error}`);
  return body.data.result.map((r) => Number(r.value[1]));
}

async function waitForScrapes(jobs: string[]): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const up = await query(`count(up{job=~"${jobs.join("|")}"} == 1)`);
    if ((up[0] ?? 0) >= jobs.length) return;
    await sleep(1000);
  }
  throw new Error(`Prometheus did not scrape ${jobs.join(", ")}`);
}

/** Polls `check` every second until it gives a value; throws naming `what` after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

const config = committedConfig("local").rollouts!;
const templates = analysisTemplates(config.analysis, NAMESPACE);
const metricsByName = Object.fromEntries(
  templates.flatMap((t) =>
    (
      t.spec.metrics as { name: string; successCondition: string; failureCondition: string; provider: { prometheus: { query: string } } }[]
    ).map((m) => [m.name, m]),
  ),
);

/** The phase of one metric of the templates, for the given hashes, against the real Prometheus. */
async function phaseOf(metric: string, args: Record<string, string> = {}): Promise<{ phase: MeasurementPhase; result: number[] }> {
  const m = metricsByName[metric]!;
  const promql = m.provider.prometheus.query.replace(/\{\{args\.([a-z-]+)\}\}/g, (_, arg: string) => args[arg] ?? `<missing ${arg}>`);
  const result = await query(promql);
  return { phase: measure(m.successCondition, m.failureCondition, result), result };
}

describe("the AnalysisTemplates' PromQL against the real Prometheus", () => {
  let port = 0;
  beforeAll(async () => {
    if (!PROMETHEUS || !TARGETS_DIR)
      throw new Error("The integration tier needs PROMETHEUS_URL and PROMETHEUS_TARGETS_DIR (local/prometheus.sh env)");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    registerTargets(port, false);
    await waitForScrapes(["queue-manager"]);
    // Enough scrapes for a rate over the stack's analysis interval: every served hash has one.
    const served = Object.keys(BEHAVIOURS);
    await until("a request rate for every served hash", async () => {
      const rates = await query(
        `count(sum by (${POD_TEMPLATE_HASH_SERIES_LABEL}) (rate(http_requests_total{namespace="${NAMESPACE}", ${POD_TEMPLATE_HASH_SERIES_LABEL}=~"${served.join("|")}"}[${config.analysis.interval}])))`,
      );
      return (rates[0] ?? 0) >= served.length ? true : undefined;
    });
  }, 120_000);
  afterAll(() => {
    if (targetsFile) fs.rmSync(targetsFile, { force: true });
    server.close();
  });

  it("error rate: a healthy canary passes, one that never served a 5xx passes, a failing one fails, no traffic is [NaN] and no series is [], both Inconclusive", async () => {
    const healthy = await phaseOf("error-rate", { "canary-hash": "healthy" });
    expect(healthy.result[0]).toBeCloseTo(0.001, 3);
    expect(healthy.phase).toBe("Successful");
    expect(await phaseOf("error-rate", { "canary-hash": "clean" })).toEqual({ phase: "Successful", result: [0] });
    const failing = await phaseOf("error-rate", { "canary-hash": "failing" });
    expect(failing.result[0]).toBeCloseTo(0.2, 2);
    expect(failing.phase).toBe("Failed");
    const idle = await phaseOf("error-rate", { "canary-hash": "idle" });
    expect([idle.result.length, Number.isNaN(idle.result[0])]).toEqual([1, true]); // 0/0
    expect(idle.phase).toBe("Inconclusive");
    expect(await phaseOf("error-rate", { "canary-hash": "absent" })).toEqual({ phase: "Inconclusive", result: [] });
  });

  it("p95: a fast canary passes, a slow one fails, against the bound and against stable", async () => {
    const fast = await phaseOf("p95", { "canary-hash": "healthy" });
    expect(fast.result[0]).toBeLessThan(0.1);
    expect(fast.phase).toBe("Successful");
    const slow = await phaseOf("p95", { "canary-hash": "slow" });
    expect(slow.result[0]).toBeGreaterThan(1);
    expect(slow.phase).toBe("Failed");
    expect((await phaseOf("p95-vs-stable", { "canary-hash": "healthy", "stable-hash": "stable" })).phase).toBe("Successful");
    expect((await phaseOf("p95-vs-stable", { "canary-hash": "slow", "stable-hash": "stable" })).phase).toBe("Failed");
    expect((await phaseOf("p95-vs-stable", { "canary-hash": "absent", "stable-hash": "stable" })).phase).toBe("Inconclusive");
    expect((await phaseOf("p95", { "canary-hash": "idle" })).phase).toBe("Inconclusive");
  });

  it("critical errors: no operator series is Inconclusive; events without critical errors pass; a burst fails", async () => {
    expect(await phaseOf("critical-errors")).toEqual({ phase: "Inconclusive", result: [] });
    registerTargets(port, true);
    await waitForScrapes(["queue-manager", "self-healing-operator"]);
    // The query needs samples from before its offset; then it has a value, which must be 0.
    const quiet = await until("a critical-errors value", async () => {
      const m = await phaseOf("critical-errors");
      return m.result.length > 0 ? m : undefined;
    });
    expect(quiet).toEqual({ phase: "Successful", result: [0] });
    fatalSince = seconds();
    // Until Prometheus has scraped the burst (the value leaves 0); how far it rose is the assertion.
    const burst = await until("the burst scraped", async () => {
      const m = await phaseOf("critical-errors");
      return m.result[0] !== 0 ? m : undefined;
    });
    // One a second over a floor of 0.1 a minute: far above the allowed increase.
    expect(burst.result[0]).toBeGreaterThan(config.analysis.criticalErrors.maxIncreaseFactor);
    expect(burst.phase).toBe("Failed");
  }, 120_000);
});
