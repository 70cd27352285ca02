/**
 * The real pieces the integration tier talks to: the local broker and API server, and the
 * operator run as a separate process the way operators are run during development.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { Kafka, type Producer, logLevel } from "kafkajs";
import { promQuery as promValues } from "../../testkit/prometheus.js";
import { consistently, eventually, pause } from "../../testkit/wait.js";
import { queueManagerJob as sharedQueueManagerJob } from "../sim.js";

export { eventually } from "../../testkit/wait.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const OPERATOR_DIR = resolve(HERE, "..", "..");
export const REPO_ROOT = resolve(OPERATOR_DIR, "..");

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `The integration tier needs ${name}: start the local platform (npm run local -- up) and load its env (eval "$(npm run --silent local -- env)")`,
    );
  return value;
}

export const env = {
  plainBootstrap: () => required("KAFKA_BOOTSTRAP_SERVERS"),
  /** SCRAM-SHA-512 over TLS, as the Strimzi cluster requires: what the operator and the workers use here. */
  tlsBootstrap: () => required("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS"),
  caPath: () => required("KAFKA_CA_PATH"),
  adminUser: () => required("KAFKA_ADMIN_USER"),
  adminPassword: () => required("KAFKA_ADMIN_PASSWORD"),
  kubeconfig: () => required("KUBECONFIG"),
  prometheus: () => required("PROMETHEUS_URL"),
};

/** Runs an instant query against the local Prometheus (the kit's client); the first sample's value, or undefined. */
export async function promQuery(query: string): Promise<number | undefined> {
  return (await promValues(env.prometheus(), query))[0];
}

export function kubeClients() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.kubeconfig());
  return { kc, batch: kc.makeApiClient(k8s.BatchV1Api), core: kc.makeApiClient(k8s.CoreV1Api) };
}

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function createNamespace(name: string): Promise<void> {
  await kubeClients().core.createNamespace({ body: { metadata: { name } } });
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubeClients()
    .core.deleteNamespace({ name })
    .catch(() => undefined);
}

/** A Job exactly as queue-manager's job_launcher creates it (shared with the unit tests' fake world). */
export function queueManagerJob(queueId: string, target: string): k8s.V1Job {
  return sharedQueueManagerJob(queueId, target) as k8s.V1Job;
}

export async function listJobs(namespace: string): Promise<k8s.V1Job[]> {
  return (await kubeClients().batch.listNamespacedJob({ namespace })).items.filter((j) => !j.metadata?.deletionTimestamp);
}

