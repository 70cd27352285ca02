/** What the chaos area adds to the stack outputs; empty where the stack runs no chaos. */
import type { ChaosConfig } from "./config";
import type { CHAOS_OUTPUTS, OutputValues } from "../infra/kit/outputs-contract";
import { BROKER_FAILURE_ENGINE } from "./spec";

// Each output's type, meaning and stability: CHAOS_OUTPUTS in infra/kit/outputs-contract.ts.
export type ChaosOutputs = OutputValues<typeof CHAOS_OUTPUTS>;

export function chaosOutputs(chaos: ChaosConfig | undefined): ChaosOutputs {
  if (!chaos?.enabled) return { chaosNamespace: "", chaosEngines: [], chaosStartCommand: "", chaosStopCommand: "", chaosSchedule: "" };
  const patch = (state: string) =>
    `kubectl patch chaosengine <engine> -n ${chaos.namespace} --type merge -p '{"spec":{"engineState":"${state}"}}'`;
  return {
    chaosNamespace: chaos.namespace,
    chaosEngines: chaos.scenarios.brokerFailure?.enabled ? [BROKER_FAILURE_ENGINE] : [],
    chaosStartCommand: patch("active"),
    chaosStopCommand: patch("stop"),
    chaosSchedule: chaos.schedule
      ? `${chaos.schedule.cron} (${chaos.schedule.timeZone})${chaos.schedule.suspend ? ", suspended" : ""}`
      : "",
  };
}
