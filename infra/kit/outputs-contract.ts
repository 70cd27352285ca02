/**
 * The stack outputs contract: every output the platform exports, its type, what it means and
 * what its stability promises. The one source of truth: infra/outputs.ts and the areas type
 * their values from it, docs/outputs.md's table is generated from it (`npm run outputs:table`), the tests
 * hold it against test/outputs-baseline.json and every committed stack, and consumers compile
 * against `PlatformOutputs` (examples/consumer).
 *
 * No imports on purpose: a consumer can import (or vendor) this one file without the platform's
 * dependencies.
 */

export type OutputType = "string" | "string[]";
export type Stability = "stable" | "experimental";

/** What each stability level promises a consumer. */
export const STABILITY: { readonly [S in Stability]: string } = {
  stable:
    "Kept with its name, type and meaning. Removing, renaming or retyping it is a breaking change: it takes an edit of test/outputs-baseline.json and a CHANGELOG entry, and is announced a release ahead.",
  experimental:
    "May be renamed, retyped or removed in any release. Read it with `getOutput` and a fallback rather than `requireOutput`, or pin the platform's version.",
};

export interface OutputSpec {
  readonly type: OutputType;
  readonly stability: Stability;
  /** What the value is. */
  readonly meaning: string;
  /** When the value may be empty ("" or []) and what that says; absent: never empty. */
  readonly emptyWhen?: string;
  /** The value is a Pulumi secret (`secretValue` of getOutputDetails); absent: plain. */
  readonly secret?: true;
}

type Specs = Readonly<Record<string, OutputSpec>>;

/** Where the stack deployed and its Kafka platform. */
export const PLATFORM_OUTPUTS = {
  environment: { type: "string", stability: "stable", meaning: "Environment of the stack: local, dev or prod." },
  kubernetesContext: {
    type: "string",
    stability: "stable",
    meaning: "The kubeconfig context the stack deployed with (offline render: a placeholder).",
  },
  kubernetesApiServer: {
    type: "string",
    stability: "stable",
    meaning: "URL of the API server of the cluster the stack deployed to (offline render: a placeholder).",
  },
  kafkaClusterName: { type: "string", stability: "stable", meaning: "Name of the Strimzi Kafka cluster (the Kafka CR)." },
  kafkaNamespace: { type: "string", stability: "stable", meaning: "Namespace of the Kafka cluster." },
  kafkaBootstrapTls: {
    type: "string",
    stability: "stable",
    meaning: "Bootstrap servers (host:port) of the internal TLS + SCRAM-SHA-512 listener: what clients connect to.",
  },
  kafkaBootstrapPlain: {
    type: "string",
    stability: "stable",
    meaning: "Bootstrap servers of the plain internal listener.",
    emptyWhen: "the plain listener is off",
  },
  kafkaBootstrapExternal: {
    type: "string",
    stability: "stable",
    meaning: "In-cluster name:port of the external bootstrap Service.",
    emptyWhen: "the external listener is off",
  },
  kafkaSaslMechanism: { type: "string", stability: "stable", meaning: "SASL mechanism the TLS listener requires (SCRAM-SHA-512)." },
  kafkaClusterCaSecret: {
    type: "string",
    stability: "stable",
    meaning:
      "Secret holding the cluster CA certificate (`ca.crt`) in kafkaNamespace; where Strimzi runs, also copied into kafkaUserSecretNamespace with `ca-bundle.pem`, every CA certificate in one file, for clients to trust during a CA key replacement.",
  },
  kafkaUserSecretNamespace: {
    type: "string",
    stability: "stable",
    meaning: "Namespace of the Secrets holding each user's credentials: the apps namespace.",
  },
  kafkaTopicNames: {
    type: "string[]",
    stability: "stable",
    meaning: "Names of all catalogue topics.",
    emptyWhen: "the catalogue declares no topic",
  },
  kafkaUserNames: {
    type: "string[]",
    stability: "stable",
    meaning: "Names of all catalogue Kafka users.",
    emptyWhen: "the catalogue declares no user",
  },
  kafkaCatalogueOwner: { type: "string", stability: "stable", meaning: "Who owns topics and users in this stack: strimzi or kafka-api." },
  strimziOperatorNamespace: {
    type: "string",
    stability: "stable",
    meaning: "Namespace of the Strimzi cluster operator this stack installed.",
    emptyWhen: "the stack does not install it",
  },
} as const satisfies Specs;

const NO_CANARY = "the stack has no canary (`rollouts.enabled` false)";

