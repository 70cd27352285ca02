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
import { BROKER_FAILURE_ENGINE, RELAUNCHES, type WorkerScenario, brokerPodName, relaunchProbeWindowSeconds } from "../spec";
import { serialPodDelete } from "./engines";
import { within } from "../../operator/testkit/wait";
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
  watchUnderReplicated,
} from "./traffic";

export interface Row {
  readonly scenario: string;
  readonly hypothesis: string;
  readonly observed: string;
  readonly passed: boolean;
  /** What Litmus does for this hypothesis, at litmus-go 3.28.0. */
  readonly engine?: string;
  /** What the drill did in its place. */
  readonly drill?: string;
}

/** Gives every row without its own the scenario's account of the fault. */
const told = (rows: Row[], fault: { engine: string; drill: string }): Row[] =>
  rows.map((r) => ({ ...r, engine: r.engine ?? fault.engine, drill: r.drill ?? fault.drill }));

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
    engine:
      v.mode === "Continuous" || v.mode === "OnChaos"
        ? "litmus-go polls it back to back (no probePollingInterval) while the fault runs, until its first failure"
        : `litmus-go checks it ${v.mode === "SOT" ? "before" : "after"} the fault, with its attempts`,
    drill: "the same polling, each promProbe through /bin/sh -c and promql 3.0.0-beta6, each k8sProbe as a LIST on the real API server",
  }));

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
      const replaced = await within(
        "a replacement worker pod Running",
        async () => {
          const now = await kube.listPods(target.appsNamespace);
          const fresh = now.find((p) => p.ownerJob?.startsWith(job.job) && p.phase === "Running" && !p.deleting && !pods.includes(p.name));
          return fresh ? Date.now() : undefined;
        },
        settings.recoverWithinSeconds * 1000,
        500,
      );
      const resumed =
        replaced &&
        (await within(
          "the replacement worker acknowledging work",
          () => ((workers.lastAcked.get(job.queueId) ?? 0) > replaced ? workers.lastAcked.get(job.queueId) : undefined),
          settings.recoverWithinSeconds * 1000,
          500,
        ));
      await sleep(Math.max(0, Number(env["TOTAL_CHAOS_DURATION"]) * 1000 - (Date.now() - start)));
      return { start, resumed };
    },
    sleep,
  );
  const backMs = figures.resumed ? figures.resumed - figures.start : undefined;
  return told(
    [
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
    ],
    {
      engine: `pod-delete: deletes ${pods.join(", ")} with grace 0, one round (CHAOS_INTERVAL = TOTAL_CHAOS_DURATION = ${env["TOTAL_CHAOS_DURATION"]} s), no health check of the deleted names (DEFAULT_HEALTH_CHECK false)`,
      drill: "kubectl delete --grace-period=0 --force of the same pods; the real Job controller makes the replacement and kwok runs it",
    },
  );
}

async function networkLatency(world: World, toxiproxy: Awaited<ReturnType<typeof startToxiproxy>>): Promise<Row[]> {
  const { target, kube, workers } = world;
  const scenario = "worker-network-latency";
  const engine = engineFor(scenario, target, await kube.listPods(target.appsNamespace), new Date()) as unknown as Engine;
  const env = envOf(engine);
  const [latency, jitter, duration] = ["NETWORK_LATENCY", "JITTER", "TOTAL_CHAOS_DURATION"].map((k) => Number(env[k]));
  const targets = targetsOf(engine);
  const ackedBefore = workers.stats.acked;
  workers.stats.maxAckMs = 0;
  const { result, relaunched } = await noRelaunch(world, () =>
    runWithProbes(
      probesOf(engine),
      realBackend,
      async () => {
        // Every named worker at once, as the engine's SEQUENCE=parallel has Litmus do it, and
        // only them: the other workers and the operator keep the direct path.
        workers.route(new Set(world.jobs.filter((j) => targets.some((p) => p.startsWith(`${j.job}-`))).map((j) => j.queueId)));
        await toxiproxy.addLatency(latency!, jitter!);
        try {
          await sleep(duration! * 1000);
        } finally {
          await toxiproxy.clearLatency();
          workers.route(new Set());
        }
        return { acked: workers.stats.acked - ackedBefore, slowest: workers.stats.maxAckMs };
      },
      sleep,
    ),
  );
  return told(
    [
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
    ],
    {
      engine: `pod-network-latency: netem ${latency} ms ± ${jitter} ms on the egress of ${targets.join(", ")} towards DESTINATION_HOSTS, all at once, ${duration} s`,
      drill: `Toxiproxy latency on the upstream stream of the brokers' proxies, with only the targets' Jobs (${targets.length}) routed through them; other workers and the operator direct`,
    },
  );
}

