/**
 * The chaos drill: the engines `render` writes for a stack (and the worker engines a run creates),
 * carried out against real pieces on this machine, their probes evaluated with Litmus's semantics
 * against the real Prometheus and API server. No Litmus controller runs here, so the drill plays
 * its part: it deletes the pods an engine names, slows the path to Kafka as pod-network-latency
 * would, and kills the broker an engine names.
 *
 *   npm run drill [-- --stack local] [--only <scenario> ...]
 *
 * Needs the local platform up (its env loaded) and the operator built. Prints a table (scenario,
 * hypothesis, observed, verdict), writes out/chaos-drill/result.json, exits 1 on any failed
 * hypothesis.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseCommittedStack, renderStack } from "../../infra/render/render";
import { type LaunchTarget, clientKube, engineFor } from "../launch";
import { BROKER_FAILURE_ENGINE, type WorkerScenario, brokerPodName } from "../spec";
import { type EngineProbe, type ProbeVerdict, runWithProbes } from "./probes";
import {
  LOG_DIR,
  type OperatorProcess,
  apply,
  kubectl,
  promQuery,
  realBackend,
  scrape,
  sleep,
  startKafkaCluster,
  startOperator,
  startToxiproxy,
} from "./pieces";
import {
  type SimulatedWorkers,
  createTopics,
  deleteTopics,
  queueManagerJob,
  simulateWorkers,
  streamCheck,
  streamHypotheses,
} from "./traffic";

export interface Row {
  readonly scenario: string;
  readonly hypothesis: string;
  readonly observed: string;
  readonly passed: boolean;
}

/** Silence longer than this makes the drill's operator relaunch a Job: shorter than every fault, so a real gap in the events would show. */
const STUCK_AFTER_MS = 20_000;
const POLICY = {
  targets: Object.fromEntries(
    ["loader-producer", "arango-connector"].map((t) => [
      t,
      { stuckAfterMs: STUCK_AFTER_MS, startGraceMs: STUCK_AFTER_MS, adaptive: false, minStuckAfterMs: STUCK_AFTER_MS },
    ]),
  ),
  // Two Jobs silent together are not a mass silence here: nothing holds a relaunch back.
  massSilence: { minJobs: 100, fraction: 1 },
};
const OPERATOR_METRICS_PORT = 19480;
const OPERATOR_HEALTH_PORT = 19481;
const RELAUNCHED = "streamforge_operator_relaunches_total";

interface Engine {
  metadata: { name: string };
  spec: {
    selectors?: { pods?: { namespace: string; names: string }[] };
    experiments: { spec: { components: { env: { name: string; value: string }[] }; probe: EngineProbe[] } }[];
  };
}
const envOf = (e: Engine) => Object.fromEntries(e.spec.experiments[0]!.spec.components.env.map((v) => [v.name, v.value]));
const probesOf = (e: Engine) => e.spec.experiments[0]!.spec.probe;
const targetsOf = (e: Engine) => (e.spec.selectors?.pods ?? []).flatMap((p) => p.names.split(","));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const probeRows = (scenario: string, verdicts: ProbeVerdict[]): Row[] =>
  verdicts.map((v) => ({
    scenario,
    hypothesis: `probe ${v.name} (${v.mode})`,
    observed: `${v.checks} checks; ${v.passed ? "last" : "failed at"}: ${v.observed}`,
    passed: v.passed,
  }));

async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(500);
  }
  return undefined;
}

interface World {
  readonly target: LaunchTarget;
  readonly kube: Awaited<ReturnType<typeof clientKube>>;
  readonly operator: OperatorProcess;
  readonly workers: SimulatedWorkers;
  readonly jobs: { queueId: string; job: string; scenario: WorkerScenario }[];
  /** This run's topic for the acks=all stream (the cluster's data outlives a run). */
  readonly streamTopic: string;
}

/** "No healthy Job is relaunched" over `during`: the operator's own count of relaunches, any reason. */
async function noRelaunch<T>(world: World, during: () => Promise<T>): Promise<{ result: T; relaunched: number }> {
  const before = await world.operator.metric(RELAUNCHED);
  const result = await during();
  return { result, relaunched: (await world.operator.metric(RELAUNCHED)) - before };
}

