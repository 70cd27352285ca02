/**
 * Every setting of the operator, from environment variables, validated at start. A bad value
 * stops the process with the variable's name, what was expected and what was found.
 */
import { z } from "zod";
import { settingSchemas } from "./contract.js";
import { DEFAULT_POLICY, type Policy, type TargetPolicy } from "./core/policy.js";

const envSchema = z.object(settingSchemas).superRefine((env, ctx) => {
  if (env.KAFKA_SASL_MECHANISM !== "none" && (!env.KAFKA_USERNAME || !env.KAFKA_PASSWORD))
    ctx.addIssue({
      code: "custom",
      path: ["KAFKA_USERNAME"],
      message: `KAFKA_USERNAME and KAFKA_PASSWORD are required with KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM}`,
    });
  if (env.HEALTH_PORT === env.METRICS_PORT)
    ctx.addIssue({ code: "custom", path: ["METRICS_PORT"], message: "must differ from HEALTH_PORT" });
});

export type Env = z.output<typeof envSchema>;

export interface Settings extends Omit<Env, "SELF_HEALING_POLICY"> {
  readonly identity: string;
  readonly leaseNamespace: string;
  readonly policy: Policy;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid operator settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

const SECRET_VARIABLES = new Set(["KAFKA_PASSWORD"]);

export function loadSettings(env: Readonly<Record<string, string | undefined>>, hostname = "operator"): Settings {
  const result = envSchema.safeParse(env, { reportInput: true });
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((issue) => {
        const name = issue.path.map(String).join(".") || "environment";
        const shown =
          !SECRET_VARIABLES.has(String(issue.path[0])) && issue.code !== "custom" && "input" in issue && issue.input !== undefined;
        const found = shown ? `; found ${JSON.stringify(issue.input)}` : "";
        return `${name}: ${issue.message}${found}`;
      }),
    );
  }
  const { SELF_HEALING_POLICY: override, ...rest } = result.data;
  const targets: Record<string, TargetPolicy> = { ...DEFAULT_POLICY.targets, ...override.targets };
  const policy: Policy = {
    ...DEFAULT_POLICY,
    ...override,
    targets,
    defaultTarget: override.defaultTarget ?? DEFAULT_POLICY.defaultTarget,
    fatalMessagePattern:
      override.fatalMessagePattern === undefined
        ? DEFAULT_POLICY.fatalMessagePattern
        : override.fatalMessagePattern === null
          ? null
          : new RegExp(override.fatalMessagePattern, "i"),
  };
  return { ...rest, identity: rest.POD_NAME ?? hostname, leaseNamespace: rest.LEASE_NAMESPACE ?? rest.WATCH_NAMESPACE, policy };
}
