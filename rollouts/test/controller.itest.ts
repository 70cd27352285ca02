/**
 * What our rules assume of Argo Rollouts, shown with the REAL controller (local/rollouts.sh,
 * v1.10.2) against the local API server and kwok, in namespaces of this run's own:
 * - the scale-down combinations: each config our rules accept renders a Rollout the controller
 *   takes, and each one they refuse for an InvalidSpec rule is one the controller refuses;
 * - measurement sequences: AnalysisRuns with our step limits and conditions, fed by a scripted web
 *   metric, end as argo-aggregation.ts says, including where a naive reading of the limits differs;
 * - RolloutOutcome (its real loop and Kubernetes client) on each outcome the controller can give:
 *   Healthy, InvalidSpec, an abort, a progress deadline, an Inconclusive pause with the
 *   measurements reported while it waits, an open-ended pause, and no controller observing.
 */
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../infra/render/render";
import { committedConfig } from "../../test/helpers";
import { eventually, kubectl, kubectlWith, requireEnv, writeScrapeTargets } from "../../test/integration/local-platform";
import { PodEndpoints, startOperatedPrometheus } from "../../test/integration/operated-prometheus";
import { type RolloutsConfig, scaleDownRules } from "../config";
import type { AnalysisRunObject, RolloutObject } from "../outcome";
import { STEP_LIMITS, analysisTemplates, podMonitor, queueManagerRbac, rollout, routerObject, services } from "../spec";
import { type Measurement, type MetricLimits, runMetric } from "./argo-aggregation";
import { canaryErrors } from "./argo-validation";
import { localContext } from "./local-context";
import { applyCombination, combinations } from "./combinations";

const RUN = `r21-${process.pid}`;
const namespaces: string[] = [];
const base: RolloutsConfig = committedConfig("local").rollouts!;

function apply(obj: object): void {
  const r = kubectlWith(undefined, obj, "apply", "--server-side", "--force-conflicts", "--field-manager", "controller-itest", "-f", "-");
  if (!r.ok) throw new Error(`kubectl apply failed: ${r.output}`);
}

/** A namespace of this run with what the Rollout references: ServiceAccount, Services, router object, AnalysisTemplates. */
function prepare(suffix: string, cfg: RolloutsConfig): string {
  const ns = `${RUN}-${suffix}`;
  kubectl("create", "namespace", ns);
  namespaces.push(ns);
  apply(queueManagerRbac(ns).serviceAccount);
  for (const svc of services(ns)) apply(svc);
  const router = routerObject(cfg.router, ns);
  if (router) apply(router);
  for (const t of analysisTemplates(cfg.analysis, ns)) apply(t);
  return ns;
}

const readRollout = (ns: string): RolloutObject =>
  JSON.parse(kubectl("get", "rollouts.argoproj.io", "queue-manager", "-n", ns, "-o", "json"));

/** The controller's verdict on a Rollout once it has reconciled it: its InvalidSpec message, or "accepted". */
function controllerVerdict(ns: string): string | undefined {
  const r = readRollout(ns);
  const invalid = (r.status?.conditions ?? []).find((c) => c.type === "InvalidSpec");
  if (invalid) return `InvalidSpec: ${invalid.message}`;
  if (Number(r.status?.observedGeneration ?? 0) >= (r.metadata?.generation ?? 1) && r.status?.phase) return "accepted";
  return undefined;
}

/**
 * RolloutOutcome's wait with the real client, in its own Node process (see run-outcome.ts). Resolves
 * with the phase on success; rejects with the verdict's message, the progress lines it printed
 * pushed into `lines`.
 */
