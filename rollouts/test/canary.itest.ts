/**
 * The canary end to end, on the local platform: `pulumi up` (the real CLI) deploys queue-manager's
 * Rollout, Services, VirtualService, AnalysisTemplates and PodMonitor; the REAL Argo Rollouts
 * controller (local/rollouts.sh) runs the canary against the local API server, kwok (pods Ready
 * without containers) and a real Prometheus configured by prometheus-operator's own code from the
 * PodMonitor `up` put into the API server (test/integration/operated-prometheus.ts). Each pod the
 * controller creates serves, from this process, only queue-manager's raw metrics for its
 * pod-template hash; the relabelling gives the series the labels the AnalysisTemplates select by.
 * The healthy canary never serves a 5xx (no 5xx series, as prometheus_client does it). Three runs
 * on a stack of its own (its own namespaces): a healthy canary is promoted with the
 * VirtualService's weights stepping 10 -> 25 -> 50 -> 100 and `pulumi up` succeeds; a failing one
 * is aborted, the weights return to stable and `pulumi up` fails; a canary without data pauses as
 * Inconclusive.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import {
  kubectl,
  localVariant,
  pulumi,
  pulumiInBackground,
  requireEnv,
  selectStack,
  sleep,
  writeScrapeTargets,
} from "../../test/integration/local-platform";
import { type OperatedPrometheus, PodEndpoints, startOperatedPrometheus } from "../../test/integration/operated-prometheus";
import { POD_TEMPLATE_HASH_LABEL, QUEUE_MANAGER, QUEUE_MANAGER_POD_LABELS } from "../spec";

// A suffix of its own where several checkouts share the local platform and its Pulumi backend.
const SUFFIX = process.env.ROLLOUTS_E2E_SUFFIX ?? "canary";
const STACK = SUFFIX === "canary" ? "rollouts-e2e" : `rollouts-e2e-${SUFFIX}`;
const APPS = `stf-${SUFFIX}`;
const INTERVAL_S = 10;

// ---- queue-manager's metrics, per pod-template hash ------------------------------------------

type Behaviour = "healthy" | "failing";
const behaviours = new Map<string, Behaviour>();
const since = new Map<string, number>();
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function metricsOf(hash: string): string | undefined {
  const b = behaviours.get(hash);
  if (!b) return undefined;
  const t = (Date.now() - since.get(hash)!) / 1000;
  const total = 50 * t;
  // A healthy canary never serves a 5xx, so (as with prometheus_client) it has no 5xx series at all.
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

const operatorSince = Date.now();
// The operator's counters (not a pod here): file discovery in the test's Prometheus.
const server = http.createServer((req, res) => {
  const body =
    req.url === "/metrics/operator"
      ? `# TYPE streamforge_operator_events_total counter\nstreamforge_operator_events_total{kind="progress"} ${((Date.now() - operatorSince) / 1000) * 20}\nstreamforge_operator_events_total{kind="fatal"} 0\n`
      : undefined;
  res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" });
  res.end(body ?? "");
});
let prometheus: OperatedPrometheus | undefined;
// Each pod of a hash with a behaviour serves it; the others are not scraped.
const endpoints = new PodEndpoints(
  APPS,
  Object.entries(QUEUE_MANAGER_POD_LABELS)
    .map(([k, v]) => `${k}=${v}`)
    .join(","),
  (pod) => metricsOf(pod.labels[POD_TEMPLATE_HASH_LABEL] ?? ""),
);

/** The pods of `hash` serve `behaviour` from now on. */
function serve(hash: string, behaviour: Behaviour): void {
  behaviours.set(hash, behaviour);
  since.set(hash, Date.now());
}

// ---- the stack and the objects the controller drives -----------------------------------------

/** The stack's config for an image: the local stack with its own namespaces, a pause after 100% (keeps the full weight visible before promotion), and the given wait. */
function stackConfig(tag: string, awaitRollout: { enabled: boolean; timeoutSeconds: number }): string {
  return localVariant(STACK, SUFFIX, (config) => {
    // The platform's kubeconfig, wherever this checkout is (the committed path is relative to the main one).
    config["streamforge:cluster"].kubeconfig = requireEnv("KUBECONFIG");
    const rollouts = config["streamforge:rollouts"];
    rollouts.queueManager.image = `registry.local:5000/streamforge/queue-manager:${tag}`;
    if (prometheus) rollouts.analysis.prometheusAddress = prometheus.url;
    rollouts.steps = [...rollouts.steps, { pause: { duration: "5s" } }];
    rollouts.await = awaitRollout;
  });
}

