/**
 * queue-manager's canary on a Pulumi stack of its own, for the integration tests that run `pulumi
 * up` (the real CLI) against the local platform and the REAL Argo Rollouts controller
 * (local/rollouts.sh): the stack's config per image, the Rollout's status and router weights as
 * the controller leaves them, and queue-manager's metrics: each pod the controller creates serves,
 * from this process, only its raw application metrics for its pod-template hash, and a real
 * Prometheus of the stack's own, configured by prometheus-operator's own code from the PodMonitor
 * `up` put into the API server (test/integration/operated-prometheus.ts), scrapes them, so the
 * PodMonitor's relabelling gives the series the labels the AnalysisTemplates select by. Used by
 * canary.itest.ts and runbook.itest.ts.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import {
  eventually,
  kubectl,
  localVariant,
  pulumi,
  pulumiInBackground,
  requireEnv,
  selectStack,
  writeScrapeTargets,
} from "../../test/integration/local-platform";
import { type OperatedPrometheus, PodEndpoints, startOperatedPrometheus } from "../../test/integration/operated-prometheus";
import { POD_TEMPLATE_HASH_LABEL, QUEUE_MANAGER, QUEUE_MANAGER_POD_LABELS } from "../spec";
import { FAST, operatorExposition, queueManagerExposition } from "./fake-metrics";

/** healthy: 2xx only (no 5xx series at all, as prometheus_client does it); failing: 20% 5xx. */
export type Behaviour = "healthy" | "failing";
export interface AwaitRollout {
  readonly enabled: boolean;
  readonly timeoutSeconds: number;
}

export interface RolloutStatus {
  phase?: string;
  message?: string;
  stableRS?: string;
  currentPodHash?: string;
  currentStepIndex?: number;
  abort?: boolean;
  observedGeneration?: string;
  pauseConditions?: { reason: string }[];
}

export class CanaryStack {
  /** The apps namespace of the stack (`stf-<suffix>`). */
  readonly apps: string;
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly since = new Map<string, number>();
  private readonly operatorSince = Date.now();
  // The operator's counters (not a pod here): file discovery in the stack's Prometheus.
  private readonly server = http.createServer((req, res) => {
    const body = req.url === "/metrics/operator" ? operatorExposition((Date.now() - this.operatorSince) / 1000) : undefined;
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
    res.end(body ?? "");
  });
  /** The stack's Prometheus, configured from its PodMonitor once `up` has created it. */
  prometheus: OperatedPrometheus | undefined;
  // Each pod of a hash with a behaviour serves it; the others are not scraped.
  private readonly endpoints: PodEndpoints;

  /**
   * `suffix` names the stack's namespaces (`kafka-<suffix>`, `stf-<suffix>`) and the scrape jobs;
   * `edit` changes the local stack's rollouts config before each image's is written.
   */
  constructor(
    readonly stack: string,
    private readonly suffix: string,
    private readonly edit: (rollouts: Record<string, any>) => void = () => {},
  ) {
    this.apps = `stf-${suffix}`;
    this.endpoints = new PodEndpoints(
      this.apps,
      Object.entries(QUEUE_MANAGER_POD_LABELS)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
      (pod) => this.metricsOf(pod.labels[POD_TEMPLATE_HASH_LABEL] ?? ""),
    );
  }

  /** Checks the platform is up (the real controller answering), starts the exporter, selects the stack. */
  async start(): Promise<void> {
    requireEnv("KUBECONFIG");
    // The real controller is up: a test that sees nothing move proves nothing.
    const healthz = await fetch(requireEnv("ARGO_ROLLOUTS_HEALTHZ_URL"));
    if (healthz.status !== 200) throw new Error(`The Argo Rollouts controller's healthz answered ${healthz.status}`);
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const port = (this.server.address() as AddressInfo).port;
    // No PodMonitor yet: the first `up` creates it, and the configuration follows it (syncMonitors).
    const p = (this.prometheus = await startOperatedPrometheus(this.suffix, []));
    writeScrapeTargets(path.join(p.targetsDir, "operator.json"), [
      { targets: [`127.0.0.1:${port}`], labels: { __metrics_path__: "/metrics/operator", job: `self-healing-operator-${this.suffix}` } },
    ]);
    this.endpoints.start();
    selectStack(this.stack);
  }