function outcome(
  ns: string,
  opts: { timeoutSeconds?: number; controllerGraceSeconds?: number; lines?: string[] } = {},
): Promise<{ phase: string }> {
  const args = [
    ns,
    String(opts.timeoutSeconds ?? 120),
    ...(opts.controllerGraceSeconds === undefined ? [] : [String(opts.controllerGraceSeconds)]),
  ];
  const child = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", "rollouts/test/run-outcome.ts", ...args],
    {
      cwd: PROJECT_ROOT,
      env: process.env,
    },
  );
  // Lines as they come, so a test can act on what the wait has reported so far.
  let pending = "";
  const lines: string[] = [];
  let stderr = "";
  child.stdout.on("data", (d) => {
    const parts = (pending + String(d)).split("\n");
    pending = parts.pop() ?? "";
    for (const l of parts.filter((x) => x.length > 0)) {
      lines.push(l);
      opts.lines?.push(l);
    }
  });
  child.stderr.on("data", (d) => (stderr += String(d)));
  return new Promise((resolve, reject) =>
    child.on("exit", (code) => {
      const result = [...lines, pending].find((l) => l.startsWith("RESULT "));
      if (code === 0 && result) resolve(JSON.parse(result.slice("RESULT ".length)) as { phase: string });
      else reject(new Error(stderr.trim() || `run-outcome exited ${code}`));
    }),
  );
}

/** What `kubectl argo rollouts abort` sends (pkg/kubectl-argo-rollouts/cmd/abort/abort.go abortPatch). */
function abort(ns: string): void {
  kubectl(
    "patch",
    "rollouts.argoproj.io",
    "queue-manager",
    "-n",
    ns,
    "--subresource=status",
    "--type=merge",
    "-p",
    '{"status":{"abort":true}}',
  );
}

/**
 * A namespace with the local stack's canary (Istio unless `edit` changes it), deployed and
 * Healthy; `raw` edits the rendered canary strategy (what our rules would refuse). Returns it and
 * how to roll out a new image.
 */
async function deployed(suffix: string, edit: (cfg: any) => void = () => {}, raw: (canary: any) => void = () => {}) {
  const cfg = structuredClone(base) as any;
  edit(cfg);
  const ns = prepare(suffix, cfg);
  const body = rollout(cfg, localContext(ns)) as any;
  raw(body.spec.strategy.canary);
  apply(body);
  await expect(outcome(ns)).resolves.toEqual({ phase: "Healthy" });
  const update = (change: (spec: any) => void = () => {}) => {
    const next = structuredClone(body);
    next.spec.template.spec.containers[0].image = `${cfg.queueManager.image}-next`;
    change(next.spec);
    apply(next);
  };
  return { ns, update };
}

beforeAll(async () => {
  requireEnv("KUBECONFIG");
  // The real controller is up: a test that sees nothing move proves nothing.
  expect((await fetch(requireEnv("ARGO_ROLLOUTS_HEALTHZ_URL"))).status).toBe(200);
});

afterAll(() => {
  for (const ns of namespaces) kubectlWith(undefined, undefined, "delete", "namespace", ns, "--wait=false");
});

