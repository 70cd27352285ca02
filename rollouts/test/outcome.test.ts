import {
  type AnalysisRunObject,
  type OutcomePorts,
  type RolloutObject,
  awaitRolloutOutcome,
  isTransientApiError,
  judgeRollout,
} from "../outcome";

const STEPS = [{ setWeight: 10 }, { pause: {} }, { pause: { duration: "1m" } }, { analysis: {} }, { setWeight: 100 }];
const rollout = (generation: number, status: object, spec: object = {}): RolloutObject => ({
  metadata: { namespace: "stf", name: "queue-manager", generation },
  spec: { strategy: { canary: { steps: STEPS } }, ...spec },
  status,
});
const judge = (r: RolloutObject, analysisRuns: AnalysisRunObject[] = [], waitedSeconds = 0) =>
  judgeRollout({ rollout: r, analysisRuns, waitedSeconds });
const reasonOf = (r: RolloutObject, runs: AnalysisRunObject[] = [], waited = 0) => {
  const v = judge(r, runs, waited);
  return v.state === "failed" ? v.reason : v.state;
};
const messageOf = (r: RolloutObject, runs: AnalysisRunObject[] = [], waited = 0) => {
  const v = judge(r, runs, waited);
  return v.state === "failed" ? v.message : "";
};

describe("the verdict on a Rollout's outcome", () => {
  it("waits until the controller has observed the current generation (a string), and names a controller that does not", () => {
    const stale = rollout(3, { observedGeneration: "2", phase: "Healthy" });
    expect(judge(stale, [], 59)).toEqual({ state: "waiting", progress: "waiting for the controller to observe generation 3" });
    expect(reasonOf(stale, [], 60)).toBe("ControllerNotRunning");
    expect(messageOf(stale, [], 60)).toMatch(
      /has not observed Rollout stf\/queue-manager in 60 s .*is it running\?.*kubectl -n argo-rollouts get pods/,
    );
    expect(judge(rollout(3, { observedGeneration: "3", phase: "Healthy" }))).toEqual({ state: "healthy" });
  });

  it("reports an InvalidSpec as a refused spec to fix in config, not as an abort", () => {
    const r = rollout(2, {
      observedGeneration: "2",
      phase: "Degraded",
      message: "InvalidSpec: ...",
      conditions: [
        {
          type: "InvalidSpec",
          status: "True",
          reason: "InvalidSpec",
          message: 'The Rollout "queue-manager" is invalid: spec.strategy.canary.dynamicStableScale: ...',
        },
      ],
    });
    expect(reasonOf(r)).toBe("InvalidSpec");
    expect(messageOf(r)).toMatch(
      /refused Rollout stf\/queue-manager as InvalidSpec: The Rollout "queue-manager" is invalid: spec\.strategy\.canary\.dynamicStableScale.*Nothing was rolled out.*fix the config/,
    );
    expect(messageOf(r)).not.toMatch(/aborted|Fix the image/);
  });

  it("fails on an abort with the failing analysis's message, saying the stable version keeps serving and what to do", () => {
    const r = rollout(4, {
      observedGeneration: "4",
      phase: "Degraded",
      abort: true,
      message:
        'RolloutAborted: Rollout aborted update to revision 4: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
      conditions: [{ type: "Progressing", status: "False", reason: "RolloutAborted" }],
    });
    const run = {
      metadata: { name: "qm-6d9-4-2" },
      status: { phase: "Failed", message: 'Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)' },
    };
    expect(reasonOf(r, [run])).toBe("Aborted");
    expect(messageOf(r, [run])).toMatch(
      /^Rollout stf\/queue-manager was aborted: RolloutAborted: .* qm-6d9-4-2: Metric "error-rate" assessed Failed .* The stable version keeps serving\. Fix the image/,
    );
  });

  it("waits for the controller to carry out a requested abort (status.abort set, no RolloutAborted condition yet)", () => {
    const requested = rollout(4, { observedGeneration: "4", phase: "Paused", abort: true, message: "CanaryPauseStep" });
    expect(judge(requested)).toEqual({ state: "waiting", progress: "abort requested, waiting for the controller to carry it out" });
  });

  it("names a progress deadline, the pods to look at, and that it did not abort", () => {
    const r = rollout(
      5,
      {
        observedGeneration: "5",
        phase: "Degraded",
        currentPodHash: "7f8c",
        conditions: [
          {
            type: "Progressing",
            status: "False",
            reason: "ProgressDeadlineExceeded",
            message: 'ReplicaSet "queue-manager-7f8c" has timed out progressing.',
          },
        ],
      },
      { progressDeadlineSeconds: 30 },
    );
    expect(reasonOf(r)).toBe("ProgressDeadlineExceeded");
    expect(messageOf(r)).toMatch(
      /no progress within progressDeadlineSeconds \(30 s\): ReplicaSet "queue-manager-7f8c" has timed out.*rollouts-pod-template-hash=7f8c.*does not abort/,
    );
  });

  it("tells no traffic from no series when the analysis is Inconclusive", () => {
    const paused = rollout(6, { observedGeneration: "6", phase: "Paused", pauseConditions: [{ reason: "InconclusiveAnalysisRun" }] });
    const run = (value: string) => ({
      metadata: { name: "qm-run" },
      status: {
        phase: "Inconclusive",
        metricResults: [
          {
            name: "error-rate",
            phase: "Inconclusive",
            measurements: [
              { phase: "Inconclusive", value },
              { phase: "Inconclusive", value },
            ],
          },
        ],
      },
    });
    expect(reasonOf(paused, [run("[NaN]")])).toBe("InconclusiveAnalysis");
    expect(messageOf(paused, [run("[NaN]")])).toMatch(
      /error-rate measured \[NaN\], \[NaN\]: no traffic reached the canary.*kubectl argo rollouts promote queue-manager -n stf/,
    );
    expect(messageOf(paused, [run("[]")])).toMatch(/error-rate measured \[\], \[\]: no series at all/);
  });

  it("stops at an open-ended pause with its own message, and waits through a timed one", () => {
    const at = (step: number) =>
      rollout(7, { observedGeneration: "7", phase: "Paused", currentStepIndex: step, pauseConditions: [{ reason: "CanaryPauseStep" }] });
    expect(reasonOf(at(1))).toBe("OpenEndedPause");
    expect(messageOf(at(1))).toMatch(/waiting at step 2 of 5, a pause without a duration.*not a failure of the canary.*promote/);
    expect(judge(at(2))).toEqual({ state: "waiting", progress: expect.stringContaining('step 3/5 {"pause":{"duration":"1m"}}') });
    expect(reasonOf(rollout(7, { observedGeneration: "7", phase: "Paused" }, { paused: true }))).toBe("ManuallyPaused");
  });

  it("reports the analysis measurements while it waits", () => {
    const r = rollout(8, {
      observedGeneration: "8",
      phase: "Progressing",
      currentStepIndex: 3,
      canary: { weights: { canary: { weight: 10 } } },
    });
    const run = {
      status: {
        phase: "Running",
        metricResults: [
          {
            name: "error-rate",
            measurements: [
              { phase: "Successful", value: "[0]" },
              { phase: "Failed", value: "[0.2]" },
            ],
          },
        ],
      },
    };
    expect(judge(r, [run])).toEqual({
      state: "waiting",
      progress: 'phase Progressing; step 4/5 {"analysis":{}}; canary weight 10%; error-rate: Successful [0], Failed [0.2]',
    });
  });
});

