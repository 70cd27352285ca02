/**
 * Waits for a Rollout's outcome in `pulumi up`, and fails the `up` with what happened and what to do.
 *
 * `pulumi.com/waitFor` cannot do this for a Rollout: Argo Rollouts writes `status.observedGeneration`
 * as a string, which Pulumi's await does not read as a generation, so right after an image change
 * the old status ("Healthy") satisfies it and `up` returns before the canary has begun (seen with
 * the real controller). This dynamic resource is updated whenever the Rollout's spec changes; it
 * waits until the controller has observed that generation, reports the steps and the analysis
 * measurements while it waits, and ends on Healthy or on one of the outcomes `judgeRollout` names.
 *
 * The verdicts follow how argo-rollouts v1.10.2 states them: utils/rollout/rolloututil.go
 * CalculateRolloutPhase (InvalidSpec condition, then a condition with reason RolloutAborted or
 * ProgressDeadlineExceeded, then spec.paused, then pause conditions) and the pause reasons of
 * pkg/apis/rollouts/v1alpha1/types.go (InconclusiveAnalysisRun, CanaryPauseStep).
 */
import * as pulumi from "@pulumi/pulumi";
import { kubeClient } from "../infra/kit/kube-client";

/** Why `up` stopped short of Healthy. */
export type OutcomeReason =
  | "ControllerNotRunning"
  | "InvalidSpec"
  | "Aborted"
  | "ProgressDeadlineExceeded"
  | "ManuallyPaused"
  | "InconclusiveAnalysis"
  | "OpenEndedPause";

export type RolloutVerdict =
  | { readonly state: "waiting"; readonly progress: string }
  | { readonly state: "healthy" }
  | { readonly state: "failed"; readonly reason: OutcomeReason; readonly message: string };

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

type Step = Readonly<Record<string, unknown>> & { readonly pause?: { readonly duration?: string | number } };

export interface RolloutObject {
  readonly metadata?: { readonly generation?: number; readonly namespace?: string; readonly name?: string };
  readonly spec?: {
    readonly paused?: boolean;
    readonly progressDeadlineSeconds?: number;
    readonly strategy?: { readonly canary?: { readonly steps?: readonly Step[] } };
  };
  readonly status?: {
    readonly observedGeneration?: string | number;
    readonly phase?: string;
    readonly message?: string;
    readonly abort?: boolean;
    readonly currentStepIndex?: number;
    readonly currentPodHash?: string;
    readonly conditions?: readonly Condition[];
    readonly pauseConditions?: readonly { readonly reason?: string }[];
    readonly canary?: {
      readonly currentStepAnalysisRunStatus?: { readonly name?: string };
      readonly currentBackgroundAnalysisRunStatus?: { readonly name?: string };
      readonly weights?: { readonly canary?: { readonly weight?: number } };
    };
  };
}

export interface AnalysisRunObject {
  readonly metadata?: { readonly name?: string };
  readonly status?: {
    readonly phase?: string;
    readonly message?: string;
    readonly metricResults?: readonly {
      readonly name?: string;
      readonly phase?: string;
      readonly measurements?: readonly { readonly phase?: string; readonly value?: string }[];
    }[];
  };
}

/** What one look at the cluster saw. */
export interface Observation {
  readonly rollout: RolloutObject;
  /** The Rollout's current step and background AnalysisRuns, those that could be read. */
  readonly analysisRuns: readonly AnalysisRunObject[];
  /** Seconds since `up` began waiting for this generation. */
  readonly waitedSeconds: number;
}

/** How long a new generation may go unobserved before the controller is taken for not running. */
export const CONTROLLER_GRACE_SECONDS = 60;