  /** Configures the stack's Prometheus from the PodMonitor in the API server, as prometheus-operator and its config-reloader would; returns it. */
  async syncMonitors(): Promise<object> {
    const deployed = JSON.parse(
      kubectl("get", "podmonitors.monitoring.coreos.com", QUEUE_MANAGER, "-n", this.apps, "-o", "json"),
    ) as object;
    await this.prometheus!.reload([deployed]);
    return deployed;
  }

  /** Destroys the stack and removes it; a destroy that fails leaves its objects, so it throws instead of removing the stack quietly. */
  async stop(): Promise<void> {
    await this.endpoints.stop();
    await this.prometheus?.stop();
    this.server.close();
    const destroy = () =>
      pulumi([
        "destroy",
        "--stack",
        this.stack,
        "--config-file",
        this.config("cleanup", { enabled: false, timeoutSeconds: 60 }),
        "--yes",
        "--skip-preview",
      ]);
    let destroyed = destroy();
    // The kubernetes provider at times panics awaiting a deletion (pkg/await/condition/deleted.go
    // Satisfied, a nil logger) and the destroy stops part way; a second one deletes the rest.
    if (destroyed.status !== 0 && destroyed.output.includes("exited prematurely")) destroyed = destroy();
    if (destroyed.status !== 0)
      throw new Error(`pulumi destroy --stack ${this.stack} failed; its objects are left:\n${destroyed.output.slice(-3000)}`);
    pulumi(["stack", "rm", this.stack, "--yes", "--force"]);
  }

  private metricsOf(hash: string): string | undefined {
    const b = this.behaviours.get(hash);
    if (!b) return undefined;
    return queueManagerExposition((Date.now() - this.since.get(hash)!) / 1000, {
      rps: 50,
      errorShare: b === "failing" ? 0.2 : 0,
      latency: FAST,
    });
  }

  /** The pods of `hash` serve `behaviour` from now on. */
  serve(hash: string, behaviour: Behaviour): void {
    this.behaviours.set(hash, behaviour);
    this.since.set(hash, Date.now());
  }

  /** The stack's config for an image (a `--config-file`): the local stack with its own namespaces, `edit`, and the given wait. */
  config(tag: string, awaitRollout: AwaitRollout): string {
    return localVariant(this.stack, this.suffix, (config) => {
      // The platform's kubeconfig, wherever this checkout is (the committed path is relative to the main one).
      config["streamforge:cluster"].kubeconfig = requireEnv("KUBECONFIG");
      const rollouts = config["streamforge:rollouts"];
      rollouts.queueManager.image = `registry.local:5000/streamforge/queue-manager:${tag}`;
      if (this.prometheus) rollouts.analysis.prometheusAddress = this.prometheus.url;
      this.edit(rollouts);
      rollouts.await = awaitRollout;
    });
  }

  /** Starts `pulumi up` for the given image. */
  up(tag: string, awaitRollout: AwaitRollout) {
    return pulumiInBackground(["up", "--stack", this.stack, "--config-file", this.config(tag, awaitRollout), "--yes", "--skip-preview"]);
  }

  status(): RolloutStatus {
    return JSON.parse(kubectl("get", "rollouts.argoproj.io", "queue-manager", "-n", this.apps, "-o", "jsonpath={.status}") || "{}");
  }

  /** [stable weight, canary weight] on the VirtualService's primary route. */
  weights(): [number, number] {
    const route = JSON.parse(
      kubectl("get", "virtualservices.networking.istio.io", "queue-manager", "-n", this.apps, "-o", "jsonpath={.spec.http[0].route}"),
    ) as { destination: { host: string }; weight?: number }[];
    const of = (host: string) => route.find((r) => r.destination.host === host)?.weight ?? 0;
    return [of("queue-manager"), of("queue-manager-canary")];
  }

  /** Every canary weight the VirtualService shows while `up` waits, in order, until `up` returns. */
  async canaryWeightsWhile(run: { running(): boolean }): Promise<number[]> {
    const seen: number[] = [];
    await eventually(
      "pulumi up to return",
      () => {
        const [, canary] = this.weights();
        if (seen[seen.length - 1] !== canary) seen.push(canary);
        return run.running() ? undefined : true;
      },
      600_000,
    );
    return seen;
  }

  /** Polls until the controller created the canary ReplicaSet of a new image; returns its hash. */
  canaryHash(stable: string): Promise<string> {
    return eventually("the controller created a canary", () => {
      const s = this.status();
      return s.currentPodHash && s.currentPodHash !== stable ? s.currentPodHash : undefined;
    });
  }
}