/** queue-manager's canary (rollouts/). */
export const ROLLOUT_OUTPUTS = {
  rolloutName: {
    type: "string",
    stability: "stable",
    meaning: "Name of queue-manager's Rollout (follow it with `kubectl argo rollouts get rollout <name> -n <namespace> -w`).",
    emptyWhen: NO_CANARY,
  },
  rolloutNamespace: {
    type: "string",
    stability: "stable",
    meaning: "Namespace of the Rollout, its Services and AnalysisTemplates.",
    emptyWhen: NO_CANARY,
  },
  rolloutStableService: {
    type: "string",
    stability: "stable",
    meaning: "Service that always points at the stable pods.",
    emptyWhen: NO_CANARY,
  },
  rolloutCanaryService: {
    type: "string",
    stability: "stable",
    meaning: "Service that points at the canary pods during a rollout.",
    emptyWhen: NO_CANARY,
  },
  // Experimental: the Kind/name form may change as routers (Gateway API plugin, SMI) are added.
  rolloutRouter: {
    type: "string",
    stability: "experimental",
    meaning: "The object whose weights the controller shifts, as Kind/name.",
    emptyWhen: `${NO_CANARY} or it uses the replica-count router`,
  },
  rolloutAnalysisTemplates: {
    type: "string[]",
    stability: "stable",
    meaning: "Names of the AnalysisTemplates that gate the canary.",
    emptyWhen: NO_CANARY,
  },
} as const satisfies Specs;

const NO_CHAOS = "the stack runs no chaos (`chaos.enabled` false)";

/** LitmusChaos (chaos/): new and opt-in, so experimental throughout. */
export const CHAOS_OUTPUTS = {
  chaosNamespace: {
    type: "string",
    stability: "experimental",
    meaning: "Namespace of the ChaosEngines, their runners and experiment pods (the only privileged one).",
    emptyWhen: NO_CHAOS,
  },
  chaosEngines: {
    type: "string[]",
    stability: "experimental",
    meaning: "ChaosEngines declared ahead of a run, created stopped.",
    emptyWhen: `${NO_CHAOS} or declares no engine ahead of a run`,
  },
  chaosStartCommand: {
    type: "string",
    stability: "experimental",
    meaning: "How to start an engine (replace `<engine>`); a run sets it back to stop when it ends.",
    emptyWhen: NO_CHAOS,
  },
  chaosStopCommand: {
    type: "string",
    stability: "experimental",
    meaning: "How to abort a running engine (replace `<engine>`): its chaos pods are deleted.",
    emptyWhen: NO_CHAOS,
  },
  chaosSchedule: {
    type: "string",
    stability: "experimental",
    meaning: "When the declared engines start on their own (cron and time zone).",
    emptyWhen: `${NO_CHAOS} or has no schedule: engines run only on demand`,
  },
} as const satisfies Specs;

/** The self-healing operator (infra/self-healing/). */
export const SELF_HEALING_OUTPUTS = {
  // Experimental: read by the pipeline's previews (docs/delivery.md) more than by other teams.
  operatorImage: {
    type: "string",
    stability: "experimental",
    meaning:
      "The self-healing operator's image as the stack deploys it (by digest where a deploy built it); a preview runs with it, so it builds nothing and shows no false image change.",
    emptyWhen: "the stack runs no operator (`operator.enabled` false)",
  },
} as const satisfies Specs;

/** Every output whose name is fixed. */
export const FIXED_OUTPUTS = { ...PLATFORM_OUTPUTS, ...ROLLOUT_OUTPUTS, ...CHAOS_OUTPUTS, ...SELF_HEALING_OUTPUTS } as const;
export type FixedOutputKey = keyof typeof FIXED_OUTPUTS;

// ---- outputs named after catalogue entries ----

/** `queue-events` -> `QueueEvents`, `market.trades_v1` -> `MarketTradesV1`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

/** pascalCase at the type level, for the separators catalogue names use (`-`, `.`, `_`). */
type Dashed<S extends string> = S extends `${infer H}.${infer T}`
  ? Dashed<`${H}-${T}`>
  : S extends `${infer H}_${infer T}`
    ? Dashed<`${H}-${T}`>
    : S;
type PascalWords<S extends string> = S extends `${infer H}-${infer T}` ? `${Capitalize<H>}${PascalWords<T>}` : Capitalize<S>;
export type PascalCase<S extends string> = PascalWords<Dashed<S>>;

