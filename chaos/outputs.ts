/** What the chaos area adds to the stack outputs; empty where the stack runs no chaos. */
import type { ChaosConfig } from "./config";
import { BROKER_FAILURE_ENGINE } from "./spec";

export const CHAOS_OUTPUTS = {
  chaosNamespace: "Namespace of the ChaosEngines, their runners and experiment pods (the only privileged one).",
  chaosEngines: "ChaosEngines declared ahead of a run, created stopped.",
  chaosStartCommand: "How to start an engine (replace <engine>); a run sets it back to stop when it ends.",
  chaosStopCommand: "How to abort a running engine (replace <engine>): its chaos pods are deleted.",
  chaosSchedule: "When the declared engines start on their own (cron and time zone), or empty: they run only on demand.",
} as const;

export type ChaosOutputs = { readonly [K in keyof typeof CHAOS_OUTPUTS]: K extends "chaosEngines" ? string[] : string };

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