/** Pure: the verdict on one observation of the Rollout. */
export function judgeRollout(obs: Observation, controllerGraceSeconds = CONTROLLER_GRACE_SECONDS): RolloutVerdict {
  const { rollout, analysisRuns } = obs;
  const ns = rollout.metadata?.namespace ?? "";
  const name = rollout.metadata?.name ?? "";
  const id = `${ns}/${name}`;
  const generation = rollout.metadata?.generation ?? 0;
  const status = rollout.status ?? {};
  const observed = Number(status.observedGeneration ?? 0);
  const plugin = `kubectl argo rollouts`;

  // The controller writes observedGeneration on every reconcile, InvalidSpec included (rollout/controller.go createInvalidRolloutCondition).
  if (observed < generation) {
    if (obs.waitedSeconds < controllerGraceSeconds)
      return { state: "waiting", progress: `waiting for the controller to observe generation ${generation}` };
    return {
      state: "failed",
      reason: "ControllerNotRunning",
      message:
        `The Argo Rollouts controller has not observed Rollout ${id} in ${controllerGraceSeconds} s ` +
        `(generation ${generation}, observed ${observed || "none"}): is it running? Look at its pods ` +
        "(`kubectl -n argo-rollouts get pods`; locally `bash local/platform.sh status`). The new spec is stored " +
        "and nothing has rolled out yet; once the controller runs, `pulumi up` again waits for the canary.",
    };
  }

  const conditions = status.conditions ?? [];
  const invalid = conditions.find((c) => c.type === "InvalidSpec" && c.status !== "False");
  if (invalid)
    return {
      state: "failed",
      reason: "InvalidSpec",
      message:
        `Argo Rollouts refused Rollout ${id} as InvalidSpec: ${invalid.message ?? "no message"}. Nothing was rolled out; ` +
        "the running version keeps serving. The field it names is rendered from the stack's streamforge:rollouts config " +
        "(rollouts/README.md): fix the config and run `pulumi up` again.",
    };

  // status.abort alone is the request (`kubectl argo rollouts abort` patches it; a status patch
  // leaves the generation as it is): the abort has happened once the controller says so, with the
  // RolloutAborted condition and phase Degraded (seen with the real controller: in between,
  // status.message still reads the step it was at).
  const aborted = conditions.some((c) => c.reason === "RolloutAborted") || (status.abort && status.phase === "Degraded");
  if (status.abort && !aborted) return { state: "waiting", progress: "abort requested, waiting for the controller to carry it out" };
  if (aborted) {
    const failed = analysisRuns.filter((r) => r.status?.phase === "Failed" || r.status?.phase === "Error");
    const why = failed.map((r) => ` ${r.metadata?.name ?? "AnalysisRun"}: ${r.status?.message ?? r.status?.phase}.`).join("");
    return {
      state: "failed",
      reason: "Aborted",
      message:
        `Rollout ${id} was aborted: ${status.message ?? "no message"}.${why} The stable version keeps serving. ` +
        "Fix the image (or set the previous one) in the stack's config and run `pulumi up` again; that starts a new canary.",
    };
  }

  const deadline = conditions.find((c) => c.reason === "ProgressDeadlineExceeded");
  if (deadline)
    return {
      state: "failed",
      reason: "ProgressDeadlineExceeded",
      message:
        `Rollout ${id} made no progress within progressDeadlineSeconds (${rollout.spec?.progressDeadlineSeconds ?? 600} s): ` +
        `${deadline.message ?? "no message"}. Its new pods did not become ready: look at them and their events ` +
        `(\`kubectl -n ${ns} get pods -l rollouts-pod-template-hash=${status.currentPodHash ?? "<hash>"}\`). ` +
        "The controller does not abort on this (progressDeadlineAbort is off), so the canary keeps its weight: " +
        `fix the image and run \`pulumi up\` again, or \`${plugin} abort ${name} -n ${ns}\` to go back to stable.`,
    };

  if (rollout.spec?.paused)
    return {
      state: "failed",
      reason: "ManuallyPaused",
      message: `Rollout ${id} was paused by hand (spec.paused). \`${plugin} promote ${name} -n ${ns}\` resumes it; \`pulumi up\` then waits again.`,
    };

  const pauses = (status.pauseConditions ?? []).map((p) => p.reason);
  if (pauses.includes("InconclusiveAnalysisRun")) {
    const inconclusive = analysisRuns.filter((r) => r.status?.phase === "Inconclusive");
    return {
      state: "failed",
      reason: "InconclusiveAnalysis",
      message:
        `Rollout ${id} is paused: its analysis was Inconclusive. ${inconclusive.map(explainInconclusive).join(" ") || "(its AnalysisRun could not be read.)"} ` +
        `Once the canary has the traffic and series it needs, \`${plugin} promote ${name} -n ${ns}\` goes on; ` +
        `\`${plugin} abort ${name} -n ${ns}\` goes back to stable.`,
    };
  }

  const steps = rollout.spec?.strategy?.canary?.steps ?? [];
  const index = status.currentStepIndex;
  const step = index === undefined ? undefined : steps[index];
  if (pauses.includes("CanaryPauseStep") && step?.pause && step.pause.duration === undefined)
    return {
      state: "failed",
      reason: "OpenEndedPause",
      message:
        `Rollout ${id} is waiting at step ${index! + 1} of ${steps.length}, a pause without a duration ` +
        "(`pause: {}` in streamforge:rollouts.steps): it goes on only when a person says so. This is not a failure of the canary. " +
        `Check it, then \`${plugin} promote ${name} -n ${ns}\` (or \`${plugin} abort ${name} -n ${ns}\`); ` +
        "`pulumi up` again waits for the rest.",
    };

  if (status.phase === "Healthy") return { state: "healthy" };
  return { state: "waiting", progress: describeProgress(rollout, analysisRuns) };
}