describe("the scale-down combinations with the real controller", () => {
  // The combinations the rules tell apart (router or not, dynamicStableScale, each delay set or not), with the open pause
  // steps (one replica); and the default steps once. 0 and 30 are the same to every rule, so only 30.
  const classes = combinations().filter(
    (c) =>
      c.router !== "gateway-api" &&
      c.scaleDownDelaySeconds !== 0 &&
      c.abortScaleDownDelaySeconds !== 0 &&
      (c.steps === "open pause" ||
        (c.router === "istio" &&
          !c.dynamicStableScale &&
          c.scaleDownDelaySeconds === undefined &&
          c.abortScaleDownDelaySeconds === undefined)),
  );

  it(`each of ${classes.length} combinations: accepted by our rules means accepted by the controller; refused means InvalidSpec or ignored`, async () => {
    const cases = classes.map((c, i) => {
      const raw = { rollouts: structuredClone(base) };
      applyCombination(raw, c);
      const cfg = raw.rollouts;
      const problems = scaleDownRules(cfg);
      const ns = prepare(`c${i}`, cfg);
      const body = rollout(cfg, localContext(ns)) as any;
      if (problems.length > 0) {
        // What the config asked for, as an `up` without our rules would have sent it.
        const canary = body.spec.strategy.canary;
        for (const k of ["abortScaleDownDelaySeconds", "scaleDownDelaySeconds", "dynamicStableScale"]) delete canary[k];
        if (c.dynamicStableScale) canary.dynamicStableScale = true;
        if (c.scaleDownDelaySeconds !== undefined) canary.scaleDownDelaySeconds = c.scaleDownDelaySeconds;
        if (c.abortScaleDownDelaySeconds !== undefined) canary.abortScaleDownDelaySeconds = c.abortScaleDownDelaySeconds;
      }
      apply(body);
      return { c, ns, refused: problems.length > 0, rulesSayInvalid: canaryErrors(body.spec.strategy.canary).length > 0 };
    });
    const verdicts = await eventually(
      "the controller judged every Rollout",
      () => {
        const v = cases.map((k) => controllerVerdict(k.ns));
        return v.every((x) => x !== undefined) ? v : undefined;
      },
      90_000,
    );
    const table = cases.map((k, i) => `${k.c.name}: ours ${k.refused ? "refused" : "accepted"}; controller ${verdicts[i]!.slice(0, 140)}`);
    console.log(table.join("\n"));
    cases.forEach((k, i) => {
      const controllerInvalid = verdicts[i]!.startsWith("InvalidSpec");
      expect([k.c.name, controllerInvalid]).toEqual([k.c.name, k.rulesSayInvalid]);
      if (!k.refused) expect([k.c.name, verdicts[i]]).toEqual([k.c.name, "accepted"]);
      // Refused but accepted by the controller: only the abort delay without a router, which it ignores.
      if (k.refused && !controllerInvalid)
        expect([k.c.name, k.c.router, k.c.abortScaleDownDelaySeconds]).toEqual([k.c.name, "replicas", 30]);
    });
    expect(cases.filter((k, i) => k.refused && verdicts[i]!.startsWith("InvalidSpec")).length).toBeGreaterThan(0);

    // RolloutOutcome on the two: the InvalidSpec with its own message, an accepted one Healthy.
    const invalid = cases.find((k) => k.c.router === "istio" && k.c.dynamicStableScale && k.c.scaleDownDelaySeconds === 30)!;
    await expect(outcome(invalid.ns)).rejects.toThrow(
      /refused Rollout .* as InvalidSpec: .*spec\.strategy\.dynamicStableScale: Invalid value: true: Canary dynamicStableScale cannot be used with scaleDownDelaySeconds.*Nothing was rolled out/,
    );
    const fine = cases.find((k) => !k.refused && k.c.steps === "default")!;
    await expect(outcome(fine.ns)).resolves.toEqual({ phase: "Healthy" });
  }, 300_000);
});

describe("abortScaleDownDelaySeconds with the real controller", () => {
  /** After an abort: the canary ReplicaSet's replicas and its scale-down deadline (types.go DefaultReplicaSetScaleDownDeadlineAnnotationKey). */
  async function abortedCanary(suffix: string, edit: (cfg: any) => void, raw: (canary: any) => void) {
    const { ns, update } = await deployed(suffix, edit, raw);
    update();
    const canary = await eventually("the canary at its open pause", () => {
      const s = readRollout(ns).status;
      return (s?.pauseConditions ?? []).some((p) => p.reason === "CanaryPauseStep") ? s?.currentPodHash : undefined;
    });
    abort(ns);
    return eventually("the controller acted on the canary's ReplicaSet", () => {
      const rs = JSON.parse(kubectl("get", "replicasets", "-n", ns, "-l", `rollouts-pod-template-hash=${canary}`, "-o", "json")).items[0];
      const deadline = rs?.metadata?.annotations?.["scale-down-deadline"] as string | undefined;
      const replicas = rs?.spec?.replicas as number | undefined;
      return deadline !== undefined || replicas === 0 ? { replicas, deadline } : undefined;
    });
  }

  it("keeps an aborted canary's pods with a router, and scales them down at once without one (why the config refuses it there)", async () => {
    const steps = (weight: number) => [{ setWeight: weight }, { pause: {} }, { setWeight: 100 }];
    const routed = await abortedCanary(
      "abort-istio",
      (cfg) => {
        cfg.steps = steps(10);
        cfg.abortScaleDownDelaySeconds = 300;
      },
      () => {},
    );
    expect(routed).toEqual({ replicas: 1, deadline: expect.any(String) });
    const basic = await abortedCanary(
      "abort-replicas",
      (cfg) => {
        cfg.router = { type: "replicas" };
        cfg.queueManager.replicas = 2;
        cfg.steps = steps(50);
        delete cfg.abortScaleDownDelaySeconds;
        delete cfg.scaleDownDelaySeconds;
      },
      // What the config refuses: the delay without a router, as an `up` without the rule would send it.
      (canary) => (canary.abortScaleDownDelaySeconds = 300),
    );
    expect(basic).toEqual({ replicas: 0, deadline: undefined });
  }, 240_000);
});