export async function createTopic(topic: string, partitions = 3): Promise<void> {
  const kafka = new Kafka({ clientId: "itest-admin", brokers: [env.plainBootstrap()], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/** A worker simulator: publishes StreamForge events without keys, as the workers do. */
export async function workerProducer(): Promise<Producer> {
  const kafka = new Kafka({
    clientId: "itest-worker",
    brokers: [env.tlsBootstrap()],
    ssl: { ca: [readFileSync(env.caPath(), "utf8")] },
    sasl: { mechanism: "scram-sha-512", username: env.adminUser(), password: env.adminPassword() },
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 2000 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

export const status = (queueId: string, status: string, extra: object = {}) => ({
  event: "status",
  queue_id: queueId,
  symbol: "BTCUSDT",
  type: "trades",
  status,
  finished: status === "finished" || status === "interrupted",
  sent_at: Date.now() / 1000,
  ...extra,
});

export async function publish(producer: Producer, topic: string, bodies: (object | string)[]): Promise<void> {
  await producer.send({ topic, acks: -1, messages: bodies.map((b) => ({ value: typeof b === "string" ? b : JSON.stringify(b) })) });
}

export interface OperatorProcess {
  /** Its identity (POD_NAME), as the Lease names its holder. */
  readonly name: string;
  readonly child: ChildProcess;
  readonly metricsPort: number;
  stop(): Promise<void>;
}

/** The environment that shifts a process's wall clock by `skew` with libfaketime (local/faketime.sh installs it). */
function skewedClock(skew: string): Record<string, string> {
  return { LD_PRELOAD: required("FAKETIME_LIB"), FAKETIME: skew, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

/** Short thresholds so a tier runs in seconds: loaders are stuck after 4 s of silence, arango-connector never within a test. */
export const SHORT_POLICY = {
  targets: {
    "loader-producer": { stuckAfterMs: 4000, startGraceMs: 2000, adaptive: false, minStuckAfterMs: 4000 },
    "arango-connector": { stuckAfterMs: 600_000, startGraceMs: 600_000, adaptive: false, minStuckAfterMs: 600_000 },
  },
  errorGraceMs: 600_000,
  massSilence: { minJobs: 100, fraction: 1 },
};

/** What the replicas of one test share: the watched namespace, the topic, the operator's own identity, the policy. */
export interface OperatorRun {
  readonly namespace: string;
  readonly topic: string;
  /** identity.ts's kubeconfig: the stack's ServiceAccount and Roles, not the admin's. */
  readonly kubeconfig: string;
  readonly policy?: object;
  readonly staleAfterMs?: number;
}

/** Starts one replica per entry, named `<namespace>-<suffix>`, with metrics on `port` and health on `port + 1`. */
export function startReplicas(
  run: OperatorRun,
  replicas: readonly { readonly suffix: string; readonly port: number; readonly clockSkew?: string }[],
): OperatorProcess[] {
  return replicas.map(({ suffix, port, clockSkew }) =>
    startOperator({
      ...run,
      name: `${run.namespace}-${suffix}`,
      policy: run.policy ?? SHORT_POLICY,
      metricsPort: port,
      healthPort: port + 1,
      ...(clockSkew ? { clockSkew } : {}),
    }),
  );
}

/** One replica: startReplicas for a single entry. */
export function startReplica(run: OperatorRun, replica: { readonly suffix: string; readonly port: number }): OperatorProcess {
  return startReplicas(run, [replica])[0]!;
}

/** How many of `ops` say they hold the Lease (an unreachable one counts as not). */
export async function leaderCount(ops: readonly OperatorProcess[]): Promise<number> {
  const flags = await Promise.all(ops.map((o) => metric(o.metricsPort, "streamforge_operator_leader").catch(() => 0)));
  return flags.reduce((a, b) => a + b, 0);
}

/** The one of `ops` that holds the Lease; undefined while none or more than one says so. */
export async function leaderOf(ops: readonly OperatorProcess[]): Promise<OperatorProcess | undefined> {
  const flags = await Promise.all(ops.map((o) => metric(o.metricsPort, "streamforge_operator_leader").catch(() => 0)));
  return flags.filter((f) => f === 1).length === 1 ? ops[flags.indexOf(1)] : undefined;
}

/**
 * Starts `node dist/main.js` with the given namespace, topic and policy; logs go to out/itest/<name>.log.
 * `kubeconfig` is the operator's own identity (identity.ts: the stack's ServiceAccount and Roles), not the admin's.
 */
export function startOperator(opts: {
  name: string;
  kubeconfig: string;
  namespace: string;
  topic: string;
  policy: object;
  healthPort: number;
  metricsPort: number;
  staleAfterMs?: number;
  /** Run with the wall clock this far off the machine's (libfaketime, e.g. "+5m"); timers are not affected. */
  clockSkew?: string;
}): OperatorProcess {
  const logDir = join(REPO_ROOT, "out", "itest");
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${opts.name}.log`));
  const child = spawn(process.execPath, [join(OPERATOR_DIR, "dist", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      KUBECONFIG: opts.kubeconfig,
      KAFKA_BROKERS: env.tlsBootstrap(),
      KAFKA_TLS: "true",
      KAFKA_CA_PATH: env.caPath(),
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_USERNAME: env.adminUser(),
      KAFKA_PASSWORD: env.adminPassword(),
      KAFKA_TOPIC: opts.topic,
      KAFKA_GROUP_ID: `${opts.namespace}-operator`,
      KAFKA_STALE_AFTER_MS: String(opts.staleAfterMs ?? 5000),
      WATCH_NAMESPACE: opts.namespace,
      POD_NAME: opts.name,
      BIND_ADDRESS: "127.0.0.1",
      HEALTH_PORT: String(opts.healthPort),
      METRICS_PORT: String(opts.metricsPort),
      TICK_INTERVAL_MS: "500",
      LOG_LEVEL: process.env.OPERATOR_LOG_LEVEL ?? "info",
      SELF_HEALING_POLICY: JSON.stringify(opts.policy),
      ...(opts.clockSkew ? skewedClock(opts.clockSkew) : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // The local Prometheus scrapes what is listed here.
  const targets = process.env.PROMETHEUS_TARGETS_DIR;
  const targetFile = targets ? join(targets, `${opts.name}.json`) : undefined;
  if (targets && targetFile) {
    mkdirSync(targets, { recursive: true });
    writeFileSync(
      join(targets, `${opts.name}.json`),
      JSON.stringify([{ targets: [`127.0.0.1:${opts.metricsPort}`], labels: { job: "self-healing-operator", instance: opts.name } }]),
    );
  }
  return {
    name: opts.name,
    child,
    metricsPort: opts.metricsPort,
    stop: () =>
      new Promise<void>((done) => {
        if (targetFile) rmSync(targetFile, { force: true });
        // Already gone (exited, or killed by a signal as the failover test does).
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name) && !l.startsWith("#"))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

/** Restarts the local broker (stop, start, same data) through its script. */
export function restartBroker(): void {
  execFileSync("bash", [join(REPO_ROOT, "local", "kafka.sh"), "restart"], { stdio: "ignore" });
}

/**
 * Holds `check` (true, or what it found instead) for `ms` (the kit's `consistently`), and proves
 * the operators kept deciding meanwhile (the decision rounds they count advanced, at least one
 * every second): a stalled operator fails here instead of passing for doing nothing. Sums over
 * replicas, as only the leader decides.
 */
export async function whileDeciding(
  what: string,
  ms: number,
  ops: readonly OperatorProcess[],
  check: () => Promise<true | string>,
): Promise<void> {
  const rounds = async () =>
    (await Promise.all(ops.map((o) => metric(o.metricsPort, "streamforge_operator_decision_seconds_count").catch(() => 0)))).reduce(
      (a, b) => a + b,
      0,
    );
  const before = await rounds();
  await consistently(what, ms, check, { what: "the operators' decision rounds", read: rounds }, 500);
  expect((await rounds()) - before).toBeGreaterThanOrEqual(Math.floor(ms / 1000));
}

/** The names of the Jobs in `namespace` are exactly `expected`, or what they are instead. */
async function jobsAre(namespace: string, expected: readonly string[]): Promise<true | string> {
  const names = (await listJobs(namespace)).map((j) => j.metadata!.name!).sort();
  return JSON.stringify(names) === JSON.stringify([...expected].sort()) || `the Jobs are ${names.join(", ")}`;
}

/**
 * The Jobs of `namespace` come to be exactly `expected` (a relaunch deletes the original just
 * after creating its replacement), then stay so for `ms` while `ops` decide (whileDeciding): long
 * enough for a second, wrong relaunch to show up.
 */
export async function jobsStay(what: string, namespace: string, expected: readonly string[], ms: number, ops: readonly OperatorProcess[]) {
  await eventually(`${what}: the Jobs to be ${expected.join(", ")}`, async () =>
    (await jobsAre(namespace, expected)) === true ? true : undefined,
  );
  await whileDeciding(what, ms, ops, () => jobsAre(namespace, expected));
}

/** Publishes a loading event every second for each queue in `queues` until stopped; remembers when each was last acknowledged. */
export function heartbeats(producer: Producer, topic: string, queues: Set<string>) {
  let running = true;
  const lastSent = new Map<string, number>();
  const loop = (async () => {
    while (running) {
      const batch = [...queues];
      const sent = await publish(
        producer,
        topic,
        batch.map((q) => status(q, "loading", { message: "loaded 100 records", records_written: 100 })),
      ).then(
        () => true,
        () => false,
      );
      if (sent) for (const q of batch) lastSent.set(q, Date.now());
      await pause("the workers' next report", 1000);
    }
  })();
  return {
    lastSent,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
