/**
 * A Prometheus of a test's own, configured as prometheus-operator configures one: the PodMonitors
 * the program renders (or the ones `pulumi up` put into the API server) go through the operator's
 * own config generation (local/podmonitor-config, prometheus-operator v0.85.0), queue-manager's
 * pods are discovered in the local API server by Prometheus's own Kubernetes discovery (role pod),
 * and Prometheus applies the generated relabelling. So `namespace`, `job` and
 * `rollouts_pod_template_hash` on the series come from the relabelling, not from the test.
 *
 * Two local deviations, both below the relabelling:
 * - Debian's Prometheus 2.42 is built without Kubernetes discovery, so that discovery (Prometheus
 *   v3.5.0's code, local/podmonitor-config/discover) runs beside it and hands it the discovered
 *   targets, meta labels unchanged, through file discovery in place of `kubernetes_sd_configs`.
 * - kwok's pods are API objects without containers, so nothing listens on their pod IPs.
 *   `PodEndpoints` serves each pod's metrics from this process on 127.0.0.1 and writes that
 *   address into the pod's `streamforge.local/metrics-address` annotation; the Prometheus
 *   resource's default scrape class (an operator feature: its relabelings follow the generated
 *   ones, promcfg.go generatePodMonitorConfig) keeps only pods with that annotation and scrapes the
 *   address it holds.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { GiveUp, eventually, kubectl, kubectlAsync, prometheusApi, requireEnv } from "./local-platform";
import { type Recorded, freePort, startRecorded } from "./recorded-process";

/** The annotation that holds the local address of a pod's metrics (local only; see the header). */
export const LOCAL_ADDRESS_ANNOTATION = "streamforge.local/metrics-address";

/**
 * How Prometheus names a pod annotation in discovery: every character outside [a-zA-Z0-9_]
 * becomes `_` (discovery/kubernetes/pod.go, strutil.SanitizeLabelName).
 */
export function annotationMetaLabel(annotation: string): string {
  return `__meta_kubernetes_pod_annotation_${annotation.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}
const annotationPresentMetaLabel = (annotation: string) =>
  annotationMetaLabel(annotation).replace("_pod_annotation_", "_pod_annotationpresent_");

/** A relabelling rule as a Prometheus resource writes it (monitoringv1.RelabelConfig). */
export interface RelabelRule {
  readonly action: "keep" | "replace";
  readonly sourceLabels: readonly string[];
  readonly regex?: string;
  readonly targetLabel?: string;
}

/** LOCAL ONLY: kwok's pods run no process; their metrics are served at the annotated address. */
const LOCAL_ADDRESS_RELABELINGS: readonly RelabelRule[] = [
  { action: "keep", sourceLabels: [annotationPresentMetaLabel(LOCAL_ADDRESS_ANNOTATION)], regex: "true" },
  { action: "replace", sourceLabels: [annotationMetaLabel(LOCAL_ADDRESS_ANNOTATION)], targetLabel: "__address__" },
];

export interface ApiServerAccess {
  readonly host: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * The Prometheus resource the local instance is configured from: the local Prometheus's version
 * (the generator writes only what that version reads), the API server reached with the local
 * admin's client certificate (`apiserverConfig`, as for a Prometheus outside the cluster), every
 * PodMonitor in every namespace (or those with `podMonitorSelector`'s labels), and the local-only
 * scrape class.
 */
export function localPrometheusResource(o: {
  version: string;
  apiServer: ApiServerAccess;
  scrapeInterval: string;
  podMonitorSelector?: Readonly<Record<string, string>>;
}) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Prometheus",
    metadata: { name: "local", namespace: "monitoring" },
    spec: {
      version: o.version,
      scrapeInterval: o.scrapeInterval,
      evaluationInterval: o.scrapeInterval,
      podMonitorSelector: o.podMonitorSelector ? { matchLabels: o.podMonitorSelector } : {},
      podMonitorNamespaceSelector: {},
      apiserverConfig: {
        host: o.apiServer.host,
        tlsConfig: { caFile: o.apiServer.caFile, certFile: o.apiServer.certFile, keyFile: o.apiServer.keyFile },
      },
      scrapeClasses: [
        {
          name: "local-process",
          default: true,
          relabelings: LOCAL_ADDRESS_RELABELINGS,
        },
      ],
    },
  };
}

/** A file-discovery job for what is not a pod here (the operator's fake counters), as additionalScrapeConfigs. */
export function fileTargetsScrapeConfig(dir: string, interval: string): string {
  return [
    "- job_name: local-file-targets",
    `  scrape_interval: ${interval}`,
    "  file_sd_configs:",
    `    - files: ["${dir}/*.json"]`,
    "      refresh_interval: 1s",
    "",
  ].join("\n");
}

function prometheusVersion(bin: string): string {
  const out = spawnSync(bin, ["--version"], { encoding: "utf8" });
  const m = /version (\d+\.\d+\.\d+)/.exec(`${out.stdout}${out.stderr}`);
  if (!m) throw new Error(`cannot read the version of ${bin}: ${out.stdout}${out.stderr}`);
  return `v${m[1]}`;
}

/** The local admin's server and client certificate from KUBECONFIG, written as files into `dir`. */
function apiServerAccess(dir: string): ApiServerAccess {
  const cfg = JSON.parse(kubectl("config", "view", "--raw", "--minify", "-o", "json"));
  const write = (name: string, base64: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.from(base64, "base64"), { mode: 0o600 });
    return file;
  };
  return {
    host: cfg.clusters[0].cluster.server,
    caFile: write("ca.crt", cfg.clusters[0].cluster["certificate-authority-data"]),
    certFile: write("client.crt", cfg.users[0].user["client-certificate-data"]),
    keyFile: write("client.key", cfg.users[0].user["client-key-data"]),
  };
}

/** prometheus-operator's config for `prometheus` and `podMonitors`; `warnings` holds what the operator logged (rejected PodMonitors). */
export function operatorConfig(
  prometheus: object,
  podMonitors: readonly object[],
  additionalScrapeConfigs = "",
): { config: string; warnings: string } {
  const r = spawnSync(requireEnv("PODMONITOR_CONFIG_BIN"), [], {
    input: JSON.stringify({ prometheus, podMonitors, additionalScrapeConfigs }),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`podmonitor-config failed: ${r.stderr}`);
  return { config: r.stdout, warnings: r.stderr };
}

async function waitForFile(file: string, writer: Recorded): Promise<void> {
  await eventually(
    `${file} written`,
    () => {
      if (fs.existsSync(file)) return true;
      if (writer.exited()) throw new GiveUp("its writer exited");
      return undefined;
    },
    30_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${writer.logTail()}`);
  });
}

