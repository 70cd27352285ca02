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
import { eventually } from "../../test/integration/local-platform";
import { QUEUE_MANAGER } from "../spec";
import { CanaryStack, type RolloutStatus } from "./canary-stack";

// A suffix of its own where several checkouts share the local platform and its Pulumi backend.
const SUFFIX = process.env.ROLLOUTS_E2E_SUFFIX ?? "canary";
const INTERVAL_S = 10;
// A pause after 100% keeps the full weight visible before promotion.
const stack = new CanaryStack(SUFFIX === "canary" ? "rollouts-e2e" : `rollouts-e2e-${SUFFIX}`, SUFFIX, (rollouts) => {
  rollouts.steps = [...rollouts.steps, { pause: { duration: "5s" } }];
});
const APPS = stack.apps;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

describe("queue-manager's canary with the real Argo Rollouts controller", () => {
  let stable = "";

  it("first deploy: the Rollout comes up Healthy and `pulumi up` returns once it is", async () => {
    const first = await stack.up("1.0.0", { enabled: true, timeoutSeconds: 120 }).done;
    if (first.code !== 0) console.log(`pulumi up failed:\n${first.output.slice(-3000)}`);
    expect([first.code, first.output.slice(-800)]).toEqual([0, expect.stringContaining("created")]);
    const s = stack.status();
    expect(s.phase).toBe("Healthy");
    stable = s.stableRS!;
    // The PodMonitor as `up` created it in the API server, configured as prometheus-operator would.
    await stack.syncMonitors();
    expect([stack.prometheus!.warnings(), stack.prometheus!.config()]).toEqual([
      "",
      expect.stringContaining(`job_name: podMonitor/${APPS}/${QUEUE_MANAGER}/0`),
    ]);
    stack.serve(stable, "healthy");
    expect(stack.weights()).toEqual([100, 0]);
  });

  it("a healthy canary is promoted: weights step 10 -> 25 -> 50 -> 100, and `pulumi up` succeeds", async () => {
    const t0 = Date.now();
    const run = stack.up("2.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await stack.canaryHash(stable);
    stack.serve(canary, "healthy");
    const seen = await stack.canaryWeightsWhile(run);
    const result = await run.done;
    console.log(`healthy canary promoted in ${((Date.now() - t0) / 1000).toFixed(1)} s; canary weights seen: ${seen.join(" -> ")}`);
    expect([result.code, result.output.slice(-800)]).toEqual([0, expect.any(String)]);
    expect(seen.filter((w) => w > 0)).toEqual([10, 25, 50, 100]);
    // `up` reported the analysis measurements while it waited; the error rate of a canary without a 5xx series is 0.
    expect(result.output).toMatch(new RegExp(`Rollout ${APPS}/queue-manager: .*error-rate: Successful \\[0\\]`));
    const s = stack.status();
    expect([s.phase, s.stableRS]).toEqual(["Healthy", canary]);
    expect(stack.weights()).toEqual([100, 0]);
    stable = canary;
  });

  it("a failing canary is aborted by its analysis: weights return to stable and `pulumi up` fails, saying so", async () => {
    const run = stack.up("3.0.0", { enabled: true, timeoutSeconds: 300 });
    const canary = await stack.canaryHash(stable);
    stack.serve(canary, "failing");
    const badAt = Date.now();
    let abortedAt: number | undefined;
    // When the Rollout shows the abort, while `up` waits.
    await eventually(
      "pulumi up to return",
      () => {
        if (abortedAt === undefined && stack.status().abort) abortedAt = Date.now();
        return run.running() ? undefined : true;
      },
      600_000,
    );
    const result = await run.done;
    expect(abortedAt).toBeDefined();
    console.log(
      `failing canary: aborted ${((abortedAt! - badAt) / 1000).toFixed(1)} s after its bad metrics appeared (analysis interval ${INTERVAL_S} s, failureLimit 1)`,
    );
    console.log(`failing canary: pulumi up failed ${((Date.now() - badAt) / 1000).toFixed(1)} s after its bad metrics appeared`);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`Rollout ${APPS}/queue-manager was aborted`);
    expect(result.output).toContain("The stable version keeps serving");
    const s = stack.status();
    expect([s.abort, s.phase, s.stableRS]).toEqual([true, "Degraded", stable]);
    expect(stack.weights()).toEqual([100, 0]);
  });

  it("a canary without data pauses as Inconclusive; an `up` that does not wait returns at once", async () => {
    const t0 = Date.now();
    const result = await stack.up("4.0.0", { enabled: false, timeoutSeconds: 60 }).done;
    expect(result.code).toBe(0);
    const returnedIn = (Date.now() - t0) / 1000;
    // The new image starts a new canary after the abort; its pods are never scraped.
    const canary = await stack.canaryHash(stable);
    const s: RolloutStatus = await eventually(
      "the rollout paused as Inconclusive",
      () => {
        const now = stack.status();
        const reasons = (now.pauseConditions ?? []).map((p) => p.reason);
        if (now.phase === "Paused" && reasons.includes("InconclusiveAnalysisRun")) return now;
        throw new Error(`the rollout is ${now.phase} (${reasons.join(", ")})`);
      },
      90_000,
    );
    console.log(
      `no-data canary ${canary}: up returned in ${returnedIn.toFixed(1)} s; rollout ${s.phase} (${(s.pauseConditions ?? []).map((p) => p.reason).join(", ")}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(s.phase).toBe("Paused");
    expect((s.pauseConditions ?? []).map((p) => p.reason)).toContain("InconclusiveAnalysisRun");
    expect(stack.weights()[1]).toBe(10);
  });
});
