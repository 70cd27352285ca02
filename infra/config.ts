/**
 * The stack's settings: each area's schema joined into one `PlatformConfig`, and the rules that
 * span areas. An area's descriptor in infra/areas.ts brings its keys, secrets, rules and type.
 *
 * `parsePlatformConfig` is pure: raw `streamforge:*` values in, a typed config out, or a
 * `ConfigError` naming each bad key by its full name, what was expected and what was found.
 * `loadPlatformConfig` is the only place that reads Pulumi's runtime config.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { httpEndpointEgressRule, prefixLength } from "./kit/network-spec";
import {
  type AreaConfig,
  type ConfigArea,
  CONFIG_NAMESPACE,
  ConfigError,
  type ConfigProblem,
  issueToProblem,
  keyName,
  problem,
  secretKind,
} from "./kit/config-kit";
import { AREAS } from "./areas";
import { nodeCounts, topicDeletionEnabled } from "./kafka/config";
import { chaosRules } from "../chaos/config";
import { relaunchGuardNamespace } from "./self-healing/config";

export { CONFIG_NAMESPACE, ConfigError, type ConfigProblem, keyName } from "./kit/config-kit";
export type { Environment } from "./cluster/config";
export type * from "./kafka/config";
export type { OperatorConfig } from "./self-healing/config";

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The whole stack's settings: every area's config, derived from the schemas of infra/areas.ts. */
export type PlatformConfig = UnionToIntersection<AreaConfig<(typeof AREAS)[number]["config"]>>;

/** Every area's config, in the order their problems are reported. */
const areas = AREAS.map((a) => a.config) as readonly ConfigArea[];

/** Keys whose values must be Pulumi secrets (`pulumi config set --secret`). */
export const SECRET_KEYS: readonly string[] = areas.flatMap((a) => a.secrets);

/**
 * Parses the raw `streamforge:*` values of a stack (objects already JSON-decoded). `secretKeys`
 * names the keys Pulumi holds as secrets; their values come back as secret Outputs.
 */
export function parsePlatformConfig(raw: Readonly<Record<string, unknown>>, secretKeys: ReadonlySet<string> = new Set()): PlatformConfig {
  const problems: ConfigProblem[] = [];
  const schemas: Record<string, z.ZodType> = Object.fromEntries(areas.flatMap((a) => Object.entries(a.keys)));
  for (const key of Object.keys(raw)) {
    if (!(key in schemas))
      problems.push(
        problem(
          key,
          [],
          `unknown key; expected one of ${Object.keys(schemas)
            .map((k) => keyName(k))
            .join(", ")}`,
        ),
      );
  }

  const parsed: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(schemas)) {
    if (SECRET_KEYS.includes(key)) continue;
    if (secretKeys.has(key)) {
      // Used in plain text (names, manifests, outputs), a secret here would reach diffs and errors unmarked.
      problems.push(
        problem(key, [], "expected plain config; found a Pulumi secret. The program uses this key in plain text: set it without --secret"),
      );
      continue;
    }
    const result = schema.safeParse(raw[key], { reportInput: true });
    if (result.success) parsed[key] = result.data;
    else problems.push(...result.error.issues.map((i) => issueToProblem(key, i)));
  }

  // A secret's problems name its key and what kind of value was found, never the value.
  for (const key of SECRET_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!secretKeys.has(key))
      problems.push(problem(key, [], `must be a Pulumi secret; found plain text. Set it with \`pulumi config set --secret ${key}\``));
    else if (!schemas[key]!.safeParse(value).success)
      problems.push(
        problem(key, [], `expected a password: non-empty text set with \`pulumi config set --secret ${key}\`; found ${secretKind(value)}`),
      );
    else parsed[key] = pulumi.secret(value as string);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = parsed as PlatformConfig;
  const ruleProblems = [...areas.flatMap((a) => a.rules?.(config as never) ?? []), ...crossAreaRules(config)];
  if (ruleProblems.length > 0) throw new ConfigError(ruleProblems);
  return config;
}