/**
 * The error-rate query gives `[NaN]` when no request reached the canary in the window and `[]`
 * when no series exists (rollouts/spec.ts errorRateQuery); the prometheus provider writes the
 * vector's values so (metricproviders/prometheus/prometheus.go sampleValuesToResultStr).
 */
export function explainInconclusive(run: AnalysisRunObject): string {
  const metrics = (run.status?.metricResults ?? []).filter((m) => m.phase === "Inconclusive");
  const parts = metrics.map((m) => {
    const values = (m.measurements ?? []).map((x) => x.value ?? "");
    const why = values.includes("[]")
      ? "no series at all (are the canary's pods scraped? see its PodMonitor)"
      : values.includes("[NaN]")
        ? "no traffic reached the canary in the window"
        : "no two good measurements in a row";
    return `${m.name ?? "metric"} measured ${values.join(", ") || "nothing"}: ${why}.`;
  });
  return `${run.metadata?.name ?? "AnalysisRun"}: ${parts.join(" ") || run.status?.message || "Inconclusive"}`;
}

/** One line on where the rollout is: its step, the canary's weight, the analysis measurements so far. */
export function describeProgress(rollout: RolloutObject, analysisRuns: readonly AnalysisRunObject[]): string {
  const status = rollout.status ?? {};
  const steps = rollout.spec?.strategy?.canary?.steps ?? [];
  const index = status.currentStepIndex;
  const step = index === undefined ? undefined : steps[index];
  const parts = [`phase ${status.phase ?? "unknown"}${status.message ? ` (${status.message})` : ""}`];
  if (index !== undefined) parts.push(`step ${Math.min(index + 1, steps.length)}/${steps.length}${step ? ` ${JSON.stringify(step)}` : ""}`);
  const weight = status.canary?.weights?.canary?.weight;
  if (weight !== undefined) parts.push(`canary weight ${weight}%`);
  for (const run of analysisRuns)
    for (const m of run.status?.metricResults ?? [])
      parts.push(
        `${m.name ?? "metric"}: ${(m.measurements ?? []).map((x) => `${x.phase ?? "?"}${x.value ? ` ${x.value}` : ""}`).join(", ") || "no measurement yet"}`,
      );
  return parts.join("; ");
}

/**
 * Transient: the API server or the network may answer next time (429, 5xx, no HTTP answer at all).
 * Fatal: the request itself is wrong or not allowed (4xx), which retrying cannot mend.
 */
export function isTransientApiError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "number") return code === 429 || code >= 500;
  return true;
}

