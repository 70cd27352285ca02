/**
 * Every probe of the engines, run as litmus-go 3.28.0 runs it, passing in a healthy world and
 * failing in a broken one:
 * - promProbes through `/bin/sh -c 'promql --host <endpoint> "<query>" --output csv'` with the
 *   promql CLI go-runner ships (local/promql.sh builds it), against a real Prometheus this test
 *   starts (fresh storage per world, so a counter's past cannot leak into the next world) scraping
 *   an exporter whose values the test sets;
 * - the k8sProbe work-resumed against the local platform's real API server, where kwok runs the
 *   pods, in a namespace of this test's own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { queueManagerJob } from "../../operator/testkit/queue-manager-job";
import { committedConfig } from "../../test/helpers";
import { eventually, kubectl, kubectlApply, pause, promQuery, requireEnv } from "../../test/integration/local-platform";
import { type EngineProbe, check, checkOnce } from "../drill/probes";
import { promqlBin, realBackend, shellPromQuery } from "../drill/pieces";
import { brokerFailureEngine, workerNetworkLatencyEngine, workerPodDeleteEngine } from "../spec";

// ---- the engines' promProbes -------------------------------------------------------------------

const local = committedConfig("local").chaos!;
function engineProbes(endpoint: string): EngineProbe[] {
  const ctx = { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: endpoint, appsNamespace: "stf" };
  const engines = [
    brokerFailureEngine(local.scenarios.brokerFailure!, ctx, [{ name: local.scenarios.brokerFailure!.pool, replicas: 3 }]),
    workerPodDeleteEngine("loader-pod-delete", local.scenarios.loaderPodDelete, ctx, ["q-loader-producer-x"], ["q-loader-producer"]),
    workerNetworkLatencyEngine(local.scenarios.networkLatency, { ...ctx, kafkaHosts: ["k"] }, ["q-loader-producer-x"]),
  ];
  return engines.flatMap((e) => e.spec.experiments[0]!.spec.probe as EngineProbe[]).filter((p) => p.type === "promProbe");
}

/** What the exporter serves: a healthy or a broken world. Counters move on every scrape where they should. */
function exporterBody(world: "healthy" | "broken", scrapes: number): string {
  const healthy = world === "healthy";
  return [
    `kafka_controller_kafkacontroller_offlinepartitionscount ${healthy ? 0 : 1}`,
    `kafka_server_replicamanager_underreplicatedpartitions ${healthy ? 0 : 2}`,
    `streamforge_operator_event_source_healthy ${healthy ? 1 : 0}`,
    `streamforge_operator_events_total ${healthy ? scrapes * 10 : 5}`,
    `streamforge_operator_relaunches_total{reason="stuck",result="created"} ${healthy ? 0 : scrapes}`,
    `streamforge_operator_relaunches_total{reason="faulty",result="error"} ${healthy ? 0 : scrapes}`,
    "",
  ].join("\n");
}

/** Debian's Prometheus, as local/prometheus.sh installed it. */
function prometheusBinary(): string {
  const cache = path.join(process.env.STREAMFORGE_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "streamforge"), "prometheus");
  const versions = readdirSync(cache).sort();
  if (versions.length === 0) throw new Error(`no Prometheus under ${cache}: run local/prometheus.sh install`);
  return path.join(cache, versions[versions.length - 1]!, "root", "usr", "bin", "prometheus");
}

interface World {
  readonly url: string;
  stop(): Promise<void>;
}