describe("measurement sequences with the real controller", () => {
  const scripts = new Map<string, Measurement[]>();
  const served = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const id = (req.url ?? "").slice(1);
    const script = scripts.get(id) ?? [];
    const i = served.get(id) ?? 0;
    served.set(id, i + 1);
    // Past the script: an Error, so a controller that measured more than the evaluator would shows up in the counts.
    const m = script[i] ?? "Error";
    const body = { Successful: { result: [0] }, Failed: { result: [0.5] }, Inconclusive: { result: [] } }[m as "Successful"];
    res.writeHead(m === "Error" ? 500 : 200, { "content-type": "application/json" });
    res.end(m === "Error" ? "scripted error" : JSON.stringify(body));
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  afterAll(() => server.close());

  const [S, F, I, E]: Measurement[] = ["Successful", "Failed", "Inconclusive", "Error"] as const;
  const ours: MetricLimits = { interval: "1s", ...STEP_LIMITS };
  const count3: MetricLimits = { ...ours, count: 3 };
  const cases: { name: string; limits: MetricLimits; seq: Measurement[]; naive: string }[] = [
    { name: "count3-sfs", limits: count3, seq: [S, F, S], naive: "Successful (one bad minute is noise)" },
    { name: "count3-sis", limits: count3, seq: [S, I, S], naive: "Successful (one empty minute is tolerated)" },
    { name: "sfss", limits: ours, seq: [S, F, S, S], naive: "Successful" },
    { name: "siss", limits: ours, seq: [S, I, S, S], naive: "Successful" },
    { name: "sfis", limits: ours, seq: [S, F, I, S], naive: "Successful (one bad and one empty, each within its limit)" },
    { name: "fsf", limits: ours, seq: [F, S, F], naive: "Failed" },
    { name: "ii", limits: ours, seq: [I, I], naive: "Inconclusive" },
    { name: "ess", limits: ours, seq: [E, S, S], naive: "Successful" },
  ];

  it("end as argo-aggregation.ts says, measurement for measurement, where a naive reading of the limits differs too", async () => {
    const port = (server.address() as AddressInfo).port;
    const conditions = (
      analysisTemplates(base.analysis, "x")[0]!.spec.metrics as { successCondition: string; failureCondition: string }[]
    )[0]!;
    const ns = `${RUN}-seq`;
    kubectl("create", "namespace", ns);
    namespaces.push(ns);
    for (const c of cases) {
      scripts.set(c.name, c.seq);
      apply({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "AnalysisRun",
        metadata: { name: c.name, namespace: ns },
        spec: {
          metrics: [
            {
              name: "error-rate",
              ...c.limits,
              successCondition: conditions.successCondition,
              failureCondition: conditions.failureCondition,
              provider: { web: { url: `http://127.0.0.1:${port}/${c.name}`, jsonPath: "{$.result}" } },
            },
          ],
        },
      });
    }
    const runs = await eventually(
      "every AnalysisRun completed",
      () => {
        const list = JSON.parse(kubectl("get", "analysisruns.argoproj.io", "-n", ns, "-o", "json")).items as AnalysisRunObject[];
        const done = list.filter((r) => ["Successful", "Failed", "Inconclusive", "Error"].includes(r.status?.phase ?? ""));
        return done.length === cases.length ? done : undefined;
      },
      120_000,
    );
    const rows = cases.map((c) => {
      const run = runs.find((r) => r.metadata?.name === c.name)!;
      const result = (run.status?.metricResults ?? [])[0] as { phase?: string; count?: number; error?: number };
      const controller = { phase: run.status?.phase, metricPhase: result.phase, taken: (result.count ?? 0) + (result.error ?? 0) };
      const evaluator = runMetric(c.limits, c.seq);
      console.log(
        `${c.name} ${c.seq.map((m) => m[0]).join("")}: naive ${c.naive}; Argo ${controller.phase} after ${controller.taken}; evaluator ${evaluator.phase} after ${evaluator.taken}`,
      );
      return { name: c.name, controller, evaluator: { phase: evaluator.phase, metricPhase: evaluator.phase, taken: evaluator.taken } };
    });
    for (const r of rows) expect([r.name, r.controller]).toEqual([r.name, r.evaluator]);
    // The sequences where reading the limits one by one goes wrong: good, bad, good with count 3, and one bad plus one empty.
    expect(rows.filter((r) => ["count3-sfs", "count3-sis", "sfis"].includes(r.name)).map((r) => r.controller.phase)).toEqual([
      "Inconclusive",
      "Inconclusive",
      "Inconclusive",
    ]);
  }, 180_000);
});

