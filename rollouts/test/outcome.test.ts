import { judgeRollout } from "../outcome";

const rollout = (generation: number, status: object) => ({ metadata: { namespace: "stf", name: "queue-manager", generation }, status });

describe("the verdict on a Rollout's outcome", () => {
  it("waits until the controller has observed the current generation (its observedGeneration is a string)", () => {
    expect(judgeRollout(rollout(3, { observedGeneration: "2", phase: "Healthy" }))).toEqual({
      state: "progressing",
      why: "the controller has not observed generation 3 yet",
    });
    expect(judgeRollout(rollout(3, { observedGeneration: "3", phase: "Healthy" }))).toEqual({ state: "healthy" });
  });

  it("fails on an abort, saying the stable version keeps serving and what to do", () => {
    const verdict = judgeRollout(
      rollout(4, { observedGeneration: "4", phase: "Degraded", abort: true, message: "RolloutAborted: metric error-rate failed" }),
    );
    expect(verdict).toEqual({
      state: "failed",
      message: expect.stringContaining("Rollout stf/queue-manager was aborted: RolloutAborted: metric error-rate failed"),
    });
    expect(verdict.state === "failed" && verdict.message).toMatch(/stable version keeps serving.*pulumi up/);
  });

  it("fails on a pause the analysis could not decide, and keeps waiting through planned pauses", () => {
    expect(
      judgeRollout(rollout(5, { observedGeneration: "5", phase: "Paused", pauseConditions: [{ reason: "InconclusiveAnalysisRun" }] })),
    ).toEqual({
      state: "failed",
      message: expect.stringMatching(/paused: its analysis was Inconclusive .*kubectl argo rollouts promote queue-manager -n stf/),
    });
    expect(
      judgeRollout(rollout(5, { observedGeneration: "5", phase: "Paused", pauseConditions: [{ reason: "CanaryPauseStep" }] })).state,
    ).toBe("progressing");
    expect(judgeRollout(rollout(5, { observedGeneration: "5", phase: "Progressing" })).state).toBe("progressing");
  });
});