export interface OperatedPrometheus {
  readonly url: string;
  /** Where `writeScrapeTargets` files go for the file-discovery job. */
  readonly targetsDir: string;
  /** The configuration Prometheus runs with, as the operator generated it. */
  config(): string;
  /** The operator's warnings of the last generation (rejected PodMonitors). */
  warnings(): string;
  /** Regenerates the configuration for these PodMonitors and reloads Prometheus (what the config-reloader does). */
  reload(podMonitors: readonly object[]): Promise<void>;
  /** Stops Prometheus by its recorded PID. */
  stop(): Promise<void>;
}

/**
 * Starts a Prometheus configured by prometheus-operator's code from `podMonitors`, in a state
 * folder of its own beside the local Prometheus's (local/prometheus.sh stop also stops it by its
 * recorded PID, should a test die first). Resolves once it is ready and has loaded the config.
 */
export async function startOperatedPrometheus(
  name: string,
  podMonitors: readonly object[],
  opts: { scrapeInterval?: string; podMonitorSelector?: Readonly<Record<string, string>> } = {},
): Promise<OperatedPrometheus> {
  const bin = requireEnv("PROMETHEUS_BIN");
  const dir = path.join(path.dirname(requireEnv("PROMETHEUS_TARGETS_DIR")), "operated", `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const targetsDir = path.join(dir, "targets");
  fs.mkdirSync(targetsDir, { recursive: true });
  const interval = opts.scrapeInterval ?? "2s";
  const resource = localPrometheusResource({
    version: prometheusVersion(bin),
    apiServer: apiServerAccess(dir),
    scrapeInterval: interval,
    ...(opts.podMonitorSelector ? { podMonitorSelector: opts.podMonitorSelector } : {}),
  });
  // The operator's configuration, and what Prometheus reads: the same with file discovery fed by kubernetes-discover.
  const generatedFile = path.join(dir, "generated.yml");
  const sdDir = path.join(dir, "sd");
  const configFile = path.join(sdDir, "prometheus.yml");
  fs.mkdirSync(sdDir);
  let current = { config: "", warnings: "" };
  const generate = (monitors: readonly object[]) => {
    current = operatorConfig(resource, monitors, fileTargetsScrapeConfig(targetsDir, interval));
    fs.writeFileSync(generatedFile, current.config);
  };
  let discovery = await startRecorded(requireEnv("KUBERNETES_DISCOVER_BIN"), [generatedFile, sdDir], path.join(dir, "discover"), {
    before: () => {
      generate(podMonitors);
      fs.rmSync(configFile, { force: true });
    },
  });
  await waitForFile(configFile, discovery);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const prometheus = await startRecorded(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
    ],
    path.join(dir, "prometheus"),
  );

  /** The configuration Prometheus runs with (YAML), once it is ready and its last load succeeded. */
  const loadedConfig = async (): Promise<string | undefined> => {
    try {
      if (!(await fetch(`${url}/-/ready`)).ok) return undefined;
      if (!(await prometheusApi<{ reloadConfigSuccess: boolean }>(url, "/api/v1/status/runtimeinfo")).reloadConfigSuccess) return undefined;
      return (await prometheusApi<{ yaml: string }>(url, "/api/v1/status/config")).yaml;
    } catch {
      return undefined;
    }
  };
  const stop = async () => {
    await prometheus.stop();
    await discovery.stop();
    // The series and the admin's key go; the configurations and the logs stay for a look after a failure.
    for (const f of ["data", "ca.crt", "client.crt", "client.key"]) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  };

  await eventually(
    `Prometheus on ${url} ready with its config`,
    async () => {
      if (prometheus.exited() || discovery.exited())
        throw new GiveUp(`Prometheus or its discovery exited at start:\n${prometheus.logTail()}\n${discovery.logTail()}`);
      return (await loadedConfig()) !== undefined || undefined;
    },
    30_000,
  ).catch(async (err: Error) => {
    await stop();
    throw err;
  });

  return {
    url,
    targetsDir,
    config: () => current.config,
    warnings: () => current.warnings,
    async reload(monitors) {
      // As the config-reloader would: a new configuration, then Prometheus told to load it.
      await discovery.stop();
      discovery = await startRecorded(requireEnv("KUBERNETES_DISCOVER_BIN"), [generatedFile, sdDir], path.join(dir, "discover"), {
        before: () => {
          generate(monitors);
          fs.rmSync(configFile, { force: true });
        },
      });
      await waitForFile(configFile, discovery);
      process.kill(prometheus.pid, "SIGHUP");
      // Loaded once Prometheus's running config has every job the operator generated.
      const jobs = [...current.config.matchAll(/job_name: (\S+)/g)].map((m) => m[1]!);
      await eventually(
        "Prometheus to load the new configuration",
        async () => {
          const loaded = await loadedConfig();
          return (loaded !== undefined && jobs.every((j) => loaded.includes(`job_name: ${j}`))) || undefined;
        },
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${prometheus.logTail()}`);
      });
    },
    stop,
  };
}

