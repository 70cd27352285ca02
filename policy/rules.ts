/** Every rule of the pack, in the order the README lists them. Importing this starts nothing. */
import { chaosRules } from "./rules/chaos";
import type { Rule } from "./rules/common";
import { configSecretRules } from "./rules/config-secrets";
import { containerRules } from "./rules/containers";
import { imageRules } from "./rules/images";
import { kafkaRules } from "./rules/kafka";
import { podSecurityRules } from "./rules/pod-security";
import { rolloutRules } from "./rules/rollouts";
import { serviceRules } from "./rules/services";

export const RULES: readonly Rule<object>[] = [
  ...containerRules,
  ...imageRules,
  ...podSecurityRules,
  ...kafkaRules,
  ...rolloutRules,
  ...chaosRules,
  ...configSecretRules,
  ...serviceRules,
] as readonly Rule<object>[];
