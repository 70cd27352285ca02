/**
 * Every stack says which environment it is, so the production rules apply by declaration and not
 * by a stack's name. Undeclared (or misspelled), the other rules already treat the stack as
 * production; this rule says what to set.
 */
import { defineStackRule, environmentOf } from "./common";

export const environmentDeclared = defineStackRule({
  name: "stack-environment-declared",
  description: 'The stack declares its environment: the stack tag "streamforge:environment", or "environment" in the pack\'s config.',
  enforcementLevel: "mandatory",
  check: (_resources, { config, stackTags }) => {
    const { problem } = environmentOf(stackTags, config);
    return problem ? [{ message: `Stack: ${problem}` }] : [];
  },
});

export const environmentRules = [environmentDeclared];