async function podDelete(world: World, scenario: "loader-pod-delete" | "arango-connector-pod-delete"): Promise<Row[]> {
  const { target, kube, workers } = world;
  const job = world.jobs.find((j) => j.scenario === scenario)!;
  const engine = engineFor(scenario, target, await kube.listPods(target.appsNamespace), new Date()) as unknown as Engine;
  const env = envOf(engine);
  const pods = targetsOf(engine);
  const settings =
    scenario === "loader-pod-delete" ? target.chaos.scenarios.loaderPodDelete : target.chaos.scenarios.arangoConnectorPodDelete;
  const other = world.jobs.filter((j) => j !== job).map((j) => j.job);
  const { verdicts, figures } = await runWithProbes(
    probesOf(engine),
    realBackend,
    async () => {
      const start = Date.now();
      // FORCE=true: grace period 0, as Litmus deletes them.
      for (const pod of pods)
        await kubectl("delete", "pod", pod, "-n", target.appsNamespace, "--grace-period=0", "--force", "--wait=false");
      const replaced = await waitFor(async () => {
        const now = await kube.listPods(target.appsNamespace);
        const fresh = now.find((p) => p.ownerJob?.startsWith(job.job) && p.phase === "Running" && !p.deleting && !pods.includes(p.name));
        return fresh ? Date.now() : undefined;
      }, settings.recoverWithinSeconds * 1000);
      const resumed =
        replaced &&
        (await waitFor(
          () => ((workers.lastAcked.get(job.queueId) ?? 0) > replaced ? workers.lastAcked.get(job.queueId) : undefined),
          settings.recoverWithinSeconds * 1000,
        ));
      await sleep(Math.max(0, Number(env["TOTAL_CHAOS_DURATION"]) * 1000 - (Date.now() - start)));
      return { start, resumed };
    },
    sleep,
  );
  const backMs = figures.resumed ? figures.resumed - figures.start : undefined;
  return [
    ...probeRows(scenario, verdicts),
    {
      scenario,
      hypothesis: `only ${job.job}'s pods are hit (never ${other.join(", ")}, queue-manager, the operator or Kafka)`,
      observed: pods.join(", "),
      passed: pods.length > 0 && pods.every((p) => p.startsWith(`${job.job}-`)),
    },
    {
      scenario,
      hypothesis: `the work resumes within ${settings.recoverWithinSeconds} s (a new pod Running, its progress acknowledged)`,
      observed: backMs === undefined ? "not back" : `back after ${seconds(backMs)}`,
      passed: backMs !== undefined && backMs <= settings.recoverWithinSeconds * 1000,
    },
  ];
}

async function networkLatency(world: World, toxiproxy: Awaited<ReturnType<typeof startToxiproxy>>): Promise<Row[]> {
  const { target, kube, workers } = world;
  const scenario = "worker-network-latency";
  const engine = engineFor(scenario, target, await kube.listPods(target.appsNamespace), new Date()) as unknown as Engine;
  const env = envOf(engine);
  const [latency, jitter, duration] = ["NETWORK_LATENCY", "JITTER", "TOTAL_CHAOS_DURATION"].map((k) => Number(env[k]));
  const ackedBefore = workers.stats.acked;
  workers.stats.maxAckMs = 0;
  const { result, relaunched } = await noRelaunch(world, () =>
    runWithProbes(
      probesOf(engine),
      realBackend,
      async () => {
        // Every named worker at once, as the engine's SEQUENCE=parallel has Litmus do it.
        await toxiproxy.addLatency(latency!, jitter!);
        try {
          await sleep(duration! * 1000);
        } finally {
          await toxiproxy.clearLatency();
        }
        return { acked: workers.stats.acked - ackedBefore, slowest: workers.stats.maxAckMs };
      },
      sleep,
    ),
  );
  return [
    ...probeRows(scenario, result.verdicts),
    {
      scenario,
      hypothesis: `the slowed path is really slow: a progress event takes at least ${latency} ms to be acknowledged`,
      observed: `slowest acknowledgement ${result.figures.slowest} ms`,
      passed: result.figures.slowest >= latency!,
    },
    {
      scenario,
      hypothesis: "events keep flowing under latency",
      observed: `${result.figures.acked} progress events acknowledged in ${duration} s`,
      passed: result.figures.acked > 0,
    },
    { scenario, hypothesis: "no healthy Job is relaunched", observed: `${relaunched} relaunches`, passed: relaunched === 0 },
  ];
}