/** A Prometheus with empty storage scraping an exporter of `world` every second. */
async function startWorld(world: "healthy" | "broken"): Promise<World> {
  let scrapes = 0;
  const exporter: Server = createServer((_req, res) => {
    scrapes += 1;
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(exporterBody(world, scrapes));
  });
  await new Promise<void>((r) => exporter.listen(0, "127.0.0.1", r));
  const exporterPort = (exporter.address() as AddressInfo).port;
  const dir = mkdtempSync(path.join(tmpdir(), "chaos-probe-prom-"));
  writeFileSync(
    path.join(dir, "prometheus.yml"),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: world\n    static_configs: [{targets: ["127.0.0.1:${exporterPort}"]}]\n`,
  );
  // A free port: bind, read it, close, hand it to Prometheus.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const prom: ChildProcess = spawn(
    prometheusBinary(),
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (prom.exitCode === null && prom.signalCode === null) {
      const exited = new Promise<void>((r) => prom.once("exit", () => r()));
      prom.kill("SIGTERM");
      await exited;
    }
    await new Promise<void>((r) => exporter.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Enough samples for rate() and increase() over the probes' windows to see a change.
    await eventually(
      "Prometheus holding three samples of the exporter",
      async () => ((await promQuery(url, "count_over_time(streamforge_operator_events_total[1m])"))[0] ?? 0) >= 3 || undefined,
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

describe("promProbes through litmus-go's shell line and the promql CLI", () => {
  const PROMQL = promqlBin();
  const backend = { ...realBackend, promQuery: (endpoint: string, query: string) => shellPromQuery(PROMQL, endpoint, query) };
  const worlds: World[] = [];
  afterAll(async () => {
    for (const w of worlds) await w.stop();
  });

  it("a double-quoted label value, as two probes had it, breaks under the shell line and not over HTTP", async () => {
    const prometheus = requireEnv("PROMETHEUS_URL");
    const query = 'sum(increase(streamforge_operator_relaunches_total{result="error"}[60s])) or vector(0)';
    await expect(shellPromQuery(PROMQL, prometheus, query)).rejects.toThrow(/parse error/);
    await expect(promQuery(prometheus, query)).resolves.toEqual(expect.any(Array));
    // The same query in single quotes, as the engines now have it, runs.
    expect(await shellPromQuery(PROMQL, prometheus, query.replace(/"/g, "'"))).toEqual([0]);
  });

  it("every promProbe of the engines passes in a healthy world", async () => {
    const world = await startWorld("healthy");
    worlds.push(world);
    const probes = engineProbes(world.url);
    expect(probes.map((p) => p.name).sort()).toEqual(
      [
        "events-flowing",
        "no-failed-relaunch",
        "no-offline-partitions",
        "no-stuck-relaunch",
        "operator-healthy",
        "under-replicated-recovered",
      ].sort(),
    );
    const results = await Promise.all(probes.map(async (p) => [p.name, await checkOnce(p, backend)] as const));
    expect(results.filter(([, r]) => !r.ok)).toEqual([]);
  });

  it("every promProbe of the engines fails in a broken world", async () => {
    const world = await startWorld("broken");
    worlds.push(world);
    const results = await Promise.all(engineProbes(world.url).map(async (p) => [p.name, await checkOnce(p, backend)] as const));
    expect(results.filter(([, r]) => r.ok)).toEqual([]);
    // Each failed on its value, not on the shell line or the query.
    for (const [, r] of results) expect(r.observed).toMatch(/^-?\d+(\.\d+)?$/);
  });
});

// ---- the k8sProbe work-resumed ----------------------------------------------------------------

describe("the work-resumed k8sProbe against the real API server", () => {
  const ns = `chaos-probe-itest-${Date.now().toString(36)}`;
  const runningPods = (job: string) =>
    kubectl(
      "get",
      "pods",
      "-n",
      ns,
      "-l",
      `batch.kubernetes.io/job-name=${job}`,
      "--field-selector",
      "status.phase=Running",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    )
      .split(" ")
      .filter(Boolean);

  beforeAll(() => {
    requireEnv("KUBECONFIG");
    kubectl("create", "namespace", ns);
  });
  afterAll(() => {
    kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("fails while only the pod just hit ran, passes once the Job's replacement runs; another running Job does not pass it", async () => {
    const job = (queueId: string) =>
      queueManagerJob({
        queueId,
        target: "loader-producer",
        namespace: ns,
        image: "ghcr.io/olehkondratow/streamforge-loader-producer:1.0.0",
        env: [],
      });
    for (const q of ["hit", "other"]) kubectlApply(job(q));
    const [hit] = await eventually(
      "the hit Job's pod Running",
      async () => runningPods("hit-loader-producer")[0] && runningPods("hit-loader-producer"),
      120_000,
    );
    await eventually(
      "the other Job's pod Running",
      async () => (runningPods("other-loader-producer").length > 0 ? true : undefined),
      120_000,
    );

    const engine = workerPodDeleteEngine(
      "loader-pod-delete",
      local.scenarios.loaderPodDelete,
      { chaosNamespace: "chaos", kafkaNamespace: "kafka", clusterName: "k3", prometheusAddress: "http://unused", appsNamespace: ns },
      [hit!],
      ["hit-loader-producer"],
    );
    const probe = engine.spec.experiments[0]!.spec.probe.find((p: any) => p.name === "work-resumed") as EngineProbe;
    // Before the delete, the hit pod is the only Running pod of its Job, and it is excluded.
    expect(await checkOnce(probe, realBackend)).toEqual({ ok: false, observed: "0 pods" });
    // The probe it replaces passed on any unfinished Job in the namespace: here, with nothing back.
    const old = {
      ...probe,
      "k8sProbe/inputs": {
        group: "batch",
        version: "v1",
        resource: "jobs",
        namespace: ns,
        fieldSelector: "status.successful!=1",
        operation: "present",
      },
    };
    expect((await checkOnce(old, realBackend)).ok).toBe(true);

    kubectl("delete", "pod", hit!, "-n", ns, "--grace-period=0", "--force", "--wait=false");
    // The probe with its own attempts and interval, as litmus-go retries it.
    const result = await check(probe, realBackend, (ms) => pause("the probe's interval, as litmus-go waits it", ms));
    expect(result).toEqual({ ok: true, observed: "1 pods" });
  }, 300_000);
});