export type TopicOutputKey<T extends string> = `topic${PascalCase<T>}`;
export type UserOutputKey<U extends string> = `kafkaUser${PascalCase<U>}`;
export type UserSecretOutputKey<U extends string> = `kafkaUser${PascalCase<U>}Secret`;

// The casts hold for names made of letters, digits and `-` `.` `_`, which the catalogue's schema allows.
export const topicOutputKey = <T extends string>(topic: T): TopicOutputKey<T> => `topic${pascalCase(topic)}` as TopicOutputKey<T>;
export const userOutputKey = <U extends string>(user: U): UserOutputKey<U> => `kafkaUser${pascalCase(user)}` as UserOutputKey<U>;
export const userSecretOutputKey = <U extends string>(user: U): UserSecretOutputKey<U> =>
  `kafkaUser${pascalCase(user)}Secret` as UserSecretOutputKey<U>;

export interface PerNameOutputSpec extends OutputSpec {
  /** The name pattern as documented: `<Name>` is the catalogue name in PascalCase. */
  readonly pattern: string;
  /** The list output whose entries each have one of these outputs. */
  readonly namedBy: "kafkaTopicNames" | "kafkaUserNames";
  readonly key: (name: string) => string;
}

export const TOPIC_OUTPUT = {
  pattern: "topic<Name>",
  namedBy: "kafkaTopicNames",
  key: topicOutputKey,
  type: "string",
  stability: "stable",
  meaning: "One per catalogue topic: the topic's name (`topicQueueEvents` = `queue-events`).",
} as const satisfies PerNameOutputSpec;

export const USER_OUTPUT = {
  pattern: "kafkaUser<Name>",
  namedBy: "kafkaUserNames",
  key: userOutputKey,
  type: "string",
  stability: "stable",
  meaning: "One per catalogue user: the Kafka user's name, its SCRAM principal (`kafkaUserQueueManager` = `queue-manager`).",
} as const satisfies PerNameOutputSpec;

export const USER_SECRET_OUTPUT = {
  pattern: "kafkaUser<Name>Secret",
  namedBy: "kafkaUserNames",
  key: userSecretOutputKey,
  type: "string",
  stability: "stable",
  meaning: "One per catalogue user: the Secret in kafkaUserSecretNamespace with its credentials (keys `password`, `sasl.jaas.config`).",
} as const satisfies PerNameOutputSpec;

export const PER_NAME_OUTPUTS: readonly PerNameOutputSpec[] = [TOPIC_OUTPUT, USER_OUTPUT, USER_SECRET_OUTPUT];

// ---- the consumer-facing types, derived from the specs above ----

export type OutputValue<T extends OutputType> = T extends "string[]" ? string[] : string;
export type OutputValues<S extends Specs> = { readonly [K in keyof S]: OutputValue<S[K]["type"]> };

/** Any key the contract declares: a fixed output's, or one named after a catalogue entry. */
export type OutputKey = FixedOutputKey | TopicOutputKey<string> | UserOutputKey<string> | UserSecretOutputKey<string>;

/** The value type of any output key: a fixed output's declared type, else a per-name output's. */
export type OutputValueOf<K extends string> = K extends FixedOutputKey
  ? OutputValue<(typeof FIXED_OUTPUTS)[K]["type"]>
  : OutputValue<(typeof TOPIC_OUTPUT | typeof USER_OUTPUT | typeof USER_SECRET_OUTPUT)["type"]>;

/**
 * The platform's outputs as a consumer reads them. `Topics` and `Users` are the catalogue names
 * the consumer relies on: `PlatformOutputs<"queue-events", "queue-manager">` has
 * `topicQueueEvents`, `kafkaUserQueueManager` and `kafkaUserQueueManagerSecret` besides the
 * fixed outputs.
 */
export type PlatformOutputs<Topics extends string = never, Users extends string = never> = OutputValues<typeof FIXED_OUTPUTS> & {
  readonly [T in Topics as TopicOutputKey<T>]: OutputValue<(typeof TOPIC_OUTPUT)["type"]>;
} & { readonly [U in Users as UserOutputKey<U>]: OutputValue<(typeof USER_OUTPUT)["type"]> } & {
  readonly [U in Users as UserSecretOutputKey<U>]: OutputValue<(typeof USER_SECRET_OUTPUT)["type"]>;
};

/** The type as documented and baselined: `string`, `string[]`, with ` (secret)` for a secret. */
export const typeLabel = (spec: OutputSpec): string => `${spec.type}${spec.secret ? " (secret)" : ""}`;

