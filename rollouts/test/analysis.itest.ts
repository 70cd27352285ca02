/**
 * Each AnalysisTemplate's PromQL against a REAL Prometheus configured by prometheus-operator's own
 * code from the PodMonitor the program renders (test/integration/operated-prometheus.ts): queue-
 * manager's pods exist in the local API server (kwok), one per pod-template hash, and each serves
 * only its raw application metrics, as prometheus_client would; Prometheus discovers them and the
 * PodMonitor's relabelling gives the series `namespace`, `job` and `rollouts_pod_template_hash`.
 * The self-healing operator's event counters come from this process too (file discovery: not a
 * pod here). Each query's answer is turned into the measurement's phase with the template's own
 * success and failure conditions: a healthy canary passes, a failing one fails, a slow one fails
 * on latency, and no traffic or no series is Inconclusive. A PodMonitor whose relabelling misses
 * the hash label leaves every query empty though its pods are scraped.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { committedConfig } from "../../test/helpers";
import { eventually, kubectl, kubectlWith, prometheusApi, promQuery, writeScrapeTargets } from "../../test/integration/local-platform";
import {
  LOCAL_ADDRESS_ANNOTATION,
  type OperatedPrometheus,
  PodEndpoints,
  startOperatedPrometheus,
} from "../../test/integration/operated-prometheus";
import {
  POD_TEMPLATE_HASH_LABEL,
  POD_TEMPLATE_HASH_SERIES_LABEL,
  QUEUE_MANAGER,
  QUEUE_MANAGER_POD_LABELS,
  analysisTemplates,
  podMonitor,
  queueManagerRbac,
  rollout,
} from "../spec";
import { type MeasurementPhase, measure } from "./argo-conditions";
import { FAST, SLOW, type Traffic, operatorExposition, queueManagerExposition } from "./fake-metrics";
import { localContext } from "./local-context";

const NAMESPACE = `analysis-${process.pid}`;
/** Pods as in NAMESPACE, scraped through a PodMonitor whose relabelling keeps the wrong label. */
const BROKEN = `${NAMESPACE}-broken`;
const BEHAVIOURS: Record<string, Traffic> = {
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

/** A pod's metrics: its hash's traffic since the test started (none for a hash not listed). */
const queueManagerMetrics = (b: Traffic | undefined): string | undefined =>
  b && queueManagerExposition(seconds(), b, { handler: "/queues", method: "POST" });

function operatorMetrics(): string {
  const t = seconds();
  return operatorExposition(t, fatalSince === undefined ? 0 : (t - fatalSince) * 1); // one critical error a second
}

// The operator's counters (not a pod here): file discovery in the test's Prometheus.
const operatorServer = http.createServer((req, res) => {
  const body = req.url === "/metrics/operator" ? operatorMetrics() : undefined;
  res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
  res.end(body ?? "");
});

const config = committedConfig("local").rollouts!;
const goodMonitor = podMonitor(NAMESPACE, config.analysis.scrapeInterval);
/** The Deployment controller's label where Argo's is meant: a plausible slip, valid to the operator. */
const brokenMonitor = {
  ...podMonitor(BROKEN, config.analysis.scrapeInterval),
  spec: { ...goodMonitor.spec, podTargetLabels: ["pod-template-hash"] },
};

/** A namespace with queue-manager's ServiceAccount and one pod per hash, its container as the Rollout renders it (the `http` port). */
function createPods(namespace: string, hashes: string[]): void {
  kubectl("create", "namespace", namespace);
  const apply = (obj: object) => {
    const r = kubectlWith(undefined, obj, "apply", "-f", "-");
    if (!r.ok) throw new Error(`kubectl apply failed: ${r.output}`);
  };
  apply(queueManagerRbac(namespace).serviceAccount);
  const template = rollout(config, localContext(namespace)).spec.template;
  const container = template.spec.containers[0]!;
  for (const hash of hashes)
    apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${QUEUE_MANAGER}-${hash}`, namespace, labels: { ...template.metadata.labels, [POD_TEMPLATE_HASH_LABEL]: hash } },
      spec: {
        serviceAccountName: template.spec.serviceAccountName,
        containers: [{ name: container.name, image: container.image, ports: container.ports }],
      },
    });
}

const selector = Object.entries(QUEUE_MANAGER_POD_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(",");
const endpoints = [NAMESPACE, BROKEN].map(
  (ns) => new PodEndpoints(ns, selector, (pod) => queueManagerMetrics(BEHAVIOURS[pod.labels[POD_TEMPLATE_HASH_LABEL] ?? ""])),
);
let prometheus: OperatedPrometheus;

function registerOperator(port: number): void {
  writeScrapeTargets(path.join(prometheus.targetsDir, "operator.json"), [
    { targets: [`127.0.0.1:${port}`], labels: { __metrics_path__: "/metrics/operator", job: "self-healing-operator" } },
  ]);
}

/** An instant query's samples on the test's Prometheus (the kit's client). */
const query = (promql: string): Promise<number[]> => promQuery(prometheus.url, promql);

/** Polls `check` every second (a scrape interval is 2 s) until it gives a value; the kit's `eventually`. */
const until = <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => eventually(what, check, 60_000, 1000);

async function waitForScrapes(jobs: string[]): Promise<void> {
  await until(`Prometheus to scrape ${jobs.join(", ")}`, async () =>
    ((await query(`count(up{job=~"${jobs.join("|")}"} == 1)`))[0] ?? 0) >= jobs.length ? true : undefined,
  );
}

/** The templates' metrics by name, for the namespace their queries select. */
function metricsOf(namespace: string) {
  return Object.fromEntries(
    analysisTemplates(config.analysis, namespace).flatMap((t) =>
      (
        t.spec.metrics as {
          name: string;
          successCondition: string;
          failureCondition: string;
          provider: { prometheus: { query: string } };
        }[]
      ).map((m) => [m.name, m]),
    ),
  );
}
const metricsByNamespace = { [NAMESPACE]: metricsOf(NAMESPACE), [BROKEN]: metricsOf(BROKEN) };

/** The phase of one metric of the templates, for the given hashes, against the real Prometheus. */
async function phaseOf(
  metric: string,
  args: Record<string, string> = {},
  namespace = NAMESPACE,
): Promise<{ phase: MeasurementPhase; result: number[] }> {
  const m = metricsByNamespace[namespace]![metric]!;
  const promql = m.provider.prometheus.query.replace(/\{\{args\.([a-z-]+)\}\}/g, (_, arg: string) => args[arg] ?? `<missing ${arg}>`);
  const result = await query(promql);
  return { phase: measure(m.successCondition, m.failureCondition, result), result };
}

describe("the AnalysisTemplates' PromQL against a Prometheus configured from the PodMonitor by prometheus-operator", () => {
  let operatorPort = 0;
  beforeAll(async () => {
    createPods(NAMESPACE, Object.keys(BEHAVIOURS));
    createPods(BROKEN, ["healthy"]);
    prometheus = await startOperatedPrometheus("analysis", [goodMonitor, brokenMonitor]);
    for (const e of endpoints) e.start();
    await new Promise<void>((resolve) => operatorServer.listen(0, "127.0.0.1", resolve));
    operatorPort = (operatorServer.address() as AddressInfo).port;
    // Enough scrapes for a rate over the stack's analysis interval: every served hash has one.
    const served = Object.keys(BEHAVIOURS);
    await until("a request rate for every served hash", async () => {
      const rates = await query(
        `count(sum by (${POD_TEMPLATE_HASH_SERIES_LABEL}) (rate(http_requests_total{namespace="${NAMESPACE}", ${POD_TEMPLATE_HASH_SERIES_LABEL}=~"${served.join("|")}"}[${config.analysis.interval}])))`,
      );
      return (rates[0] ?? 0) >= served.length ? true : undefined;
    });
  }, 180_000);
  afterAll(async () => {
    for (const e of endpoints) await e.stop();
    await prometheus?.stop();
    operatorServer.close();
    for (const ns of [NAMESPACE, BROKEN]) kubectlWith(undefined, undefined, "delete", "namespace", ns, "--wait=false");
  });

  it("the series carry the labels prometheus-operator's relabelling gives them; the pods serve none of those", async () => {
    expect(prometheus.warnings()).toBe("");
    expect(prometheus.config()).toContain(`job_name: podMonitor/${NAMESPACE}/${QUEUE_MANAGER}/0`);
    const series = await prometheusApi<Record<string, string>[]>(
      prometheus.url,
      `/api/v1/series?match[]=${encodeURIComponent(`http_requests_total{namespace="${NAMESPACE}", status="2xx", pod="${QUEUE_MANAGER}-healthy"}`)}`,
    );
    expect(series).toHaveLength(1);
    const address = kubectl("get", "pod", `${QUEUE_MANAGER}-healthy`, "-n", NAMESPACE, "-o", "json");
    const instance = JSON.parse(address).metadata.annotations[LOCAL_ADDRESS_ANNOTATION] as string;
    expect(series[0]).toEqual({
      __name__: "http_requests_total",
      handler: "/queues",
      method: "POST",
      status: "2xx",
      // From the relabelling (promcfg.go generatePodMonitorConfig):
      job: `${NAMESPACE}/${QUEUE_MANAGER}`,
      namespace: NAMESPACE,
      pod: `${QUEUE_MANAGER}-healthy`,
      container: QUEUE_MANAGER,
      endpoint: "http",
      [POD_TEMPLATE_HASH_SERIES_LABEL]: "healthy",
      instance,
    });
    // What the pod itself serves: the application's labels only.
    const raw = await (await fetch(`http://${instance}/metrics`)).text();
    expect(raw).toContain('http_requests_total{handler="/queues",method="POST",status="2xx"}');
    expect(raw).not.toMatch(/namespace=|rollouts_pod_template_hash=|job=/);
  });

  it("a PodMonitor whose relabelling misses the hash label: its pods are scraped, yet every canary query is empty (Inconclusive)", async () => {
    const scraped = await until("the broken PodMonitor's pod scraped", async () => {
      const up = await query(`up{namespace="${BROKEN}"} == 1`);
      return up.length > 0 ? up : undefined;
    });
    expect(scraped).toEqual([1]);
    expect((await query(`http_requests_total{namespace="${BROKEN}"}`)).length).toBeGreaterThan(0);
    expect(await query(`http_requests_total{namespace="${BROKEN}", ${POD_TEMPLATE_HASH_SERIES_LABEL}!=""}`)).toEqual([]);
    expect(await phaseOf("error-rate", { "canary-hash": "healthy" }, BROKEN)).toEqual({ phase: "Inconclusive", result: [] });
    expect((await phaseOf("p95", { "canary-hash": "healthy" }, BROKEN)).phase).toBe("Inconclusive");
    // The same pods through the program's PodMonitor: the analysis sees them.
    expect((await phaseOf("error-rate", { "canary-hash": "healthy" })).phase).toBe("Successful");
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
    registerOperator(operatorPort);
    await waitForScrapes(["self-healing-operator"]);
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
