/**
 * The operator's settings contract: every environment variable it reads, with its schema, and
 * the policy override (SELF_HEALING_POLICY). The operator validates its environment with these
 * schemas at start (settings.ts); the Pulumi program imports this same module to validate
 * `streamforge:operator.*` at preview and to write the Deployment's env (infra/self-healing/),
 * so a setting cannot exist on one side only.
 *
 * It imports nothing but zod: the program loads it as CommonJS (tsconfig.json's ts-node
 * `moduleTypes`), the operator as an ES module.
 */
import { z } from "zod";

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const port = z.coerce.number().int().min(1).max(65535);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a lowercase DNS label");

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, "i");
    return true;
  } catch {
    return false;
  }
}

/**
 * The annotations the operator reads and writes on Jobs (operator/src/core/jobs.ts), shared with
 * the program, whose admission guard holds the operator's writes to them (infra/self-healing/guard.ts).
 */
export const ANNOTATIONS = {
  /** Set to "disabled" on a Job (or its template) to keep the operator away from it. */
  selfHealing: "streamforge.io/self-healing",
  queueId: "streamforge.io/queue-id",
  target: "streamforge.io/target",
  attempt: "streamforge.io/relaunch-attempt",
  reason: "streamforge.io/relaunch-reason",
  relaunchedFrom: "streamforge.io/relaunched-from",
  originalName: "streamforge.io/original-name",
  /** When the relaunch was decided (epoch ms): events up to then belong to the previous Job. */
  relaunchedAt: "streamforge.io/relaunched-at",
  /** Epoch seconds of earlier relaunches of this queue's Job, comma-separated: the restart budget. */
  history: "streamforge.io/relaunch-history",
  /** Written on a Job before its replacement is created: the claim that makes relaunch idempotent. */
  supersededBy: "streamforge.io/superseded-by",
  /** The claimed relaunch's record (JSON), so an interrupted relaunch can be finished. */
  pending: "streamforge.io/relaunch-pending",
  gaveUp: "streamforge.io/self-healing-gave-up",
} as const;

/** The `target` values queue-manager accepts; Job names end with one of them. */
export const KNOWN_TARGETS = [
  "loader-producer",
  "loader-ws",
  "arango-connector",
  "graph-builder",
  "gnn-trainer",
  "visualizer",
  "arango-orderbook",
] as const;

export const targetPolicySchema = z.strictObject({
  stuckAfterMs: z.int().positive(),
  startGraceMs: z.int().min(0),
  adaptive: z.boolean(),
  minStuckAfterMs: z.int().min(0),
});
type TargetPolicyShape = z.output<typeof targetPolicySchema>;

const MINUTE = 60_000;

/**
 * Loaders report every ~10 s (TELEMETRY_INTERVAL): two minutes of silence is stuck, and their
 * rhythm is learned. arango-connector reports only every 100 records, so a quiet input topic is
 * normal: only a long fixed bound applies ("quiet is fine"). Other targets get DEFAULT_TARGET.
 */
export const DEFAULT_TARGETS: Readonly<Record<string, TargetPolicyShape>> = {
  "loader-producer": { stuckAfterMs: 2 * MINUTE, startGraceMs: 2 * MINUTE, adaptive: true, minStuckAfterMs: 45_000 },
  "loader-ws": { stuckAfterMs: 2 * MINUTE, startGraceMs: 2 * MINUTE, adaptive: true, minStuckAfterMs: 45_000 },
  "arango-connector": { stuckAfterMs: 30 * MINUTE, startGraceMs: 5 * MINUTE, adaptive: false, minStuckAfterMs: 30 * MINUTE },
  "arango-orderbook": { stuckAfterMs: 30 * MINUTE, startGraceMs: 5 * MINUTE, adaptive: false, minStuckAfterMs: 30 * MINUTE },
};
export const DEFAULT_TARGET: TargetPolicyShape = {
  stuckAfterMs: 10 * MINUTE,
  startGraceMs: 5 * MINUTE,
  adaptive: true,
  minStuckAfterMs: 2 * MINUTE,
};

/** A target's override: any of its fields, the rest from its defaults; never minStuckAfterMs above stuckAfterMs. */
function targetOverride(defaults: (key: string) => TargetPolicyShape) {
  return (override: Partial<TargetPolicyShape>, key: string, ctx: z.RefinementCtx, path: PropertyKey[]): TargetPolicyShape => {
    const merged = { ...defaults(key), ...override };
    if (merged.minStuckAfterMs > merged.stuckAfterMs)
      ctx.addIssue({
        code: "custom",
        path: [...path, "minStuckAfterMs"],
        message: `expected at most stuckAfterMs (${merged.stuckAfterMs}); found ${merged.minStuckAfterMs}`,
      });
    return merged;
  };
}
const mergeTarget = targetOverride((key) => DEFAULT_TARGETS[key] ?? DEFAULT_TARGET);
const mergeDefaultTarget = targetOverride(() => DEFAULT_TARGET);

