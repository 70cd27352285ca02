/**
 * The Rollout validation rules of argo-rollouts v1.10.2 that our config can reach
 * (pkg/apis/rollouts/validation/validation.go ValidateRolloutStrategyCanary), as a pure function of
 * the rendered canary strategy. A Rollout breaking one gets the InvalidSpec condition and is not
 * rolled out (rollout/controller.go createInvalidRolloutCondition). The real controller judges the
 * same combinations in rollouts/test/controller.itest.ts.
 */
export interface CanaryStrategy {
  readonly trafficRouting?: object;
  readonly scaleDownDelaySeconds?: number;
  readonly abortScaleDownDelaySeconds?: number;
  readonly dynamicStableScale?: boolean;
  readonly steps?: readonly Record<string, unknown>[];
}

/** The field paths and messages the controller would report, in its order. */
export function canaryErrors(canary: CanaryStrategy): string[] {
  const errors: string[] = [];
  // The controller names the fields under spec.strategy (ValidateRolloutStrategy passes its own path on).
  const at = (field: string, message: string) => errors.push(`spec.strategy.${field}: ${message}`);
  if (canary.trafficRouting === undefined) {
    // L296-302
    if (canary.scaleDownDelaySeconds !== undefined)
      at("scaleDownDelaySeconds", "Canary scaleDownDelaySeconds can only be used with traffic routing");
    if (canary.dynamicStableScale) at("dynamicStableScale", "Canary dynamicStableScale can only be used with traffic routing");
  } else if (canary.scaleDownDelaySeconds !== undefined && canary.dynamicStableScale) {
    // L303-306
    at("dynamicStableScale", "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds");
  }
  (canary.steps ?? []).forEach((step, i) => {
    // L327-332: setWeight within 0..100 (maxTrafficWeight unset), a pause's duration >= 0 (an unparsable one is -1).
    const weight = step.setWeight as number | undefined;
    if (weight !== undefined && (weight < 0 || weight > 100)) at(`steps[${i}].setWeight`, "SetWeight needs to be between 0 and 100");
    const pause = step.pause as { duration?: string } | undefined;
    if (pause?.duration !== undefined && pauseSeconds(pause.duration) < 0)
      at(`steps[${i}].pause.duration`, "Duration needs to be greater than 0");
  });
  return errors;
}

/** pkg/apis/rollouts/v1alpha1/types.go RolloutPause.DurationSeconds: an integer is seconds, else Go's time.ParseDuration, -1 if neither. */
export function pauseSeconds(duration: string): number {
  if (/^-?\d+$/.test(duration)) return Number(duration);
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) return -1;
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.trunc(Number(m[1]) * unit);
}