/** Rules between areas: what the operator needs from the catalogue, and what each environment demands. */
function crossAreaRules(config: PlatformConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { operator, catalogue } = config;
  if (operator?.enabled) {
    const user = catalogue.users[operator.kafkaUser];
    if (!user)
      problems.push(
        problem(
          "operator",
          ["kafkaUser"],
          `expected a user of streamforge:catalogue.users (${Object.keys(catalogue.users).join(", ")}); found "${operator.kafkaUser}"`,
        ),
      );
    else if (!user.consume.includes("queue-events") || !user.groups.includes(operator.groupId))
      problems.push(
        problem(
          "catalogue",
          ["users", operator.kafkaUser],
          `expected the operator's user to consume queue-events in group "${operator.groupId}"; found consume [${user.consume.join(", ")}], groups [${user.groups.join(", ")}]`,
        ),
      );
  }
  if (operator?.enabled) problems.push(...relaunchGuardNamespaceProblems(config, operator));
  const rollouts = config.rollouts;
  if (rollouts?.enabled && !catalogue.users[rollouts.queueManager.kafkaUser])
    problems.push(
      problem(
        "rollouts",
        ["queueManager", "kafkaUser"],
        `expected a user of streamforge:catalogue.users (${Object.keys(catalogue.users).join(", ")}); found "${rollouts.queueManager.kafkaUser}"`,
      ),
    );
  if (!topicDeletionEnabled(config.kafka, config.environment))
    for (const [topic, mode] of Object.entries(config.retire.topics))
      if (mode === "delete")
        problems.push(
          problem(
            "retire",
            ["topics", topic],
            `expected "keep": the brokers do not delete topics here (streamforge:kafka.topicDeletion, off by default in prod), so Strimzi's Topic Operator would leave the KafkaTopic Terminating (topic-operator BatchingTopicController.java:210-228). Set streamforge:kafka.topicDeletion: true first; found "delete"`,
          ),
        );
  return [...problems, ...endpointProblems(config), ...chaosRules(config), ...productionRules(config)];
}

/**
 * The relaunch guard's namespace must be its own: any other the platform uses has readers of
 * Secrets (people with `edit` in the apps, Strimzi's and Argo's controllers, Litmus) or is the
 * cluster's, and a derived name must still be a namespace name.
 */
function relaunchGuardNamespaceProblems(config: PlatformConfig, operator: NonNullable<PlatformConfig["operator"]>): ConfigProblem[] {
  const guardNs = relaunchGuardNamespace(operator, config.apps.namespace);
  const others = new Set([
    ...AREAS.filter((area) => area.name !== "selfHealing").flatMap((area) => area.namespaces(config as never).map((ns) => ns.name)),
    config.apps.namespace,
    operator.watchNamespace ?? config.apps.namespace,
    config.kafka.namespace,
    config.strimzi.namespace,
    config.monitoring.namespace,
    ...(config.rollouts?.enabled ? [config.rollouts.controller.namespace] : []),
    ...(config.chaos?.enabled ? [config.chaos.namespace] : []),
    "default",
  ]);
  if (others.has(guardNs) || guardNs.startsWith("kube-"))
    return [
      problem(
        "operator",
        ["relaunchGuard", "namespace"],
        `expected a namespace of the relaunch guard's own, where no person holds edit and nothing else reads Secrets; found "${guardNs}", which the platform or the cluster uses for something else`,
      ),
    ];
  if (guardNs.length > 63)
    return [
      problem(
        "operator",
        ["relaunchGuard", "namespace"],
        `expected a namespace name of at most 63 characters; the default "${guardNs}" has ${guardNs.length}: set one`,
      ),
    ];
  return [];
}

/** What prod must have: production sizing, and nothing reachable or reaching out wider than it needs. */
function productionRules(config: PlatformConfig): ConfigProblem[] {
  if (config.environment !== "prod") return [];
  const { kafka } = config;
  const { brokers } = nodeCounts(kafka);
  const problems: ConfigProblem[] = [];
  const need = (ok: boolean, top: string, path: PropertyKey[], message: string): void => {
    if (!ok) problems.push(problem(top, path, `prod: ${message}`));
  };
  need(brokers >= 3, "kafka", ["nodePools"], `expected at least 3 brokers; found ${brokers}`);
  need(
    kafka.nodePools.every((p) => p.roles.length === 1),
    "kafka",
    ["nodePools"],
    "expected controllers and brokers in separate pools; found a dual-role pool",
  );
  kafka.nodePools.forEach((p, i) =>
    need(
      p.storage.type === "persistent-claim",
      "kafka",
      ["nodePools", i, "storage", "type"],
      `expected "persistent-claim"; found "${p.storage.type}"`,
    ),
  );
  need(kafka.replication.factor >= 3, "kafka", ["replication", "factor"], `expected at least 3; found ${kafka.replication.factor}`);
  need(
    kafka.replication.minInSyncReplicas >= 2,
    "kafka",
    ["replication", "minInSyncReplicas"],
    `expected at least 2; found ${kafka.replication.minInSyncReplicas}`,
  );
  need(kafka.rackTopologyKey !== undefined, "kafka", ["rackTopologyKey"], "expected a node label for rack awareness; found nothing");
  need(kafka.podDisruptionBudget !== undefined, "kafka", ["podDisruptionBudget"], "expected a PodDisruptionBudget; found nothing");
  need(!kafka.listeners.plain, "kafka", ["listeners", "plain"], "expected false: no unauthenticated listener in prod; found true");
  const external = kafka.listeners.external;
  if (external) {
    const ranges = external.allowedSourceRanges;
    need(
      ranges.length > 0 && !ranges.some(isEverywhere),
      "kafka",
      ["listeners", "external", "allowedSourceRanges"],
      `expected the source ranges allowed to reach the external listener, none of them 0.0.0.0/0; found ${JSON.stringify(ranges)}`,
    );
  }
  problems.push(...egressWidthProblems(config));
  return problems;
}

