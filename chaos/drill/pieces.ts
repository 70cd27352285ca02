/**
 * The real pieces the drill runs against, and the edges it talks to them through: the three-broker
 * Kafka (local/kafka-cluster.sh), Toxiproxy in front of it (local/toxiproxy.sh), the local
 * Prometheus and API server, and the self-healing operator as a process. I/O only.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../infra/render/render";
import { kubectlAsync } from "../../operator/testkit/kubectl";
import { promQuery, promSeriesCount } from "../../operator/testkit/prometheus";
import { promProbeShellLine } from "../spec";
import { type K8sInputs, type ProbeBackend, csvSamples } from "./probes";

const run = promisify(execFile);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const LOG_DIR = path.join(PROJECT_ROOT, "out", "chaos-drill");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`The drill needs ${name}: start the local platform and load its env (eval "$(bash local/platform.sh env)")`);
  return value;
}

/** Runs one of the local platform's scripts and returns the variables its `env` prints. */
function script(name: string, ...args: string[]): string {
  return execFileSync("bash", [path.join(PROJECT_ROOT, "local", name), ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}
function scriptEnv(name: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of script(name, "env").split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^'(.*)'$/, "$1");
  }
  return vars;
}

// ---- the three-broker Kafka ------------------------------------------------------------------

export interface KafkaCluster {
  /** PLAINTEXT addresses: admin, and the stream check's direct clients. */
  readonly bootstrap: string[];
  /** The same brokers through Toxiproxy: what the operator and the simulated workers use. */
  readonly proxied: string[];
  /** listen=upstream pairs for the proxies. */
  readonly proxies: { listen: string; upstream: string }[];
  readonly metrics: string[];
  /** The broker's jars: Kafka's own tools run from them. */
  readonly libs: string;
  kill(nodeId: number): void;
  start(nodeId: number): void;
  /** Starts a stopped node, on empty storage when `empty` (a pod with ephemeral storage); resolves once it serves. */
  startAsync(nodeId: number, empty: boolean): Promise<void>;
  stop(): void;
}

export function startKafkaCluster(): KafkaCluster {
  script("kafka-cluster.sh", "start");
  const env = scriptEnv("kafka-cluster.sh");
  const split = (k: string) => {
    if (!env[k]) throw new Error(`local/kafka-cluster.sh env printed no ${k}`);
    return env[k].split(",");
  };
  return {
    bootstrap: split("KAFKA_CLUSTER_BOOTSTRAP_SERVERS"),
    proxied: split("KAFKA_CLUSTER_PROXIED_SERVERS"),
    proxies: split("KAFKA_CLUSTER_PROXY_UPSTREAMS").map((pair) => {
      const [listen, upstream] = pair.split("=");
      return { listen: listen!, upstream: upstream! };
    }),
    metrics: split("KAFKA_CLUSTER_METRICS_ADDRESSES"),
    libs: scriptEnv("kafka.sh")["KAFKA_LIBS"] ?? required("KAFKA_LIBS"),
    kill: (id) => void script("kafka-cluster.sh", "kill-node", String(id)),
    start: (id) => void script("kafka-cluster.sh", "start-node", String(id)),
    startAsync: async (id, empty) =>
      void (await run("bash", [
        path.join(PROJECT_ROOT, "local", "kafka-cluster.sh"),
        empty ? "start-node-empty" : "start-node",
        String(id),
      ])),
    stop: () => void script("kafka-cluster.sh", "stop"),
  };
}

// ---- Toxiproxy -------------------------------------------------------------------------------

export interface Toxiproxy {
  /** Adds latency and jitter to what clients send (the `upstream` stream), as netem on a pod's egress does. */
  addLatency(latencyMs: number, jitterMs: number): Promise<void>;
  clearLatency(): Promise<void>;
  stop(): void;
}

export async function startToxiproxy(proxies: readonly { listen: string; upstream: string }[]): Promise<Toxiproxy> {
  script("toxiproxy.sh", "start");
  const url = scriptEnv("toxiproxy.sh")["TOXIPROXY_URL"] ?? required("TOXIPROXY_URL");
  const api = async (method: string, route: string, body?: object) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok && res.status !== 404) throw new Error(`Toxiproxy ${method} ${route}: ${res.status} ${await res.text()}`);
  };
  const names = proxies.map((_, i) => `kafka-${i}`);
  for (const [i, p] of proxies.entries()) {
    await api("DELETE", `/proxies/${names[i]}`);
    await api("POST", "/proxies", { name: names[i], listen: p.listen, upstream: p.upstream, enabled: true });
  }
  return {
    async addLatency(latency, jitter) {
      for (const n of names)
        await api("POST", `/proxies/${n}/toxics`, {
          name: "latency",
          type: "latency",
          stream: "upstream",
          attributes: { latency, jitter },
        });
    },
    async clearLatency() {
      for (const n of names) await api("DELETE", `/proxies/${n}/toxics/latency`);
    },
    stop: () => void script("toxiproxy.sh", "stop"),
  };
}

// ---- Prometheus and the API server -----------------------------------------------------------