/** Every output of the contract by its documented name (a per-name output by its pattern), in the table's order (docs/outputs.md). */
export function documentedOutputs(): { readonly name: string; readonly spec: OutputSpec }[] {
  return [
    ...Object.entries(FIXED_OUTPUTS).map(([name, spec]) => ({ name, spec })),
    ...PER_NAME_OUTPUTS.map((spec) => ({ name: spec.pattern, spec })),
  ];
}

// ---- checks: pure, shared by the tests and the consumer ----

/** `"string"`, `"string[]"`, or a description of what else the value is. */
export function typeOfValue(value: unknown): string {
  if (typeof value === "string") return "string";
  if (Array.isArray(value)) return value.every((v) => typeof v === "string") ? "string[]" : "an array not only of strings";
  return value === null ? "null" : typeof value;
}

const isFixedKey = (key: string): key is FixedOutputKey => Object.prototype.hasOwnProperty.call(FIXED_OUTPUTS, key);

/** The spec and documented name of an output key, or undefined when the contract declares no such key. */
export function specOf(key: string): { readonly name: string; readonly spec: OutputSpec } | undefined {
  if (isFixedKey(key)) return { name: key, spec: FIXED_OUTPUTS[key] };
  // Longest pattern first: `kafkaUser<Name>Secret` before `kafkaUser<Name>`.
  const patterns = [USER_SECRET_OUTPUT, USER_OUTPUT, TOPIC_OUTPUT];
  const spec = patterns.find((p) => new RegExp(`^${p.pattern.replace("<Name>", "[A-Z0-9][A-Za-z0-9]*")}$`).test(key));
  return spec && { name: spec.pattern, spec };
}

/** Problems of one value against its spec ("" when it fits). */
export function valueProblem(key: string, spec: OutputSpec, value: unknown, isSecret = false): string {
  const type = typeOfValue(value);
  if (type !== spec.type) return `${key}: expected ${spec.type}; found ${type}`;
  const empty = Array.isArray(value) ? value.length === 0 : value === "";
  if (empty && !spec.emptyWhen) return `${key}: expected a non-empty ${spec.type}; found it empty`;
  if (isSecret !== (spec.secret ?? false))
    return `${key}: expected ${spec.secret ? "a secret" : "a plain value"}; found ${isSecret ? "a secret" : "a plain value"}`;
  return "";
}

/**
 * Every way `outputs` (a whole stack's) departs from the contract: a declared output missing or of
 * another type, an empty value the contract does not allow, an output it does not declare, a
 * per-name output missing for a name its list output holds. Empty when they conform.
 */
export function contractProblems(outputs: Readonly<Record<string, unknown>>, secretKeys: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const expected = new Map<string, OutputSpec>(Object.entries(FIXED_OUTPUTS));
  for (const spec of PER_NAME_OUTPUTS) {
    const names = outputs[spec.namedBy];
    if (!Array.isArray(names)) continue; // reported as the list output's own problem
    for (const name of names as unknown[]) expected.set(spec.key(String(name)), spec);
  }
  for (const [key, spec] of expected) {
    if (!(key in outputs)) problems.push(`${key}: declared by the contract, missing from the stack's outputs`);
    else {
      const problem = valueProblem(key, spec, outputs[key], secretKeys.has(key));
      if (problem) problems.push(problem);
    }
  }
  for (const key of Object.keys(outputs).filter((k) => !expected.has(k))) {
    const matches = specOf(key);
    problems.push(
      matches
        ? `${key}: matches ${matches.name}, but no name in ${(matches.spec as PerNameOutputSpec).namedBy} gives this key`
        : `${key}: not declared by the contract (infra/kit/outputs-contract.ts)`,
    );
  }
  return problems;
}

/**
 * For a consumer: the problems of the outputs it requires, as fetched from the platform's stack
 * (`undefined`: the stack has no such output). Names the output, what it is, and what was wrong.
 */
export function requiredOutputProblems(
  platformStack: string,
  fetched: Readonly<Record<string, { readonly value: unknown; readonly secret: boolean } | undefined>>,
): string[] {
  return Object.entries(fetched).flatMap(([key, got]) => {
    const declared = specOf(key);
    if (!declared) return [`${key}: not an output of the platform's contract (infra/kit/outputs-contract.ts)`];
    if (!got) return [`${key}: stack ${platformStack} has no such output. ${declared.name}: ${declared.spec.meaning}`];
    const problem = valueProblem(key, declared.spec, got.value, got.secret);
    return problem ? [`${problem} (stack ${platformStack})`] : [];
  });
}