describe("waiting for the outcome", () => {
  /** A fake clock and a script of answers: each call of getRollout takes the next. */
  function ports(answers: (RolloutObject | Error)[]): OutcomePorts & { lines: string[]; calls: () => number } {
    let t = 0;
    let calls = 0;
    const lines: string[] = [];
    return {
      lines,
      calls: () => calls,
      getRollout: () => {
        const a = answers[Math.min(calls++, answers.length - 1)]!;
        return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
      },
      getAnalysisRun: () => Promise.reject(Object.assign(new Error("not found"), { code: 404 })),
      report: (line) => lines.push(line),
      now: () => t,
      sleep: (ms) => {
        t += ms;
        return Promise.resolve();
      },
    };
  }
  const apiError = (code: number | string) => Object.assign(new Error(`HTTP ${code}`), { code });
  const progressing = rollout(2, { observedGeneration: "2", phase: "Progressing", currentStepIndex: 0 });
  const healthy = rollout(2, { observedGeneration: "2", phase: "Healthy" });

  it("retries transient API errors (5xx, 429, no answer) and reports them, then goes on", async () => {
    const p = ports([apiError(503), apiError(429), apiError("ECONNRESET"), progressing, healthy]);
    await expect(awaitRolloutOutcome(p, { id: "stf/queue-manager", timeoutSeconds: 60 })).resolves.toEqual({ phase: "Healthy" });
    expect(p.calls()).toBe(5);
    expect(p.lines.filter((l) => l.includes("retrying"))).toHaveLength(3);
    expect(p.lines).toContain('Rollout stf/queue-manager: phase Progressing; step 1/5 {"setWeight":10}');
  });

  it("fails at once on an error retrying cannot mend", async () => {
    const p = ports([apiError(403), healthy]);
    await expect(awaitRolloutOutcome(p, { id: "stf/queue-manager", timeoutSeconds: 60 })).rejects.toThrow(
      /Reading Rollout stf\/queue-manager failed: HTTP 403/,
    );
    expect(p.calls()).toBe(1);
  });

  it("gives up at the timeout with the last progress and how to follow it", async () => {
    const p = ports([progressing]);
    await expect(awaitRolloutOutcome(p, { id: "stf/queue-manager", timeoutSeconds: 60 })).rejects.toThrow(
      /did not finish within 60 s \(phase Progressing; step 1\/5.*kubectl argo rollouts get rollout queue-manager -n stf -w/,
    );
  });

  it("classifies errors by HTTP status", () => {
    expect([500, 502, 429, "ETIMEDOUT", undefined].map((c) => isTransientApiError({ code: c }))).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 422].map((c) => isTransientApiError({ code: c }))).toEqual([false, false, false, false, false]);
  });
});
