/**
 * Every setting of the operator, from environment variables, validated at start. A bad value
 * stops the process with the variable's name, what was expected and what was found.
 */
import { z } from "zod";
import { DEFAULT_POLICY, type Policy, type TargetPolicy } from "./core/policy.js";

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const port = z.coerce.number().int().min(1).max(65535);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lowercase DNS label");

const targetPolicySchema = z.strictObject({
  stuckAfterMs: z.int().positive(),
  startGraceMs: z.int().min(0),
  adaptive: z.boolean(),
  minStuckAfterMs: z.int().min(0),
});

/** SELF_HEALING_POLICY: JSON overriding parts of the default policy. */
const policyOverrideSchema = z
  .strictObject({
    targets: z.record(z.string(), targetPolicySchema).optional(),
    defaultTarget: targetPolicySchema.optional(),
    phiThreshold: z.number().positive().optional(),
    minSamples: z.int().min(1).optional(),
    minStdDevMs: z.int().min(0).optional(),
    minStdDevFraction: z.number().min(0).max(1).optional(),
    errorGraceMs: z.int().min(0).optional(),
    fatalMessagePattern: z.string().nullable().optional(),
    relaunchFailedJobs: z.boolean().optional(),
    budget: z.strictObject({ maxRelaunches: z.int().min(0), windowMs: z.int().positive() }).optional(),
    rateLimit: z.strictObject({ perMinute: z.number().positive(), burst: z.int().min(1) }).optional(),
    massSilence: z.strictObject({ minJobs: z.int().min(1), fraction: z.number().min(0).max(1) }).optional(),
    maxEventAgeMs: z.int().positive().optional(),
    /** At least an hour: longer than any stuck threshold, so a live Job's signal is never dropped first. */
    signalRetentionMs: z.int().min(3_600_000).optional(),
  })
  .default({});

const envSchema = z
  .object({
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .transform((v) =>
        v
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
      ),
    KAFKA_TOPIC: z.string().min(1).default("queue-events"),
    KAFKA_GROUP_ID: z.string().min(1).default("streamforge-self-healing"),
    KAFKA_CLIENT_ID: z.string().min(1).default("streamforge-self-healing-operator"),
    KAFKA_TLS: bool.default(false),
    KAFKA_CA_PATH: z.string().optional(),
    KAFKA_SASL_MECHANISM: z.enum(["none", "plain", "scram-sha-256", "scram-sha-512"]).default("none"),
    KAFKA_USERNAME: z.string().optional(),
    KAFKA_PASSWORD: z.string().optional(),
    KAFKA_MAX_MESSAGE_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    /** Consumer lag (messages) above which stuck detection pauses. */
    KAFKA_MAX_LAG: z.coerce.number().int().positive().default(5000),
    /** No successful fetch for this long: the source is unhealthy. */
    KAFKA_STALE_AFTER_MS: z.coerce.number().int().positive().default(30_000),
    /**
     * Where a new consumer group, or one whose committed offsets the topic no longer holds,
     * starts: the earliest retained event, so no critical error is missed (only events of a
     * Job's own incarnation count, so old ones replayed are harmless; stuck detection waits
     * while the backlog is above KAFKA_MAX_LAG).
     */
    KAFKA_FROM_BEGINNING: bool.default(true),
    WATCH_NAMESPACE: dnsLabel.default("stf"),
    LEASE_NAMESPACE: dnsLabel.optional(),
    LEASE_NAME: dnsLabel.default("streamforge-self-healing-operator"),
    POD_NAME: z.string().min(1).optional(),
    DRY_RUN: bool.default(false),
    TICK_INTERVAL_MS: z.coerce.number().int().min(50).default(1000),
    BIND_ADDRESS: z.string().default("0.0.0.0"),
    HEALTH_PORT: port.default(8081),
    METRICS_PORT: port.default(8080),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
    SELF_HEALING_POLICY: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined || text.trim() === "") return {};
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: "custom", message: "expected JSON" });
          return z.NEVER;
        }
      })
      .pipe(policyOverrideSchema),
  })
  .superRefine((env, ctx) => {
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