/** SELF_HEALING_POLICY: JSON overriding parts of the default policy (operator/src/core/policy.ts). */
export const policyOverrideSchema = z.strictObject({
  targets: z
    .record(z.string(), targetPolicySchema.partial())
    .transform((targets, ctx) => {
      const merged: Record<string, TargetPolicyShape> = {};
      for (const [key, override] of Object.entries(targets)) {
        if (!(KNOWN_TARGETS as readonly string[]).includes(key))
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `expected a target queue-manager launches (${KNOWN_TARGETS.join(", ")}); found "${key}", which no Job can have`,
          });
        else merged[key] = mergeTarget(override, key, ctx, [key]);
      }
      return merged;
    })
    .optional(),
  defaultTarget: targetPolicySchema
    .partial()
    .transform((override, ctx) => mergeDefaultTarget(override, "", ctx, []))
    .optional(),
  phiThreshold: z.number().positive().optional(),
  minSamples: z.int().min(1).optional(),
  minStdDevMs: z.int().min(0).optional(),
  minStdDevFraction: z.number().min(0).max(1).optional(),
  errorGraceMs: z.int().min(0).optional(),
  fatalMessagePattern: z.string().refine(compiles, "a valid regular expression").nullable().optional(),
  relaunchFailedJobs: z.boolean().optional(),
  budget: z.strictObject({ maxRelaunches: z.int().min(0), windowMs: z.int().positive() }).optional(),
  rateLimit: z.strictObject({ perMinute: z.number().positive(), burst: z.int().min(1) }).optional(),
  massSilence: z.strictObject({ minJobs: z.int().min(1), fraction: z.number().min(0).max(1) }).optional(),
  maxEventAgeMs: z.int().positive().optional(),
  /** At least an hour: longer than any stuck threshold, so a live Job's signal is never dropped first. */
  signalRetentionMs: z.int().min(3_600_000).optional(),
});

export type PolicyOverride = z.output<typeof policyOverrideSchema>;

/** Every environment variable the operator reads, with its schema and default. */
export const settingSchemas = {
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
  /**
   * Decision rounds failed in a row after which the process exits 1 (each failure backs the next
   * round off, from 5 ms doubling up to 1 min: the default gives up after about 80 s).
   */
  MAX_FAILED_ROUNDS: z.coerce.number().int().min(1).max(1000).default(15),
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
    .pipe(policyOverrideSchema.default({})),
};

export type SettingName = keyof typeof settingSchemas;

const dnsName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "a lowercase DNS name");
const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, "an IPv4 address");

/**
 * Every environment variable the relaunch guard (relaunch-guard.ts) reads. It keeps its own
 * serving certificate in one Secret and the CA that signed it in its webhook's configuration.
 */
export const relaunchGuardSettingSchemas = {
  /** The operator's account as the API server names it: system:serviceaccount:<namespace>:<name>. */
  OPERATOR_USER: z.string().regex(/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/, "expected system:serviceaccount:<namespace>:<name>"),
  /** The Secret (<namespace>/<name>) that holds the serving certificate, its key and the CAs to trust. */
  CERT_STORE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected <namespace>/<name>")
    .transform((s) => {
      const [namespace, name] = s.split("/") as [string, string];
      return { namespace, name };
    }),
  /** The names the API server calls the guard by: its Service's DNS name in a cluster, 127.0.0.1 on a machine. */
  SERVING_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([ipv4, dnsName], "expected DNS names or IPv4 addresses, comma-separated")).min(1)),
  /** The ValidatingWebhookConfiguration whose entry the guard keeps trusting its CA. */
  WEBHOOK_CONFIGURATION: dnsName,
  /** That entry's name. */
  WEBHOOK_NAME: dnsName,
  /** How often the certificate and the configuration's CA are checked (a replaced configuration is trusted again within this). */
  SYNC_INTERVAL_MS: z.coerce.number().int().min(500).max(300_000).default(10_000),
  /** 0.0.0.0 in a pod (the API server calls through its Service); 127.0.0.1 on a machine of its own. */
  LISTEN_HOST: z.string().default("0.0.0.0"),
  PORT: port.default(9443),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
};

export type RelaunchGuardSettingName = keyof typeof relaunchGuardSettingSchemas;

/** Where a container env value comes from: a literal, a Secret's key, or a field of the pod. */
export type SettingSource =
  | string
  | { readonly secretKeyRef: { readonly name: string; readonly key: string } }
  | { readonly fieldRef: { readonly fieldPath: string } };

export interface EnvVar<Name extends string = SettingName> {
  readonly name: Name;
  readonly value?: string;
  readonly valueFrom?: Exclude<SettingSource, string>;
}

/**
 * The container env that gives the operator these settings, in the contract's order. Literal
 * values are validated with the operator's own schemas, so a bad value fails here, at preview,
 * and not in a crash-looping pod. Throws naming each bad variable.
 */
export function settingsEnv(settings: Partial<Record<SettingName, SettingSource>>): EnvVar[] {
  return envOf("operator", settingSchemas, settings);
}

/** The same for the relaunch guard's container. */
export function relaunchGuardEnv(settings: Partial<Record<RelaunchGuardSettingName, SettingSource>>): EnvVar<RelaunchGuardSettingName>[] {
  return envOf("relaunch guard", relaunchGuardSettingSchemas, settings);
}

function envOf<Name extends string>(
  program: string,
  schemas: Record<Name, z.ZodType>,
  settings: Partial<Record<Name, SettingSource>>,
): EnvVar<Name>[] {
  const problems: string[] = [];
  const env: EnvVar<Name>[] = [];
  for (const name of Object.keys(schemas) as Name[]) {
    const source = settings[name];
    if (source === undefined) continue;
    if (typeof source !== "string") {
      env.push({ name, valueFrom: source });
      continue;
    }
    const result = schemas[name].safeParse(source);
    if (!result.success) problems.push(`${name}=${JSON.stringify(source)}: ${result.error.issues.map((i) => i.message).join("; ")}`);
    env.push({ name, value: source });
  }
  if (problems.length > 0) throw new Error(`Invalid ${program} settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return env;
}
