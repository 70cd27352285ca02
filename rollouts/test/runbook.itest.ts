/**
 * docs/runbook.md's canary procedure, run for real: its own commands (read from the runbook, moved
 * to this test's namespace) through the REAL `kubectl argo rollouts` plugin (local/rollouts.sh
 * builds it from the controller's module, v1.10.2) against the REAL controller, each followed by
 * `pulumi up` (the real CLI) on a stack of this test's own, checked against what the runbook says
 * it does. Abort (then `up` again unchanged), retry, promote (watched with `get rollout -w`),
 * promote --full, and undo after an abort. The plugin's patches are in its source
 * (pkg/kubectl-argo-rollouts/cmd/<verb>/<verb>.go); what follows them is the controller's.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../infra/render/render";
import { eventually, kubectl, promQuery, requireEnv } from "../../test/integration/local-platform";
import { CanaryStack } from "./canary-stack";
import {
  containsInOrder,
  findCommand,
  frameField,
  inNamespace,
  markdownSection,
  quotedMessage,
  sectionCommands,
  shellWords,
  watchFrames,
} from "./runbook";

const stack = new CanaryStack("rollouts-runbook", "runbook");
const APPS = stack.apps;
const AWAIT = { enabled: true, timeoutSeconds: 300 };
const image = (tag: string) => `registry.local:5000/streamforge/queue-manager:${tag}`;

const SECTION = markdownSection(
  fs.readFileSync(path.join(PROJECT_ROOT, "docs", "runbook.md"), "utf8"),
  "Procedure: abort, retry or promote a canary",
);
const COMMANDS = sectionCommands(SECTION);
/** The runbook's command that is exactly `text` (or, with `exact` false, starts with it), as words in this test's namespace. */
const runbook = (text: string, exact = true) => inNamespace(shellWords(findCommand(COMMANDS, text, exact)), APPS);

/** The environment the runbook's commands run in: the plugin on PATH, where kubectl looks for `kubectl-argo-rollouts`. */
function commandEnv(): NodeJS.ProcessEnv {
  const plugin = requireEnv("ARGO_ROLLOUTS_PLUGIN");
  return { ...process.env, PATH: `${path.dirname(plugin)}:${process.env.PATH ?? ""}` };
}