async function brokerFailure(
  world: World,
  engine: Engine,
  cluster: ReturnType<typeof startKafkaCluster>,
  clusterName: string,
  pool: { name: string; storage: string },
) {
  const scenario = BROKER_FAILURE_ENGINE;
  const env = envOf(engine);
  const ids = targetsOf(engine).map((name) => {
    const id = [0, 1, 2].find((i) => brokerPodName(clusterName, pool.name, i) === name);
    if (id === undefined) throw new Error(`${scenario} names ${name}, which is no broker of the local three-node cluster`);
    return id;
  });
  // A pod with ephemeral storage (Strimzi's emptyDir) comes back empty; persistent claims keep the data.
  const empty = pool.storage === "ephemeral";
  const prometheus = world.target.chaos.prometheusAddress;
  const recoverWithinMs = world.target.chaos.scenarios.brokerFailure!.recoverWithinSeconds * 1000;
  const underReplicated = async () => (await promQuery(prometheus, "sum(kafka_server_replicamanager_underreplicatedpartitions)"))[0];
  const stream = await streamCheck(cluster.bootstrap, world.streamTopic, cluster.libs);
  const isr = watchUnderReplicated(cluster.bootstrap);
  await within("the witness stream's first acknowledgement", () => (stream.acked.size > 0 ? true : undefined), 30_000, 500);
  const [duration, interval] = [Number(env["TOTAL_CHAOS_DURATION"]) * 1000, Number(env["CHAOS_INTERVAL"]) * 1000];
  let maxUnderReplicated = 0;
  let underReplicatedNow = 0;
  let sampling = true;
  // The loss is seen: under-replicated partitions sampled while the fault runs, never waited for.
  const sampler = (async () => {
    while (sampling) {
      underReplicatedNow = (await underReplicated().catch(() => 0)) ?? 0;
      maxUnderReplicated = Math.max(maxUnderReplicated, underReplicatedNow);
      await sleep(1000);
    }
  })();
  const { result, relaunched } = await noRelaunch(world, () =>
    runWithProbes(
      probesOf(engine),
      realBackend,
      async () => {
        const start = Date.now();
        const atKill: number[] = [];
        // As litmus-go's serial pod-delete (drill/engines.ts); a SIGKILL is FORCE=true.
        const kills = await serialPodDelete(ids, duration, interval, {
          now: Date.now,
          sleep,
          kill: (id) => {
            atKill.push(underReplicatedNow);
            cluster.kill(id);
            return cluster.startAsync(id, empty);
          },
        });
        return {
          kills: kills.map((k, i) => ({ ...k, underReplicated: atKill[i]! })),
          lastBack: start + Math.max(...kills.map((k) => k.at + k.back)),
        };
      },
      sleep,
    ),
  );
  sampling = false;
  await sampler;
  await isr.stop();
  const recovered = await within(
    "no under-replicated partition",
    async () => ((await underReplicated()) === 0 ? Date.now() : undefined),
    recoverWithinMs,
    500,
  );
  const s = await stream.stop();
  const { kills, lastBack } = result.figures;
  return told(
    [
      ...probeRows(scenario, result.verdicts),
      {
        scenario,
        hypothesis: `brokers ${ids.join(", ")} killed (SIGKILL) every CHAOS_INTERVAL (${interval / 1000} s) for ${duration / 1000} s, without waiting for recovery, and the loss is seen`,
        observed: `${kills.length} kills at ${kills.map((k) => seconds(k.at)).join(", ")}; back (${empty ? "on empty storage, as the pool's ephemeral storage" : "on its data"}) after ${kills.map((k) => seconds(k.back)).join(", ")}; under-replicated partitions up to ${isr.max()} in the cluster's metadata (read every 250 ms), up to ${maxUnderReplicated} in Prometheus (scraped every 5 s), at each kill ${kills.map((k) => k.underReplicated).join(", ")}`,
        // Kafka's own metadata is the witness: a scrape every 5 s can fall between a fast restart's ISR shrink and its catch-up.
        passed: kills.length > 0 && isr.max() > 0,
        engine: `pod-delete serial: delete ${targetsOf(engine).join(", ")} (grace 0), wait ${interval / 1000} s, wait for the pod Running, again until ${duration / 1000} s`,
        drill: `SIGKILL node ${ids.join(", ")}, restarted at once ${empty ? "on empty storage" : "on its data"}, next kill after the interval and the restart, never after the partitions caught up`,
      },
      ...streamHypotheses(s).map((h) => ({ scenario, ...h })),
      {
        scenario,
        hypothesis: `under-replicated partitions return to 0 within ${recoverWithinMs / 1000} s of the fault's end`,
        observed: recovered ? `after ${seconds(recovered - lastBack)} from the last return` : "not back to 0",
        passed: recovered !== undefined,
      },
      { scenario, hypothesis: "no healthy Job is relaunched", observed: `${relaunched} relaunches`, passed: relaunched === 0 },
    ],
    {
      engine: `pod-delete serial on ${targetsOf(engine).join(", ")}; Strimzi recreates the pod ${empty ? "on an empty emptyDir" : "on its volume"}`,
      drill: `SIGKILL and restart of node ${ids.join(", ")} ${empty ? "on empty storage" : "on its data"}, kills on the engine's interval; an idempotent Java producer (acks=all) and a consumer group as witnesses`,
    },
  );
}