/** Lists `targets` for the local Prometheus under `job`; returns how to remove them. */
export function scrape(job: string, targets: readonly string[]): () => void {
  const dir = required("PROMETHEUS_TARGETS_DIR");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `drill-${job}.json`);
  writeFileSync(file, JSON.stringify([{ targets, labels: { job } }]));
  return () => rmSync(file, { force: true });
}

/** An instant query's values (a vector's samples, or the scalar): the test kit's Prometheus client. */
export { promQuery };

/**
 * A promProbe's query run as litmus-go runs it: `/bin/sh -c` over the line it builds
 * (pkg/probe/promProbe.go L190-199), with the promql CLI go-runner ships (local/promql.sh). A
 * non-zero exit is the probe's error, with promql's stderr, as litmus-go reports it (L203).
 */
export async function shellPromQuery(promqlBin: string, endpoint: string, query: string): Promise<number[]> {
  const { stdout } = await run("/bin/sh", ["-c", promProbeShellLine(endpoint, query)], {
    env: { ...process.env, PATH: `${path.dirname(promqlBin)}:${process.env.PATH ?? ""}` },
  }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`unable to run command, error: ${(err.stderr ?? err.message).trim()}`);
  });
  return csvSamples(stdout);
}

let promql: string | undefined;
/**
 * The promql binary local/promql.sh built (asked once): the real CLI where its source could be
 * cloned, else its model (local/promql-model); which one is said on stderr once.
 */
export function promqlBin(): string {
  if (promql === undefined) {
    const env = scriptEnv("promql.sh");
    promql = env["PROMQL_BIN"];
    if (!promql) throw new Error("local/promql.sh env printed no PROMQL_BIN: build it with local/promql.sh install");
    process.stderr.write(
      `promql: ${env["PROMQL_KIND"] === "model" ? "the model of promql-cli 3.0.0-beta6 (local/promql-model)" : "promql-cli 3.0.0-beta6"} at ${promql}\n`,
    );
  }
  return promql;
}

/** The probe backend over the real Prometheus (through litmus-go's shell line and promql) and API server. */
export const realBackend: ProbeBackend = {
  promQuery: (endpoint, query) => shellPromQuery(promqlBin(), endpoint, query),
  promSeries: (endpoint, metric) => promSeriesCount(endpoint, metric, 60),
  async k8sCount(inputs: K8sInputs) {
    const base = inputs.group ? `/apis/${inputs.group}/${inputs.version}` : `/api/${inputs.version}`;
    const query = new URLSearchParams();
    if (inputs.labelSelector) query.set("labelSelector", inputs.labelSelector);
    if (inputs.fieldSelector) query.set("fieldSelector", inputs.fieldSelector);
    const stdout = await kubectlAsync([
      "get",
      "--raw",
      `${base}/namespaces/${inputs.namespace}/${inputs.resource}?${query.toString()}`,
    ]).catch((err: Error) => {
      throw new Error(`the API server refused the listing: ${err.message.replace(/^kubectl get: /, "")}`);
    });
    const items = (JSON.parse(stdout) as { items: { metadata: { name: string } }[] }).items;
    const names = inputs.resourceNames ? new Set(inputs.resourceNames.split(",")) : undefined;
    return names ? items.filter((i) => names.has(i.metadata.name)).length : items.length;
  },
};

/** `kubectl <args>` as the admin (the test kit's kubectl, asynchronous: the drill measures meanwhile). */
export const kubectl = (...args: string[]): Promise<string> => kubectlAsync(args);

export async function apply(obj: object): Promise<void> {
  await kubectlAsync(["apply", "-f", "-"], obj);
}

// ---- the self-healing operator ---------------------------------------------------------------

export interface OperatorProcess {
  readonly metricsAddress: string;
  /** The sum of a metric's samples on the operator's own endpoint. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** The built operator (operator/dist), run as during development: one process, its logs in out/chaos-drill. */
export function startOperator(opts: {
  namespace: string;
  brokers: readonly string[];
  topic: string;
  policy: object;
  metricsPort: number;
  healthPort: number;
}): OperatorProcess {
  const main = path.join(PROJECT_ROOT, "operator", "dist", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: build the operator first (cd operator && npm run build)`);
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(path.join(LOG_DIR, "operator.log"));
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      KUBECONFIG: required("KUBECONFIG"),
      KAFKA_BROKERS: opts.brokers.join(","),
      KAFKA_TOPIC: opts.topic,
      KAFKA_GROUP_ID: `${opts.namespace}-drill-operator`,
      WATCH_NAMESPACE: opts.namespace,
      POD_NAME: "drill-operator",
      BIND_ADDRESS: "127.0.0.1",
      HEALTH_PORT: String(opts.healthPort),
      METRICS_PORT: String(opts.metricsPort),
      TICK_INTERVAL_MS: "1000",
      SELF_HEALING_POLICY: JSON.stringify(opts.policy),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const metricsAddress = `127.0.0.1:${opts.metricsPort}`;
  return {
    metricsAddress,
    async metric(name, labels = {}) {
      const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
      return text
        .split("\n")
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