/**
 * prod: no egress range wider than `network.minEgressPrefixLength` (0.0.0.0/1 is half the
 * internet, not "not everywhere"). Checks every CIDR the stack's NetworkPolicies let pods out to.
 */
function egressWidthProblems(config: PlatformConfig): ConfigProblem[] {
  const network = config.network;
  if (!network) return []; // reported by the cluster area's rule
  const limit = network.minEgressPrefixLength;
  const cidrs: { top: string; path: PropertyKey[]; cidr: string }[] = [
    { top: "network", path: ["apiServerCidr"], cidr: network.apiServerCidr },
    ...config.apps.workerEgress.flatMap((allow, i) =>
      allow.to.flatMap((peer, j) => ("cidr" in peer ? [{ top: "apps", path: ["workerEgress", i, "to", j, "cidr"], cidr: peer.cidr }] : [])),
    ),
    ...(config.rollouts?.router.type === "gateway-api"
      ? (config.rollouts.router.plugin.downloadFrom ?? []).map((cidr, i) => ({
          top: "rollouts",
          path: ["router", "plugin", "downloadFrom", i],
          cidr,
        }))
      : []),
  ];
  return cidrs
    .filter(({ cidr }) => prefixLength(cidr) < limit)
    .map(({ top, path, cidr }) =>
      problem(
        top,
        path,
        `prod: expected an egress range of /${limit} or narrower (streamforge:network.minEgressPrefixLength); found ${JSON.stringify(cidr)}`,
      ),
    );
}

/** Egress to an http(s) address needs a peer a NetworkPolicy can name: a Service or an IPv4 address. */
function endpointProblems(config: PlatformConfig): ConfigProblem[] {
  const addresses: { top: string; path: PropertyKey[]; url: string }[] = [
    ...(config.rollouts?.enabled && config.rollouts.controller.install
      ? [{ top: "rollouts", path: ["analysis", "prometheusAddress"], url: config.rollouts.analysis.prometheusAddress }]
      : []),
    ...(config.chaos?.enabled ? [{ top: "chaos", path: ["prometheusAddress"], url: config.chaos.prometheusAddress }] : []),
  ];
  return addresses
    .filter(({ url }) => httpEndpointEgressRule(url, "its-own-namespace") === undefined)
    .map(({ top, path, url }) =>
      problem(
        top,
        path,
        `expected a Service address such as http://prometheus-operated.monitoring:9090 or an IPv4 address, so its egress can be opened; found ${JSON.stringify(url)}`,
      ),
    );
}

const isEverywhere = (cidr: string): boolean => cidr.endsWith("/0");

/** Decodes a raw Pulumi config value: structured values arrive as JSON text. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * This program's raw values from Pulumi's flat config map: namespace stripped, structured values
 * decoded, secrets left as the text they are. `pulumi config set --secret k 8473` encrypts the text
 * "8473" (pulumi/pulumi 1b5949891b, pkg/cmd/pulumi/config/config.go:847-860) and the engine hands
 * the program the decrypted text unchanged (sdk/go/common/resource/config/map.go:31-68,
 * plaintext.go:255-262) in a map of strings (sdk/nodejs/cmd/pulumi-language-nodejs/main.go:1120-1145),
 * which @pulumi/pulumi 3.276.0 hands on as is (runtime/config.js:89-100, allConfig); decoding it would turn a digits-only password into a number. A secret object (secure leaves)
 * arrives as its JSON text too, so the program cannot tell it from a password that looks like JSON.
 */
export function decodeRawConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    raw[name] = SECRET_KEYS.includes(name) ? value : decode(value);
  }
  return raw;
}

/**
 * Whether Pulumi holds a key as a secret. The runtime exports `isConfigSecret` (Config.get uses
 * it) but its typings mark it internal; if an upgrade removes it, say so rather than guess.
 */
function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function")
    throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret: infra/config.ts cannot tell secret config from plain text");
  return runtime.isConfigSecret(key);
}

/** Reads this stack's `streamforge:*` config from the Pulumi runtime and validates it. */
export function loadPlatformConfig(): PlatformConfig {
  const raw = decodeRawConfig(pulumi.runtime.allConfig());
  // Pulumi keeps which keys are secret beside the config map, not in it: ask it, key by key.
  const secretKeys = new Set(Object.keys(raw).filter((key) => isConfigSecret(keyName(key))));
  return parsePlatformConfig(raw, secretKeys);
}