interface Observed {
  phase?: string;
  stableRS?: string;
  currentPodHash?: string;
  abort?: boolean;
  message?: string;
  pauseConditions?: { reason: string }[];
}
const rolloutStatus = (): Observed =>
  JSON.parse(kubectl("get", "rollouts.argoproj.io", "queue-manager", "-n", APPS, "-o", "jsonpath={.status}") || "{}") as Observed;
/** [stable weight, canary weight] on the VirtualService's primary route. */
function weights(): [number, number] {
  const route = JSON.parse(
    kubectl("get", "virtualservices.networking.istio.io", "queue-manager", "-n", APPS, "-o", "jsonpath={.spec.http[0].route}"),
  ) as {
    destination: { host: string };
    weight?: number;
  }[];
  const of = (host: string) => route.find((r) => r.destination.host === host)?.weight ?? 0;
  return [of("queue-manager"), of("queue-manager-canary")];
}

/** Starts `pulumi up` for the given image. */
function up(tag: string, awaitRollout: { enabled: boolean; timeoutSeconds: number }) {
  return pulumiInBackground(["up", "--stack", STACK, "--config-file", stackConfig(tag, awaitRollout), "--yes", "--skip-preview"]);
}

/** Polls until the controller created the canary ReplicaSet of a new image; returns its hash. */
async function canaryHash(stable: string): Promise<string> {
  for (let i = 0; i < 240; i++) {
    const s = rolloutStatus();
    if (s.currentPodHash && s.currentPodHash !== stable) return s.currentPodHash;
    await sleep(250);
  }
  throw new Error("The controller created no canary");
}

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  // The real controller is up: a test that sees nothing move proves nothing.
  const healthz = await fetch(requireEnv("ARGO_ROLLOUTS_HEALTHZ_URL"));
  expect(healthz.status).toBe(200);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  // No PodMonitor yet: the first `up` creates it, and the configuration follows it.
  const p = (prometheus = await startOperatedPrometheus("canary", []));
  writeScrapeTargets(path.join(p.targetsDir, "operator.json"), [
    { targets: [`127.0.0.1:${port}`], labels: { __metrics_path__: "/metrics/operator", job: "self-healing-operator-e2e" } },
  ]);
  endpoints.start();
  selectStack(STACK);
});

afterAll(async () => {
  await endpoints.stop();
  await prometheus?.stop();
  server.close();
  // A destroy that fails leaves the stack's objects behind: say so instead of removing the stack quietly.
  const destroy = () =>
    pulumi([
      "destroy",
      "--stack",
      STACK,
      "--config-file",
      stackConfig("cleanup", { enabled: false, timeoutSeconds: 60 }),
      "--yes",
      "--skip-preview",
    ]);
  let destroyed = destroy();
  // The provider can crash while it awaits a deletion (pulumi-kubernetes provider/pkg/await/condition/
  // deleted.go `Satisfied`, L133-135, reads status.Compute's result without its error): seen once in
  // CI. The objects it had not deleted are still in the state, so a second destroy finishes the job.
  if (destroyed.status !== 0 && destroyed.output.includes("exited prematurely")) destroyed = destroy();
  if (destroyed.status !== 0)
    throw new Error(`pulumi destroy --stack ${STACK} failed; its objects are left:\n${destroyed.output.slice(-3000)}`);
  pulumi(["stack", "rm", STACK, "--yes", "--force"]);
});