async function brokerFailure(
  world: World,
  engine: Engine,
  cluster: ReturnType<typeof startKafkaCluster>,
  clusterName: string,
  pool: string,
) {
  const scenario = BROKER_FAILURE_ENGINE;
  const env = envOf(engine);
  const ids = targetsOf(engine).map((name) => {
    const id = [0, 1, 2].find((i) => brokerPodName(clusterName, pool, i) === name);
    if (id === undefined) throw new Error(`${scenario} names ${name}, which is no broker of the local three-node cluster`);
    return id;
  });
  const prometheus = world.target.chaos.prometheusAddress;
  const recoverWithinMs = world.target.chaos.scenarios.brokerFailure!.recoverWithinSeconds * 1000;
  const underReplicated = async () => (await promQuery(prometheus, "sum(kafka_server_replicamanager_underreplicatedpartitions)"))[0];
  const stream = await streamCheck(cluster.bootstrap, world.streamTopic, cluster.libs);
  await sleep(3000);
  const [duration, interval] = [Number(env["TOTAL_CHAOS_DURATION"]) * 1000, Number(env["CHAOS_INTERVAL"]) * 1000];
  const { result, relaunched } = await noRelaunch(world, () =>
    runWithProbes(
      probesOf(engine),
      realBackend,
      async () => {
        const start = Date.now();
        const kills: { felt?: number; down: number; recovered?: number }[] = [];
        // Rounds every CHAOS_INTERVAL until TOTAL_CHAOS_DURATION; targets one after the other
        // (SEQUENCE=serial). A SIGKILL is FORCE=true. The drill then plays Strimzi, which starts
        // the pod again: once Prometheus shows the loss (partitions under-replicated), as a pod
        // takes a while to come back; then it waits for the cluster to heal.
        for (let round = start; round - start < duration; round += interval) {
          await sleep(Math.max(0, round - Date.now()));
          for (const id of ids) {
            const killed = Date.now();
            cluster.kill(id);
            const felt = await waitFor(async () => ((await underReplicated()) ?? 0) > 0 || undefined, 30_000);
            cluster.start(id);
            const back = Date.now();
            const recovered = await waitFor(async () => ((await underReplicated()) === 0 ? Date.now() : undefined), recoverWithinMs);
            kills.push({ felt: felt ? back - killed : undefined, down: back - killed, recovered: recovered && recovered - back });
          }
        }
        await sleep(Math.max(0, start + duration - Date.now()));
        return kills;
      },
      sleep,
    ),
  );
  const s = await stream.stop();
  const kills = result.figures;
  const list = (values: (number | undefined)[]) => values.map((v) => (v === undefined ? "never" : seconds(v))).join(", ");
  return [
    ...probeRows(scenario, result.verdicts),
    {
      scenario,
      hypothesis: `brokers ${ids.join(", ")} killed (SIGKILL) one at a time, and the loss is seen (partitions under-replicated)`,
      observed: `${kills.length} kills; down ${list(kills.map((k) => k.down))}`,
      passed: kills.length > 0 && kills.every((k) => k.felt !== undefined),
    },
    ...streamHypotheses(s).map((h) => ({ scenario, ...h })),
    {
      scenario,
      hypothesis: `under-replicated partitions return to 0 within ${recoverWithinMs / 1000} s of the broker's return`,
      observed: `after ${list(kills.map((k) => k.recovered))}`,
      passed: kills.length > 0 && kills.every((k) => k.recovered !== undefined),
    },
    { scenario, hypothesis: "no healthy Job is relaunched", observed: `${relaunched} relaunches`, passed: relaunched === 0 },
  ];
}