/** The control: the same operator, thresholds and workers do relaunch a Job that really goes silent, so "no relaunch" above meant something. */
async function detectorLive(world: World): Promise<Row[]> {
  const job = world.jobs[0]!;
  const before = await world.operator.metric(RELAUNCHED, { reason: "stuck", result: "created" });
  const silencedAt = Date.now();
  world.workers.silence(job.queueId);
  const relaunchedAt = await within(
    "the operator relaunching the silent worker",
    async () => ((await world.operator.metric(RELAUNCHED, { reason: "stuck", result: "created" })) > before ? Date.now() : undefined),
    STUCK_AFTER_MS + 60_000,
    500,
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
  const told = rows
    .filter((r) => r.engine || r.drill)
    .map((r) => `[${r.scenario}] ${r.hypothesis}\n    engine: ${r.engine ?? "-"}\n    drill:  ${r.drill ?? "-"}`);
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("-|-"),
    ...cells.map(line),
    ...(told.length ? ["", "What the engine does, and what the drill did, per hypothesis:", ...told] : []),
  ].join("\n");
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

  const stamp = Date.now().toString(36);
  // A namespace of the drill's own: the local platform's API server is shared, and its operator
  // relaunches any silent Job in the namespace it watches (it once relaunched a leftover Job of
  // someone else's in the stack's apps namespace, which the relaunch probes then counted).
  const apps = `${config.apps.namespace}-drill-${stamp}`;
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
    const streamTopic = `drill-stream-${stamp}`;
    await createTopics(cluster.bootstrap, [
      { topic, partitions: events?.partitions ?? 3, replicationFactor: factor, minInSync: minInSyncReplicas },
      { topic: streamTopic, partitions: 3, replicationFactor: factor, minInSync: minInSyncReplicas },
    ]);
    cleanups.push(() => deleteTopics(cluster.bootstrap, [streamTopic]));

    const kube = await clientKube(process.env.KUBECONFIG, undefined);
    await kubectl("create", "namespace", apps);
    cleanups.push(() => kubectl("delete", "namespace", apps, "--wait=false"));
    const jobs = [
      { queueId: `drill-${stamp}-a`, target: "loader-producer", scenario: "loader-pod-delete" as const },
      { queueId: `drill-${stamp}-b`, target: "arango-connector", scenario: "arango-connector-pod-delete" as const },
    ].map((j) => ({ ...j, job: `${j.queueId}-${j.target}` }));
    for (const j of jobs) await apply(queueManagerJob(j.queueId, j.target, apps));

    const operator = startOperator({
      namespace: apps,
      // Never a latency target: straight to the brokers.
      brokers: cluster.bootstrap,
      topic,
      policy: POLICY,
      metricsPort: OPERATOR_METRICS_PORT,
      healthPort: OPERATOR_HEALTH_PORT,
    });
    cleanups.push(() => operator.stop());
    cleanups.push(scrape("self-healing-operator", [operator.metricsAddress]));
    const workers = await simulateWorkers(kube, apps, { direct: cluster.bootstrap, proxied: cluster.proxied }, topic, jobs);
    cleanups.push(() => workers.stop());

    // Running before any fault: every worker acknowledged, the operator consuming, three brokers scraped.
    // The steady state every hypothesis starts from (the operator reports its source unhealthy
    // for a while after any consumer error, such as a coordinator still being elected).
    // The probes sum relaunches over every operator the shared Prometheus scraped (as on a real
    // cluster, where there is one): faults start only once no other operator's relaunch sample,
    // such as an earlier test's refused step, is left inside the probes' longest window.
    const self = `instance="${operator.metricsAddress}"`;
    const window = relaunchProbeWindowSeconds(chaos.scenarios);
    const others = `count(count_over_time(${RELAUNCHES}{instance!="${operator.metricsAddress}"}[${window}s])) or vector(0)`;
    const steadyWithinMs = (window + 180) * 1000;
    let lastSeen = "nothing read yet";
    const ready = await within(
      "the steady state",
      async () => {
        const [scraped] = await promQuery(chaos.prometheusAddress, 'count(up{job="kafka"} == 1)');
        const [consumed] = await promQuery(chaos.prometheusAddress, `sum(streamforge_operator_events_total{${self}})`);
        const [healthy] = await promQuery(chaos.prometheusAddress, `max(streamforge_operator_event_source_healthy{${self}})`);
        const [foreign] = await promQuery(chaos.prometheusAddress, others);
        const acked = jobs.filter((j) => workers.lastAcked.has(j.queueId)).length;
        lastSeen = `last seen: ${scraped ?? 0}/3 brokers scraped, ${acked}/${jobs.length} workers acknowledged, ${consumed ?? 0} events consumed, source healthy ${healthy ?? "unknown"}, ${foreign ?? "unknown"} other operators' relaunch series in the last ${window} s`;
        const all = acked === jobs.length && scraped === 3 && (consumed ?? 0) > 0 && healthy === 1 && foreign === 0;
        return all ? true : undefined;
      },
      steadyWithinMs,
      500,
    );
    const rows: Row[] = [
      {
        scenario: "setup",
        hypothesis: `steady state: 3 brokers scraped, workers acknowledged, the operator consuming and healthy, no other operator's relaunches in the probes' ${window} s window`,
        observed: ready
          ? `${jobs.length} Jobs, ${workers.stats.acked} events acknowledged`
          : `not within ${steadyWithinMs / 1000} s (${lastSeen})`,
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
      [BROKER_FAILURE_ENGINE]: () =>
        brokerFailure(world, brokerEngine, cluster, config.kafka.clusterName, {
          name: broker.pool,
          storage: config.kafka.nodePools.find((p) => p.name === broker.pool)!.storage.type,
        }),
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