interface PodView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * What each pod's process would serve, as its prometheus_client does, in place of kwok's pods: one
 * HTTP server on 127.0.0.1 per pod, `/metrics` only (the PodMonitor's path), its body from
 * `metrics(pod)`; the raw application series, without the labels the relabelling adds. A pod gets
 * its annotation (and so is scraped) once `metrics` gives it a body; pods that are gone lose their
 * server. Polls the API server every 500 ms.
 */
export class PodEndpoints {
  private readonly servers = new Map<string, http.Server>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly namespace: string,
    private readonly selector: string,
    private readonly metrics: (pod: PodView) => string | undefined,
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.sync()).catch((e) => console.error(`PodEndpoints ${this.namespace}: ${e}`));
    }, 500);
    return this;
  }

  /** How many pods are served and annotated now. */
  get served(): number {
    return this.servers.size;
  }

  private async sync(): Promise<void> {
    const stdout = await kubectlAsync(["get", "pods", "-n", this.namespace, "-l", this.selector, "-o", "json"]);
    const pods = (JSON.parse(stdout).items as any[]).filter((p) => !p.metadata.deletionTimestamp);
    const live = new Set(pods.map((p) => p.metadata.name as string));
    for (const [name, server] of this.servers)
      if (!live.has(name)) {
        server.close();
        this.servers.delete(name);
      }
    for (const p of pods) {
      const view: PodView = { name: p.metadata.name, labels: p.metadata.labels ?? {} };
      if (this.servers.has(view.name) || this.metrics(view) === undefined) continue;
      const server = http.createServer((req, res) => {
        const body = req.url === "/metrics" ? this.metrics(view) : undefined;
        res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
        res.end(body ?? "");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      this.servers.set(view.name, server);
      // A pod deleted meanwhile: its server goes at the next round.
      await kubectlAsync([
        "annotate",
        "pod",
        view.name,
        "-n",
        this.namespace,
        "--overwrite",
        `${LOCAL_ADDRESS_ANNOTATION}=127.0.0.1:${port}`,
      ]);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
  }
}