/** The control: the same operator, thresholds and workers do relaunch a Job that really goes silent, so "no relaunch" above meant something. */
async function detectorLive(world: World): Promise<Row[]> {
  const job = world.jobs[0]!;
  const before = await world.operator.metric(RELAUNCHED, { reason: "stuck", result: "created" });
  const silencedAt = Date.now();
  world.workers.silence(job.queueId);
  const relaunchedAt = await waitFor(
    async () => ((await world.operator.metric(RELAUNCHED, { reason: "stuck", result: "created" })) > before ? Date.now() : undefined),
    STUCK_AFTER_MS + 60_000,
  );
  return [
    {
      scenario: "control",
      hypothesis: `a worker that really goes silent is relaunched (stuck after ${STUCK_AFTER_MS / 1000} s)`,
      observed: relaunchedAt ? `${job.job} relaunched ${seconds(relaunchedAt - silencedAt)} after its events stopped` : "not relaunched",
      passed: relaunchedAt !== undefined,
    },
  ];
}

export function table(rows: readonly Row[]): string {
  const head = ["scenario", "hypothesis", "observed", "verdict"];
  const cells = rows.map((r) => [r.scenario, r.hypothesis, r.observed, r.passed ? "PASS" : "FAIL"]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(" | ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...cells.map(line)].join("\n");
}

/** Runs the scenarios (all, or those in `only`) of the stack's engines; returns one row per hypothesis. */
async function drill(stack: string, only?: readonly string[]): Promise<Row[]> {
  const config = parseCommittedStack(stack);
  const chaos = config.chaos;
  if (!chaos?.enabled) throw new Error(`Stack ${stack} runs no chaos: streamforge:chaos.enabled is not true`);
  const broker = chaos.scenarios.brokerFailure;
  if (!broker?.enabled) throw new Error(`Stack ${stack} declares no broker failure scenario (streamforge:chaos.scenarios.brokerFailure)`);
  const promUrl = process.env.PROMETHEUS_URL?.replace(/\/$/, "");
  if (promUrl !== chaos.prometheusAddress.replace(/\/$/, ""))
    throw new Error(
      `The engines query ${chaos.prometheusAddress}, the local Prometheus is ${promUrl ?? "not running"}: the probes would ask the wrong server`,
    );
  const { manifests } = await renderStack(stack);
  const brokerEngine = manifests.find((m) => m.kind === "ChaosEngine" && m.metadata.name === BROKER_FAILURE_ENGINE) as unknown as
    Engine | undefined;
  if (!brokerEngine) throw new Error(`render --stack ${stack} wrote no ${BROKER_FAILURE_ENGINE} engine`);

  const apps = config.apps.namespace;
  const topic = "queue-events";
  const events = config.catalogue.topics[topic];
  const cleanups: (() => unknown)[] = [];
  try {
    const cluster = startKafkaCluster();
    cleanups.push(() => cluster.stop());
    cleanups.push(scrape("kafka", cluster.metrics));
    const toxiproxy = await startToxiproxy(cluster.proxies);
    cleanups.push(() => toxiproxy.stop());
    const { factor, minInSyncReplicas } = config.kafka.replication;
    const stamp = Date.now().toString(36);
    const streamTopic = `drill-stream-${stamp}`;
    await createTopics(cluster.bootstrap, [
      { topic, partitions: events?.partitions ?? 3, replicationFactor: factor, minInSync: minInSyncReplicas },
      { topic: streamTopic, partitions: 3, replicationFactor: factor, minInSync: minInSyncReplicas },
    ]);
    cleanups.push(() => deleteTopics(cluster.bootstrap, [streamTopic]));

    const kube = await clientKube(process.env.KUBECONFIG, undefined);
    const created = await kubectl("create", "namespace", apps).then(
      () => true,
      () => false,
    );
    const jobs = [
      { queueId: `drill-${stamp}-a`, target: "loader-producer", scenario: "loader-pod-delete" as const },
      { queueId: `drill-${stamp}-b`, target: "arango-connector", scenario: "arango-connector-pod-delete" as const },
    ].map((j) => ({ ...j, job: `${j.queueId}-${j.target}` }));
    for (const j of jobs) await apply(queueManagerJob(j.queueId, j.target, apps));
    cleanups.push(() =>
      created
        ? kubectl("delete", "namespace", apps, "--wait=false")
        : Promise.all(
            jobs.map((j) => kubectl("delete", "jobs", "-n", apps, "--ignore-not-found", "--wait=false", ...[j.job, `${j.job}-r1`])),
          ),
    );

    const operator = startOperator({
      namespace: apps,
      brokers: cluster.proxied,
      topic,
      policy: POLICY,
      metricsPort: OPERATOR_METRICS_PORT,
      healthPort: OPERATOR_HEALTH_PORT,
    });
    cleanups.push(() => operator.stop());
    cleanups.push(scrape("self-healing-operator", [operator.metricsAddress]));
    const workers = await simulateWorkers(kube, apps, cluster.proxied, topic, jobs);
    cleanups.push(() => workers.stop());

    // Running before any fault: every worker acknowledged, the operator consuming, three brokers scraped.
    // The steady state every hypothesis starts from (the operator reports its source unhealthy
    // for a while after any consumer error, such as a coordinator still being elected).
    const ready = await waitFor(async () => {
      const [scraped] = await promQuery(chaos.prometheusAddress, 'count(up{job="kafka"} == 1)');
      const [consumed] = await promQuery(chaos.prometheusAddress, "sum(streamforge_operator_events_total)");
      const [healthy] = await promQuery(chaos.prometheusAddress, "max(streamforge_operator_event_source_healthy)");
      const all = jobs.every((j) => workers.lastAcked.has(j.queueId)) && scraped === 3 && (consumed ?? 0) > 0 && healthy === 1;
      return all ? true : undefined;
    }, 180_000);
    const rows: Row[] = [
      {
        scenario: "setup",
        hypothesis: "steady state: 3 brokers scraped, workers acknowledged, the operator consuming and healthy",
        observed: ready ? `${jobs.length} Jobs, ${workers.stats.acked} events acknowledged` : "not within 180 s",
        passed: ready === true,
      },
    ];
    if (!ready) return rows;
    const target: LaunchTarget = {
      chaos,
      appsNamespace: apps,
      kafkaNamespace: config.kafka.namespace,
      clusterName: config.kafka.clusterName,
      kafkaHosts: cluster.proxied.map((a) => a.split(":")[0]!),
    };
    const world: World = { target, kube, operator, workers, jobs, streamTopic };
    const scenarios: Record<string, () => Promise<Row[]>> = {
      "loader-pod-delete": () => podDelete(world, "loader-pod-delete"),
      "arango-connector-pod-delete": () => podDelete(world, "arango-connector-pod-delete"),
      "worker-network-latency": () => networkLatency(world, toxiproxy),
      [BROKER_FAILURE_ENGINE]: () => brokerFailure(world, brokerEngine, cluster, config.kafka.clusterName, broker.pool),
      control: () => detectorLive(world),
    };
    for (const [name, runScenario] of Object.entries(scenarios)) if (!only || only.includes(name)) rows.push(...(await runScenario()));
    return rows;
  } finally {
    for (const c of cleanups.reverse())
      await Promise.resolve(c()).catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stack: { type: "string", default: "local" }, only: { type: "string", multiple: true } } });
  const t0 = Date.now();
  const rows = await drill(values.stack, values.only);
  console.log(table(rows));
  const failed = rows.filter((r) => !r.passed).length;
  console.log(`\nchaos drill: ${rows.length - failed} hypotheses held, ${failed} failed, in ${seconds(Date.now() - t0)}`);
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(path.join(LOG_DIR, "result.json"), JSON.stringify({ rows, seconds: (Date.now() - t0) / 1000 }, null, 2));
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`chaos drill: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
