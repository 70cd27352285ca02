/**
 * queue-manager's canary on a Pulumi stack of its own, for the integration tests that run `pulumi
 * up` (the real CLI) against the local platform and the REAL Argo Rollouts controller
 * (local/rollouts.sh): the stack's config per image, the Rollout's status and router weights as
 * the controller leaves them, and an exporter in this process that serves queue-manager's metrics
 * for the pod-template hashes the controller really created, scraped by the real Prometheus with
 * the labels the PodMonitor gives them. Used by canary.itest.ts and runbook.itest.ts.
 */
import * as fs from "node:fs";
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

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class CanaryStack {
  /** The apps namespace of the stack (`stf-<suffix>`). */
  readonly apps: string;
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly since = new Map<string, number>();
  private readonly operatorSince = Date.now();
  private readonly server = http.createServer((req, res) => {
    const name = (req.url ?? "").replace(/^\/metrics\//, "");
    const body =
      name === "operator"
        ? `# TYPE streamforge_operator_events_total counter\nstreamforge_operator_events_total{kind="progress"} ${((Date.now() - this.operatorSince) / 1000) * 20}\nstreamforge_operator_events_total{kind="fatal"} 0\n`
        : this.metricsOf(name);
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
    res.end(body ?? "");
  });
  private port = 0;
  private readonly targetsFile: string;

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
    this.targetsFile = path.join(process.env.PROMETHEUS_TARGETS_DIR ?? "/nonexistent", `rollouts-${suffix}-${process.pid}.json`);
  }

  /** Checks the platform is up (the real controller answering), starts the exporter, selects the stack. */
  async start(): Promise<void> {
    requireEnv("KUBECONFIG");
    requireEnv("PROMETHEUS_TARGETS_DIR");
    // The real controller is up: a test that sees nothing move proves nothing.
    const healthz = await fetch(requireEnv("ARGO_ROLLOUTS_HEALTHZ_URL"));
    if (healthz.status !== 200) throw new Error(`The Argo Rollouts controller's healthz answered ${healthz.status}`);
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    selectStack(this.stack);
  }

  /** Destroys the stack and removes it; a destroy that fails leaves its objects, so it throws instead of removing the stack quietly. */
  stop(): void {
    fs.rmSync(this.targetsFile, { force: true });
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
    const t = (Date.now() - this.since.get(hash)!) / 1000;
    const total = 50 * t;
    const errors = b === "failing" ? 0.2 : 0;
    return [
      "# TYPE http_requests_total counter",
      `http_requests_total{status="2xx"} ${total * (1 - errors)}`,
      ...(errors > 0 ? [`http_requests_total{status="5xx"} ${total * errors}`] : []),
      "# TYPE http_request_duration_seconds histogram",
      ...BUCKETS.map((le, i) => `http_request_duration_seconds_bucket{le="${le}"} ${total * [0.9, 0.99, 1, 1, 1, 1, 1][i]!}`),
      `http_request_duration_seconds_bucket{le="+Inf"} ${total}`,
      `http_request_duration_seconds_count ${total}`,
      "",
    ].join("\n");
  }

  /** Serves `hash` with `behaviour` and tells Prometheus to scrape it, labelled as the PodMonitor would. */
  serve(hash: string, behaviour: Behaviour): void {
    this.behaviours.set(hash, behaviour);
    this.since.set(hash, Date.now());
    const targets = [
      {
        targets: [`127.0.0.1:${this.port}`],
        labels: { __metrics_path__: "/metrics/operator", job: `self-healing-operator-${this.suffix}` },
      },
      ...[...this.behaviours.keys()].map((h) => ({
        targets: [`127.0.0.1:${this.port}`],
        labels: {
          __metrics_path__: `/metrics/${h}`,
          job: `queue-manager-${this.suffix}`,
          namespace: this.apps,
          rollouts_pod_template_hash: h,
        },
      })),
    ];
    writeScrapeTargets(this.targetsFile, targets);
  }

  /** The stack's config for an image (a `--config-file`): the local stack with its own namespaces, `edit`, and the given wait. */
  config(tag: string, awaitRollout: AwaitRollout): string {
    return localVariant(this.stack, this.suffix, (config) => {
      // The platform's kubeconfig, wherever this checkout is (the committed path is relative to the main one).
      config["streamforge:cluster"].kubeconfig = requireEnv("KUBECONFIG");
      const rollouts = config["streamforge:rollouts"];
      rollouts.queueManager.image = `registry.local:5000/streamforge/queue-manager:${tag}`;
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

  /** Polls until the controller created the canary ReplicaSet of a new image; returns its hash. */
  canaryHash(stable: string): Promise<string> {
    return eventually("the controller created a canary", () => {
      const s = this.status();
      return s.currentPodHash && s.currentPodHash !== stable ? s.currentPodHash : undefined;
    });
  }
}