describe("queue-manager's canary with the real Argo Rollouts controller", () => {
  let stable = "";

  it("first deploy: the Rollout comes up Healthy and `pulumi up` returns once it is", async () => {
    const first = await up("1.0.0", { enabled: true, timeoutSeconds: 120 }).done;
    if (first.code !== 0) console.log(`pulumi up failed:\n${first.output.slice(-3000)}`);
    expect([first.code, first.output.slice(-800)]).toEqual([0, expect.stringContaining("created")]);
    const s = rolloutStatus();
    expect(s.phase).toBe("Healthy");
    stable = s.stableRS!;
    // The PodMonitor as `up` created it in the API server, configured as prometheus-operator would.
    const deployed = JSON.parse(kubectl("get", "podmonitors.monitoring.coreos.com", QUEUE_MANAGER, "-n", APPS, "-o", "json"));
    await prometheus!.reload([deployed]);
    expect([prometheus!.warnings(), prometheus!.config()]).toEqual([
      "",
      expect.stringContaining(`job_name: podMonitor/${APPS}/${QUEUE_MANAGER}/0`),
    ]);
    serve(stable, "healthy");
    expect(weights()).toEqual([100, 0]);
  });

  it("a healthy canary is promoted: weights step 10 -> 25 -> 50 -> 100, and `pulumi up` succeeds", async () => {
    const t0 = Date.now();
    const run = up("2.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await canaryHash(stable);
    serve(canary, "healthy");
    const seen: number[] = [];
    while (run.running()) {
      const [, c] = weights();
      if (seen[seen.length - 1] !== c) seen.push(c);
      await sleep(250);
    }
    const result = await run.done;
    console.log(`healthy canary promoted in ${((Date.now() - t0) / 1000).toFixed(1)} s; canary weights seen: ${seen.join(" -> ")}`);
    expect([result.code, result.output.slice(-800)]).toEqual([0, expect.any(String)]);
    expect(seen.filter((w) => w > 0)).toEqual([10, 25, 50, 100]);
    // `up` reported the analysis measurements while it waited; the error rate of a canary without a 5xx series is 0.
    expect(result.output).toMatch(new RegExp(`Rollout ${APPS}/queue-manager: .*error-rate: Successful \\[0\\]`));
    const s = rolloutStatus();
    expect([s.phase, s.stableRS]).toEqual(["Healthy", canary]);
    expect(weights()).toEqual([100, 0]);
    stable = canary;
  });

  it("a failing canary is aborted by its analysis: weights return to stable and `pulumi up` fails, saying so", async () => {
    const run = up("3.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await canaryHash(stable);
    serve(canary, "failing");
    const badAt = Date.now();
    let abortedAt: number | undefined;
    while (run.running()) {
      if (abortedAt === undefined && rolloutStatus().abort) abortedAt = Date.now();
      await sleep(250);
    }
    const result = await run.done;
    expect(abortedAt).toBeDefined();
    console.log(
      `failing canary: aborted ${((abortedAt! - badAt) / 1000).toFixed(1)} s after its bad metrics appeared (analysis interval ${INTERVAL_S} s, failureLimit 1)`,
    );
    console.log(`failing canary: pulumi up failed ${((Date.now() - badAt) / 1000).toFixed(1)} s after its bad metrics appeared`);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`Rollout ${APPS}/queue-manager was aborted`);
    expect(result.output).toContain("The stable version keeps serving");
    const s = rolloutStatus();
    expect([s.abort, s.phase, s.stableRS]).toEqual([true, "Degraded", stable]);
    expect(weights()).toEqual([100, 0]);
  });

  it("a canary without data pauses as Inconclusive; an `up` that does not wait returns at once", async () => {
    const t0 = Date.now();
    const result = await up("4.0.0", { enabled: false, timeoutSeconds: 60 }).done;
    expect(result.code).toBe(0);
    const returnedIn = (Date.now() - t0) / 1000;
    // The new image starts a new canary after the abort; its pods are never scraped.
    const canary = await canaryHash(stable);
    let s: Observed = {};
    for (let i = 0; i < 360; i++) {
      s = rolloutStatus();
      if (s.phase === "Paused" && (s.pauseConditions ?? []).some((p) => p.reason === "InconclusiveAnalysisRun")) break;
      await sleep(250);
    }
    console.log(
      `no-data canary ${canary}: up returned in ${returnedIn.toFixed(1)} s; rollout ${s.phase} (${(s.pauseConditions ?? []).map((p) => p.reason).join(", ")}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(s.phase).toBe("Paused");
    expect((s.pauseConditions ?? []).map((p) => p.reason)).toContain("InconclusiveAnalysisRun");
    expect(weights()[1]).toBe(10);
  });
});
