/**
 * Waits for a Rollout's outcome in `pulumi up`, and fails the `up` that started an aborted canary.
 *
 * `pulumi.com/waitFor` cannot do this for a Rollout: Argo Rollouts writes `status.observedGeneration`
 * as a string, which Pulumi's await does not read as a generation, so right after an image change
 * the old status ("Healthy") satisfies it and `up` returns before the canary has begun (seen with
 * the real controller). This dynamic resource is updated whenever the Rollout's spec changes; it
 * waits until the controller has observed that generation, then succeeds on Healthy and fails, with
 * what to do, on an abort or on a pause the analysis could not decide.
 */
import * as pulumi from "@pulumi/pulumi";
import { kubeClient } from "../infra/cluster/kube-client";

/** What a Rollout object says about the outcome of its current generation. */
export type RolloutVerdict =
  | { readonly state: "progressing"; readonly why: string }
  | { readonly state: "healthy" }
  | { readonly state: "failed"; readonly message: string };

interface RolloutObject {
  readonly metadata?: { readonly generation?: number; readonly namespace?: string; readonly name?: string };
  readonly status?: {
    readonly observedGeneration?: string | number;
    readonly phase?: string;
    readonly message?: string;
    readonly abort?: boolean;
    readonly pauseConditions?: readonly { readonly reason?: string }[];
  };
}

/** Pure: the verdict on one observation of the Rollout. */
export function judgeRollout(rollout: RolloutObject): RolloutVerdict {
  const id = `${rollout.metadata?.namespace ?? ""}/${rollout.metadata?.name ?? ""}`;
  const generation = rollout.metadata?.generation ?? 0;
  const status = rollout.status ?? {};
  const observed = Number(status.observedGeneration ?? 0);
  if (observed < generation) return { state: "progressing", why: `the controller has not observed generation ${generation} yet` };
  if (status.abort || status.phase === "Degraded")
    return {
      state: "failed",
      message:
        `Rollout ${id} was aborted: ${status.message ?? "no message"}. The stable version keeps serving. ` +
        "Fix the image (or set the previous one) in the stack's config and run `pulumi up` again; that starts a new canary.",
    };
  if (status.phase === "Paused" && (status.pauseConditions ?? []).some((p) => p.reason === "InconclusiveAnalysisRun"))
    return {
      state: "failed",
      message:
        `Rollout ${id} is paused: its analysis was Inconclusive (no data?). Look at its AnalysisRuns, then ` +
        `\`kubectl argo rollouts promote ${rollout.metadata?.name ?? ""} -n ${rollout.metadata?.namespace ?? ""}\` or \`... abort\`.`,
    };
  if (status.phase === "Healthy") return { state: "healthy" };
  return { state: "progressing", why: `phase ${status.phase ?? "unknown"}${status.message ? `: ${status.message}` : ""}` };
}

export interface RolloutOutcomeInputs {
  readonly namespace: string;
  readonly name: string;
  /** The stack's cluster, as its provider was given it. */
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Any change of the Rollout's spec changes this, so the outcome is awaited again. */
  readonly specHash: string;
  readonly timeoutSeconds: number;
}

async function awaitOutcome(inputs: RolloutOutcomeInputs): Promise<{ phase: string }> {
  // Loaded here: the dynamic provider runs this function in its own process.
  const { k8s, config } = await kubeClient(inputs.kubeconfig, inputs.context);
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const deadline = Date.now() + inputs.timeoutSeconds * 1000;
  let last = "no observation yet";
  while (Date.now() < deadline) {
    const rollout = (await api.getNamespacedCustomObject({
      group: "argoproj.io",
      version: "v1alpha1",
      namespace: inputs.namespace,
      plural: "rollouts",
      name: inputs.name,
    })) as RolloutObject;
    const verdict = judgeRollout(rollout);
    if (verdict.state === "healthy") return { phase: "Healthy" };
    if (verdict.state === "failed") throw new Error(verdict.message);
    last = verdict.why;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(
    `Rollout ${inputs.namespace}/${inputs.name} did not finish within ${inputs.timeoutSeconds} s (${last}). ` +
      `Follow it with \`kubectl argo rollouts get rollout ${inputs.name} -n ${inputs.namespace} -w\`.`,
  );
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
