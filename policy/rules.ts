/** Every rule of the pack, in the order the README lists them. Importing this starts nothing. */
import { chaosRules } from "./rules/chaos";
import type { Rule, StackRule } from "./rules/common";
import { configSecretRules } from "./rules/config-secrets";
import { containerRules } from "./rules/containers";
import { environmentRules } from "./rules/environment";
import { imageRules } from "./rules/images";
import { kafkaRules, kafkaStackRules } from "./rules/kafka";
import { podSecurityRules } from "./rules/pod-security";
import { rbacRules } from "./rules/rbac";
import { rolloutRules } from "./rules/rollouts";
import { serviceRules } from "./rules/services";

/** Rules over one resource at a time. */
export const RULES: readonly Rule<object>[] = [
  ...containerRules,
  ...imageRules,
  ...podSecurityRules,
  ...rbacRules,
  ...kafkaRules,
  ...rolloutRules,
  ...chaosRules,
  ...configSecretRules,
  ...serviceRules,
] as readonly Rule<object>[];

/** Rules over the whole stack: its tags, or counts across resources. */
export const STACK_RULES: readonly StackRule<object>[] = [...environmentRules, ...kafkaStackRules] as readonly StackRule<object>[];