/** The outside world `awaitOutcome` needs: small, so the loop is tested with a fake clock. */
export interface OutcomePorts {
  readonly getRollout: () => Promise<RolloutObject>;
  readonly getAnalysisRun: (name: string) => Promise<AnalysisRunObject>;
  readonly report: (line: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface AwaitOptions {
  readonly id: string;
  readonly timeoutSeconds: number;
  readonly pollMs?: number;
  readonly controllerGraceSeconds?: number;
}

/** Polls until a verdict; retries transient API errors with backoff, reports each change of progress. */
export async function awaitRolloutOutcome(ports: OutcomePorts, opts: AwaitOptions): Promise<{ phase: "Healthy" }> {
  const start = ports.now();
  const deadline = start + opts.timeoutSeconds * 1000;
  const pollMs = opts.pollMs ?? 2000;
  let last = "no observation yet";
  let backoff = pollMs;
  while (ports.now() < deadline) {
    let obs: Observation;
    try {
      const rollout = await ports.getRollout();
      const names = [
        rollout.status?.canary?.currentStepAnalysisRunStatus?.name,
        rollout.status?.canary?.currentBackgroundAnalysisRunStatus?.name,
      ];
      const runs = await Promise.all(names.filter((n): n is string => !!n).map((n) => ports.getAnalysisRun(n).catch(() => undefined)));
      obs = {
        rollout,
        analysisRuns: runs.filter((r): r is AnalysisRunObject => r !== undefined),
        waitedSeconds: (ports.now() - start) / 1000,
      };
      backoff = pollMs;
    } catch (err) {
      if (!isTransientApiError(err))
        throw new Error(`Reading Rollout ${opts.id} failed: ${String((err as Error).message ?? err)}`, { cause: err });
      ports.report(`Rollout ${opts.id}: reading it failed (${String((err as Error).message ?? err)}); retrying in ${backoff / 1000} s`);
      await ports.sleep(backoff);
      backoff = Math.min(backoff * 2, 30_000);
      continue;
    }
    const verdict = judgeRollout(obs, opts.controllerGraceSeconds);
    if (verdict.state === "healthy") return { phase: "Healthy" };
    if (verdict.state === "failed") throw new Error(verdict.message);
    if (verdict.progress !== last) ports.report(`Rollout ${opts.id}: ${verdict.progress}`);
    last = verdict.progress;
    await ports.sleep(pollMs);
  }
  throw new Error(
    `Rollout ${opts.id} did not finish within ${opts.timeoutSeconds} s (${last}). ` +
      `Follow it with \`kubectl argo rollouts get rollout ${opts.id.split("/")[1]} -n ${opts.id.split("/")[0]} -w\`.`,
  );
}

export interface RolloutOutcomeInputs {
  /** Namespace of the Rollout. */
  readonly namespace: string;
  /** Name of the Rollout. */
  readonly name: string;
  /** The stack's cluster, as its provider was given it: the kubeconfig file... */
  readonly kubeconfig?: string;
  /** ...and its context. */
  readonly context?: string;
  /** Any change of the Rollout's spec changes this, so the outcome is awaited again. */
  readonly specHash: string;
  /** How long `pulumi up` waits for the outcome before it fails. */
  readonly timeoutSeconds: number;
}

/** The ports on a real cluster. */
export async function clusterPorts(
  inputs: Pick<RolloutOutcomeInputs, "namespace" | "name" | "kubeconfig" | "context">,
): Promise<OutcomePorts> {
  const { k8s, config } = await kubeClient(inputs.kubeconfig, inputs.context);
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const get = (plural: string, name: string) =>
    api.getNamespacedCustomObject({ group: "argoproj.io", version: "v1alpha1", namespace: inputs.namespace, plural, name });
  return {
    getRollout: async () => (await get("rollouts", inputs.name)) as RolloutObject,
    getAnalysisRun: async (name) => (await get("analysisruns", name)) as AnalysisRunObject,
    // A dynamic provider's stdout reaches `pulumi up` as info lines (pulumi sdk go/common/resource/plugin/plugin.go, runtrace).
    report: (line) => console.log(line),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

async function awaitOutcome(inputs: RolloutOutcomeInputs): Promise<{ phase: string }> {
  // Loaded here: the dynamic provider runs this function in its own process.
  const ports = await clusterPorts(inputs);
  return awaitRolloutOutcome(ports, { id: `${inputs.namespace}/${inputs.name}`, timeoutSeconds: inputs.timeoutSeconds });
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RolloutOutcomeInputs) {
    const outs = await awaitOutcome(inputs);
    return { id: `${inputs.namespace}/${inputs.name}`, outs: { ...inputs, ...outs } };
  },
  async update(_id: string, _olds: RolloutOutcomeInputs, news: RolloutOutcomeInputs) {
    return { outs: { ...news, ...(await awaitOutcome(news)) } };
  },
  diff(_id: string, olds: RolloutOutcomeInputs, news: RolloutOutcomeInputs) {
    const changed = (["specHash", "namespace", "name", "kubeconfig", "context", "timeoutSeconds"] as const).filter(
      (k) => olds[k] !== news[k],
    );
    return Promise.resolve({ changes: changed.length > 0, replaces: changed.filter((k) => k === "namespace" || k === "name") });
  },
};

/** The outcome of queue-manager's Rollout: `pulumi up` waits for it and fails with it. */
export class RolloutOutcome extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { [K in keyof RolloutOutcomeInputs]: pulumi.Input<RolloutOutcomeInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(provider, name, { ...args, phase: undefined }, opts);
  }
}
