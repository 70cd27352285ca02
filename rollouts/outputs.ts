/** What the progressive-delivery area adds to the stack outputs; empty values where the stack has no canary. */
import type { RolloutsConfig } from "./config";
import { CANARY_SERVICE, QUEUE_MANAGER, STABLE_SERVICE, TEMPLATE_NAMES, routerObject } from "./spec";

export const ROLLOUT_OUTPUTS = {
  rolloutName: "Name of queue-manager's Rollout (follow it with `kubectl argo rollouts get rollout <name> -n <namespace> -w`).",
  rolloutNamespace: "Namespace of the Rollout, its Services and AnalysisTemplates.",
  rolloutStableService: "Service that always points at the stable pods.",
  rolloutCanaryService: "Service that points at the canary pods during a rollout.",
  rolloutRouter: "The object whose weights the controller shifts, as Kind/name; empty with the replica-count router.",
  rolloutAnalysisTemplates: "Names of the AnalysisTemplates that gate the canary.",
} as const;

export type RolloutOutputs = { readonly [K in keyof typeof ROLLOUT_OUTPUTS]: K extends "rolloutAnalysisTemplates" ? string[] : string };

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