describe("RolloutOutcome with the real controller", () => {
  it("an open-ended pause stops `up` with its own message", async () => {
    const { ns, update } = await deployed("open", (cfg) => (cfg.steps = [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }]));
    update();
    await expect(outcome(ns)).rejects.toThrow(
      /waiting at step 2 of 3, a pause without a duration .*not a failure of the canary.*promote queue-manager/,
    );
  }, 180_000);

  it("an abort fails `up` saying the stable version keeps serving", async () => {
    const { ns, update } = await deployed(
      "abort",
      (cfg) => (cfg.steps = [{ setWeight: 10 }, { pause: { duration: "1h" } }, { setWeight: 100 }]),
    );
    update();
    const lines: string[] = [];
    const waiting = outcome(ns, { lines });
    // The wait has reported the timed pause (it waits through it rather than failing on it).
    await eventually("the wait reported the canary at its timed pause", () =>
      lines.some((l) => l.includes('{"pause":{"duration":"1h"}}')) ? true : undefined,
    );
    abort(ns);
    await expect(waiting).rejects.toThrow(/Rollout .* was aborted: RolloutAborted: .*The stable version keeps serving/);
  }, 180_000);

  it("a progress deadline names the pods that did not come up", async () => {
    const { ns, update } = await deployed("deadline");
    // A node selector no node has: the canary's pod stays Pending.
    update((spec) => {
      spec.progressDeadlineSeconds = 15;
      spec.template.spec.nodeSelector = { "streamforge.test/no-such-node": "true" };
    });
    await expect(outcome(ns)).rejects.toThrow(
      /made no progress within progressDeadlineSeconds \(15 s\): .*rollouts-pod-template-hash=.*does not abort/,
    );
  }, 180_000);

  it("an Inconclusive analysis pauses, `up` reports the measurements while it waits and then says there was no series", async () => {
    const { ns, update } = await deployed("inconclusive", (cfg) => {
      // A timed pause first: the analysis starts only once the wait (a fresh Node process, slow to
      // start on a busy machine) is seen reporting, so it observes the measurements as they come.
      cfg.steps = [{ setWeight: 10 }, { pause: { duration: "30s" } }, { analysis: true }, { setWeight: 100 }];
      cfg.analysis.interval = "6s";
      cfg.analysis.prometheusAddress = requireEnv("PROMETHEUS_URL");
    });
    update();
    const lines: string[] = [];
    // Nothing scrapes this namespace's pods: every query is empty.
    const waiting = outcome(ns, { lines });
    await eventually("the wait reported the canary at its timed pause", () =>
      lines.some((l) => l.includes('{"pause":{"duration":"30s"}}')) ? true : undefined,
    );
    await expect(waiting).rejects.toThrow(/is paused: its analysis was Inconclusive\. .*measured (\[\], )+\[\]: no series at all/);
    console.log(`what the wait reported:\n${lines.join("\n")}`);
    expect(lines.some((l) => /(error-rate|critical-errors): Inconclusive \[\]/.test(l))).toBe(true);
  }, 180_000);

  it("an analysis of a canary without traffic pauses, and `up` says no traffic reached it (the error rate is [NaN])", async () => {
    // The operator's events (not a pod here), and queue-manager's series for the canary's pods as
    // prometheus_client starts them: requests 0, no 5xx series; scraped through the PodMonitor.
    const started = Date.now();
    const exporter = http.createServer((_req, res) => {
      const body = `# TYPE streamforge_operator_events_total counter\nstreamforge_operator_events_total{kind="progress"} ${(Date.now() - started) / 50}\n`;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(body);
    });
    await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
    const port = (exporter.address() as AddressInfo).port;
    const scrapeInterval = "2s";
    const nsName = `${RUN}-notraffic`;
    const prometheus = await startOperatedPrometheus("controller-notraffic", [podMonitor(nsName, scrapeInterval)]);
    let canary: string | undefined;
    const pods = new PodEndpoints(nsName, "app.kubernetes.io/name=queue-manager", (pod) =>
      canary !== undefined && pod.labels["rollouts-pod-template-hash"] === canary
        ? '# TYPE http_requests_total counter\nhttp_requests_total{status="2xx"} 0\n'
        : undefined,
    ).start();
    try {
      writeScrapeTargets(path.join(prometheus.targetsDir, "operator.json"), [
        { targets: [`127.0.0.1:${port}`], labels: { job: "controller-itest-operator" } },
      ]);
      const { ns, update } = await deployed("notraffic", (cfg) => {
        // The pause gives Prometheus time to scrape the canary's series before the analysis reads them.
        cfg.steps = [{ setWeight: 10 }, { pause: { duration: "20s" } }, { analysis: true }, { setWeight: 100 }];
        cfg.analysis.interval = "6s";
        cfg.analysis.scrapeInterval = scrapeInterval;
        cfg.analysis.prometheusAddress = prometheus.url;
      });
      const stable = readRollout(ns).status?.currentPodHash;
      update();
      canary = await eventually("the controller created the canary", () => {
        const hash = readRollout(ns).status?.currentPodHash;
        return hash && hash !== stable ? hash : undefined;
      });
      const lines: string[] = [];
      await expect(outcome(ns, { lines })).rejects.toThrow(
        /is paused: its analysis was Inconclusive\. .*error-rate measured \[NaN\], \[NaN\]: no traffic reached the canary in the window/,
      );
      console.log(`what the wait reported:\n${lines.join("\n")}`);
    } finally {
      await pods.stop();
      await prometheus.stop();
      exporter.close();
    }
  }, 180_000);

  it("a Rollout no controller observes fails `up` naming the controller", async () => {
    const cfg = structuredClone(base);
    const ns = prepare("nocontroller", cfg);
    const body = rollout(cfg, localContext(ns)) as any;
    // The controller runs without an instance id and so skips Rollouts that carry one (utils/controller/controller.go InstanceIDRequirement).
    body.metadata.labels = { ...body.metadata.labels, "argo-rollouts.argoproj.io/controller-instance-id": "no-such-controller" };
    apply(body);
    await expect(outcome(ns, { controllerGraceSeconds: 5 })).rejects.toThrow(/has not observed Rollout .* in 5 s .*is it running\?/);
    expect(readRollout(ns).status).toBeUndefined();
  }, 60_000);
});
