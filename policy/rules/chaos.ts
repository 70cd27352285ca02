/**
 * Chaos in production is deliberate and bounded. A ChaosEngine in a production stack needs the
 * explicit opt-in, and every experiment in it a TOTAL_CHAOS_DURATION of whole seconds within the cap.
 *
 * The opt-in: the program refuses chaos in prod unless `streamforge:chaos.allowInProduction` is
 * true, but a policy pack cannot read the program's config. So the pack has its own opt-in, set
 * where the pack is run for that stack: `allowInProduction: true` in this policy's config, or the
 * engine's annotation `streamforge.io/chaos-allow-in-production: "true"` (which the program can
 * set from `streamforge:chaos.allowInProduction`).
 */
import { type Subject, asArray, asRecord, asString, defineRule, describe, get, isKind, numeric, shown } from "./common";

export const OPT_IN_ANNOTATION = "streamforge.io/chaos-allow-in-production";
/** The longest duration the program's chaos config allows (the broker scenario's 900 s). */
export const DEFAULT_MAX_DURATION_SECONDS = 900;

export interface ChaosPolicyConfig {
  readonly allowInProduction?: boolean;
  readonly maxDurationSeconds?: number;
}

const isEngine = (type: string) => isKind(type, "litmuschaos.io", "ChaosEngine");

export function chaosOptInViolations(subject: Subject, config: ChaosPolicyConfig): string[] {
  const annotation = get(subject.props, "metadata", "annotations", OPT_IN_ANNOTATION);
  if (config.allowInProduction === true || annotation === "true") return [];
  return [
    `${describe(subject)}: metadata.annotations["${OPT_IN_ANNOTATION}"]: expected "true" (or allowInProduction: true in the chaos-production-opt-in policy config) for a ChaosEngine in a production stack; found ${shown(annotation)}`,
  ];
}

export function chaosDurationViolations(subject: Subject, config: ChaosPolicyConfig): string[] {
  const cap = config.maxDurationSeconds ?? DEFAULT_MAX_DURATION_SECONDS;
  const where = describe(subject);
  const experiments = asArray(get(subject.props, "spec", "experiments"));
  if (experiments.length === 0) return [`${where}: spec.experiments: expected at least one experiment; found none`];
  return experiments.flatMap((e, i) => {
    const at = `spec.experiments[${i}] ("${asString(get(e, "name")) ?? `#${i}`}").spec.components.env TOTAL_CHAOS_DURATION`;
    const env = asArray(get(e, "spec", "components", "env")).map(asRecord);
    const value = env.find((v) => v.name === "TOTAL_CHAOS_DURATION")?.value;
    const seconds = numeric(value);
    return Number.isInteger(seconds) && seconds >= 1 && seconds <= cap
      ? []
      : [`${where}: ${at}: expected whole seconds between 1 and ${cap}; found ${shown(value)}`];
  });
}

export const chaosProductionOptIn = defineRule<ChaosPolicyConfig>({
  name: "chaos-production-opt-in",
  description: "A ChaosEngine in a production stack needs the explicit opt-in.",
  enforcementLevel: "mandatory",
  appliesTo: isEngine,
  scope: "LitmusChaos ChaosEngines",
  productionOnly: true,
  configSchema: {
    properties: { allowInProduction: { type: "boolean", description: "This production stack may run chaos (the pack's own opt-in)." } },
  },
  check: (subject, { config }) => chaosOptInViolations(subject, config),
});

export const chaosDurationCap = defineRule<ChaosPolicyConfig>({
  name: "chaos-production-duration-cap",
  description: "In a production stack, every chaos experiment has a TOTAL_CHAOS_DURATION within the cap.",
  enforcementLevel: "mandatory",
  appliesTo: isEngine,
  scope: "LitmusChaos ChaosEngines",
  productionOnly: true,
  configSchema: {
    properties: {
      maxDurationSeconds: {
        type: "integer",
        minimum: 1,
        description: `The longest experiment, in seconds. Default: ${DEFAULT_MAX_DURATION_SECONDS}.`,
      },
    },
  },
  check: (subject, { config }) => chaosDurationViolations(subject, config),
});

export const chaosRules = [chaosProductionOptIn, chaosDurationCap];