/** Runs one of the runbook's commands (words from `runbook`); throws with its output when it fails. */
function run(words: string[]): string {
  const [cmd, ...args] = words;
  const r = spawnSync(cmd!, args, { encoding: "utf8", env: commandEnv(), timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${words.join(" ")} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** `get rollout -w` in the background, until `stop` sends it SIGINT (as Ctrl-C would) by its PID. */
function watch(words: string[]) {
  const [cmd, ...args] = words;
  const child = spawn(cmd!, args, { env: commandEnv() });
  let output = "";
  child.stdout.on("data", (d) => (output += String(d)));
  child.stderr.on("data", (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    frames: () => watchFrames(output),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}
let watching: ReturnType<typeof watch> | undefined;

// ---- what the cluster holds ------------------------------------------------------------------

interface Rs {
  hash: string;
  replicas: number;
  scaleDownDeadline?: string;
}
function replicaSets(): Rs[] {
  const list = JSON.parse(kubectl("get", "replicasets", "-n", APPS, "-l", "app.kubernetes.io/name=queue-manager", "-o", "json")).items;
  return list.map((rs: any) => ({
    hash: rs.metadata.labels["rollouts-pod-template-hash"],
    replicas: rs.spec.replicas,
    // types.go DefaultReplicaSetScaleDownDeadlineAnnotationKey
    scaleDownDeadline: rs.metadata.annotations?.["scale-down-deadline"],
  }));
}
const rolloutField = (jsonpath: string) =>
  kubectl("get", "rollouts.argoproj.io", "queue-manager", "-n", APPS, "-o", `jsonpath=${jsonpath}`);
const specImage = () => rolloutField("{.spec.template.spec.containers[0].image}");
const generation = () => Number(rolloutField("{.metadata.generation}"));
/** What a `pulumi up` that changes nothing leaves as it was: the spec's generation, the ReplicaSets, stable and current hashes. */
function snapshot() {
  const s = stack.status();
  return {
    generation: generation(),
    replicaSets: replicaSets()
      .map((r) => r.hash)
      .sort(),
    stable: s.stableRS,
    current: s.currentPodHash,
  };
}
/** The step AnalysisRuns of the Rollout, oldest first, with their phases. */
function analysisRuns(): { name: string; phase: string }[] {
  const list = JSON.parse(kubectl("get", "analysisruns.argoproj.io", "-n", APPS, "-o", "json")).items;
  return list
    .sort((a: any, b: any) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp))
    .map((r: any) => ({ name: r.metadata.name, phase: r.status?.phase ?? "" }));
}

/** The runbook's checks: the Rollout's phase, and the VirtualService's "stable canary" weights. */
const checkPhase = () => run(runbook("kubectl get rollout queue-manager -n stf", false));
const checkWeights = () => run(runbook("kubectl get virtualservice queue-manager -n stf", false));

/** What the runbook says a waiting `up` fails with after an abort, its `...` left open. */
const ABORTED_UP = () => quotedMessage(SECTION, "(`rollouts/outcome.ts`) fails with", APPS);

/** The canary of a new image at its first step (10%): the moment the runbook's abort is for. */
async function canaryAtFirstStep(stable: string): Promise<string> {
  const canary = await stack.canaryHash(stable);
  await eventually("the canary at 10%", () => (stack.weights()[1] === 10 ? true : undefined));
  return canary;
}

/** `pulumi up` of a new image whose canary is never scraped: its step analysis has no series, so it pauses Inconclusive and `up` fails. */
async function pausedInconclusive(tag: string) {
  const waiting = stack.up(tag, AWAIT);
  const canary = await stack.canaryHash(stack.status().stableRS!);
  const result = await waiting.done;
  expect(result.code).not.toBe(0);
  expect(result.output).toContain("its analysis was Inconclusive");
  return { canary, result };
}

/** Waits until Prometheus has a request rate for `hash`, so the analysis after a promote measures data, not a scrape not yet made. */
function scraped(hash: string): Promise<true> {
  const query = `sum(rate(http_requests_total{namespace="${APPS}",rollouts_pod_template_hash="${hash}"}[10s]))`;
  return eventually("Prometheus scraped the canary", async () =>
    (await promQuery(stack.prometheus!.url, query)).length > 0 ? true : undefined,
  );
}

beforeAll(async () => {
  requireEnv("ARGO_ROLLOUTS_PLUGIN");
  await stack.start();
});

afterAll(async () => {
  await watching?.stop();
  await stack.stop();
});

describe("the runbook's canary procedure with the real plugin and controller", () => {
  // Each case reads the stable and canary hashes from the Rollout, so one failing case does not mislead the next.

  it("first deploy; the runbook's `get rollout` shows it Healthy with its image as stable", async () => {
    const first = await stack.up("1.0.0", AWAIT).done;
    if (first.code !== 0) console.log(`pulumi up failed:\n${first.output.slice(-3000)}`);
    expect(first.code).toBe(0);
    // The stack's Prometheus follows the PodMonitor `up` created (prometheus-operator's config generation).
    await stack.syncMonitors();
    stack.serve(stack.status().stableRS!, "healthy");
    const shown = run(runbook("kubectl argo rollouts get rollout queue-manager -n stf"));
    console.log(`kubectl argo rollouts get rollout:\n${shown}`);
    const frame = watchFrames(shown)[0]!;
    expect(frameField(frame, "Status")).toMatch(/Healthy$/);
    expect(frameField(frame, "Images")).toBe(`${image("1.0.0")} (stable)`);
    expect(checkPhase()).toBe("Healthy");
    expect(checkWeights()).toBe("100 0");
  });

  it("abort: traffic back on stable, the canary's pods kept, Degraded, the spec still the new image; the waiting `up` fails as the runbook quotes", async () => {
    const stable = stack.status().stableRS!;
    const waiting = stack.up("2.0.0", AWAIT);
    const canary = await canaryAtFirstStep(stable);
    expect(run(runbook("kubectl argo rollouts abort queue-manager -n stf"))).toBe("rollout 'queue-manager' aborted");
    const abortedAt = Date.now();
    const result = await waiting.done;
    if (!containsInOrder(result.output, ABORTED_UP())) console.log(`pulumi up:\n${result.output.slice(-3000)}`);
    expect(result.code).not.toBe(0);
    expect(containsInOrder(result.output, ABORTED_UP())).toBe(true);

    await eventually("the weights back on stable", () => (checkWeights() === "100 0" ? true : undefined));
    expect(checkPhase()).toBe("Degraded");
    expect(specImage()).toBe(image("2.0.0"));
    // Stable was never scaled down; the canary's ReplicaSet keeps its pod until abortScaleDownDelaySeconds
    // (the local stack's 30 s) after the abort (rollout/replicaset.go, shouldDelayScaleDownOnAbort).
    const rs = await eventually("the canary's scale-down deadline", () => {
      const all = replicaSets();
      return all.find((r) => r.hash === canary)?.scaleDownDeadline ? all : undefined;
    });
    expect(rs.find((r) => r.hash === stable)!.replicas).toBe(1);
    const kept = rs.find((r) => r.hash === canary)!;
    expect(kept.replicas).toBe(1);
    const delay = (Date.parse(kept.scaleDownDeadline!) - abortedAt) / 1000;
    expect(delay).toBeGreaterThan(20);
    expect(delay).toBeLessThan(40);

    const frame = watchFrames(run(runbook("kubectl argo rollouts get rollout queue-manager -n stf")))[0]!;
    expect(frameField(frame, "Status")).toMatch(/Degraded$/);
    expect(frameField(frame, "Message")).toMatch(/^RolloutAborted: /);
  });

  it("after an abort, `pulumi up` without a change fails the same way and starts no canary", async () => {
    const before = snapshot();
    const result = await stack.up("2.0.0", AWAIT).done;
    expect(result.code).not.toBe(0);
    expect(containsInOrder(result.output, ABORTED_UP())).toBe(true);
    expect(snapshot()).toEqual(before);
    expect(checkPhase()).toBe("Degraded");
    expect(checkWeights()).toBe("100 0");
  });

  it("retry: the same image, a new canary from the first step; `pulumi up` then waits for it and succeeds", async () => {
    // The aborted canary is still the current pod hash: the spec names its image.
    const canary = stack.status().currentPodHash!;
    stack.serve(canary, "healthy");
    expect(run(runbook("kubectl argo rollouts retry rollout queue-manager -n stf"))).toBe("rollout 'queue-manager' retried");
    await eventually("the canary back at 10%", () => {
      const s = stack.status();
      return !s.abort && s.currentPodHash === canary && stack.weights()[1] === 10 ? true : undefined;
    });
    // Its pods were scaled down after the abort (abortScaleDownDelaySeconds): scraped again once
    // the retry brought them back, within the step's pause before the analysis.
    await scraped(canary);
    const result = await stack.up("2.0.0", AWAIT).done;
    if (result.code !== 0) console.log(`pulumi up:\n${result.output.slice(-3000)}`);
    expect(result.code).toBe(0);
    expect([stack.status().phase, stack.status().stableRS]).toEqual(["Healthy", canary]);
    expect(checkWeights()).toBe("100 0");
  });

  it("promote: a canary paused Inconclusive goes on to the next step, later analyses still run, `get rollout -w` follows it; `up` then changes nothing", async () => {
    const { canary, result } = await pausedInconclusive("3.0.0");
    const promote = runbook("kubectl argo rollouts promote queue-manager -n stf");
    expect(result.output).toContain(`\`${promote.join(" ")}\``);
    expect(checkPhase()).toBe("Paused");
    // "Look first": which template was Inconclusive.
    expect(run(runbook("kubectl get analysisruns -n stf"))).toMatch(/Inconclusive/);

    watching = watch(runbook("kubectl argo rollouts get rollout queue-manager -n stf -w"));
    await eventually("the watch showed the pause", () =>
      watching!.frames().some((f) => /Paused$/.test(frameField(f, "Status") ?? "")) ? true : undefined,
    );
    const runsBefore = analysisRuns().map((r) => r.name);
    stack.serve(canary, "healthy");
    await scraped(canary);
    expect(run(promote)).toBe("rollout 'queue-manager' promoted");
    await eventually(
      "the promoted canary Healthy as stable",
      () => {
        const s = stack.status();
        return s.phase === "Healthy" && s.stableRS === canary ? true : undefined;
      },
      240_000,
    );
    // The later step analyses (after 25% and 50%) ran and passed.
    const later = analysisRuns().filter((r) => !runsBefore.includes(r.name));
    console.log(`analysis after the promote: ${JSON.stringify(later)}`);
    expect(later.filter((r) => r.phase === "Successful").length).toBeGreaterThanOrEqual(2);

    await eventually("the watch showed it Healthy", () =>
      /Healthy$/.test(frameField(watching!.frames().at(-1) ?? "", "Status") ?? "") ? true : undefined,
    );
    const frames = watching.frames();
    await watching.stop();
    watching = undefined;
    const weightsSeen = frames.map((f) => frameField(f, "SetWeight")).filter((w, i, all) => w !== all[i - 1]);
    console.log(`get rollout -w: ${frames.length} frames, SetWeight ${weightsSeen.join(" -> ")}`);
    expect(weightsSeen).toEqual(expect.arrayContaining(["10", "25", "50", "100"]));
    // (The old stable's image is listed too while scaleDownDelaySeconds keeps its pods.)
    expect(frames.at(-1)).toContain(`${image("3.0.0")} (stable)`);

    const before = snapshot();
    const again = await stack.up("3.0.0", AWAIT).done;
    if (again.code !== 0) console.log(`pulumi up:\n${again.output.slice(-3000)}`);
    expect(again.code).toBe(0);
    expect(snapshot()).toEqual(before);
    expect(stack.status().phase).toBe("Healthy");
  });

  it("promote --full: skips every remaining step and analysis; `up` then changes nothing", async () => {
    const { canary } = await pausedInconclusive("4.0.0");
    const runsBefore = analysisRuns().map((r) => r.name);
    expect(run(runbook("kubectl argo rollouts promote queue-manager -n stf --full"))).toBe("rollout 'queue-manager' fully promoted");
    await eventually("the canary Healthy as stable", () => {
      const s = stack.status();
      return s.phase === "Healthy" && s.stableRS === canary ? true : undefined;
    });
    expect(analysisRuns().filter((r) => !runsBefore.includes(r.name))).toEqual([]);
    expect(checkWeights()).toBe("100 0");

    const before = snapshot();
    const again = await stack.up("4.0.0", AWAIT).done;
    expect(again.code).toBe(0);
    expect(snapshot()).toEqual(before);
  });

  it("undo after an abort: back to the running image without a canary; with the stack's image set to it, `up` starts no canary", async () => {
    const stable = stack.status().stableRS!;
    const waiting = stack.up("5.0.0", AWAIT);
    await canaryAtFirstStep(stable);
    run(runbook("kubectl argo rollouts abort queue-manager -n stf"));
    expect((await waiting.done).code).not.toBe(0);
    expect(run(runbook("kubectl argo rollouts undo queue-manager -n stf"))).toBe("rollout 'queue-manager' undo");
    expect(specImage()).toBe(image("4.0.0"));
    await eventually("the controller took the undo", () => (Number(stack.status().observedGeneration) >= generation() ? true : undefined));
    const undone = snapshot();
    const templateUndone = rolloutField("{.spec.template}");
    console.log(`after undo: ${JSON.stringify(undone)}, ${checkPhase()}, abort ${stack.status().abort}`);
    expect([undone.stable, undone.current]).toEqual([stable, stable]);
    expect(checkPhase()).toBe("Healthy");

    const result = await stack.up("4.0.0", AWAIT).done;
    const after = snapshot();
    if (result.code !== 0) console.log(`pulumi up:\n${result.output.slice(-3000)}`);
    console.log(`pulumi up after undo: ${JSON.stringify(after)}`);
    expect(result.code).toBe(0);
    // `up` rewrote the template undo had copied from the ReplicaSet (with the API server's defaults), raising the
    // generation, and the controller kept the stable ReplicaSet for it (utils/replicaset/replicaset.go FindNewReplicaSet).
    expect(templateUndone).toContain('"terminationMessagePath"');
    expect(rolloutField("{.spec.template}")).not.toContain('"terminationMessagePath"');
    expect(after.generation).toBeGreaterThan(undone.generation);
    expect({ ...after, generation: undefined }).toEqual({ ...undone, generation: undefined });
    expect(checkPhase()).toBe("Healthy");
  });
});
