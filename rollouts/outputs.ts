/** What the progressive-delivery area adds to the stack outputs; empty values where the stack has no canary. */
import type { RolloutsConfig } from "./config";
import type { OutputValues, ROLLOUT_OUTPUTS } from "../infra/kit/outputs-contract";
import { CANARY_SERVICE, QUEUE_MANAGER, STABLE_SERVICE, TEMPLATE_NAMES, routerObject } from "./spec";

// Each output's type, meaning and stability: ROLLOUT_OUTPUTS in infra/kit/outputs-contract.ts.
export type RolloutOutputs = OutputValues<typeof ROLLOUT_OUTPUTS>;

export function rolloutOutputs(rollouts: RolloutsConfig | undefined, namespace: string): RolloutOutputs {
  if (!rollouts?.enabled)
    return {
      rolloutName: "",
      rolloutNamespace: "",
      rolloutStableService: "",
      rolloutCanaryService: "",
      rolloutRouter: "",
      rolloutAnalysisTemplates: [],
    };
  const router = routerObject(rollouts.router, namespace);
  return {
    rolloutName: QUEUE_MANAGER,
    rolloutNamespace: namespace,
    rolloutStableService: STABLE_SERVICE,
    rolloutCanaryService: CANARY_SERVICE,
    rolloutRouter: router ? `${router.kind}/${router.metadata.name}` : "",
    rolloutAnalysisTemplates: Object.values(TEMPLATE_NAMES),
  };
}
