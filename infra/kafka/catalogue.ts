/**
 * The topic and user catalogue turned into plans both owners materialise: Strimzi
 * KafkaTopic/KafkaUser CRs, or @pulumi/kafka resources against the brokers. One plan, two
 * renderings, so both paths grant exactly the same permissions. Pure functions only.
 */
import { ConfigError, problem } from "../kit/config-kit";
import type { CatalogueConfig } from "./config";

export type AclOperation = "Read" | "Write" | "Describe";
export type AclResourceType = "topic" | "group";
export type AclPatternType = "literal" | "prefix";

export interface AclRule {
  readonly resourceType: AclResourceType;
  readonly name: string;
  readonly patternType: AclPatternType;
  readonly operations: readonly AclOperation[];
}

export interface TopicPlan {
  /** The topic's name in Kafka. */
  readonly name: string;
  /** A valid Kubernetes object name for the KafkaTopic CR. */
  readonly resourceName: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly config: Readonly<Record<string, string | number | boolean>>;
}

export interface UserPlan {
  readonly name: string;
  readonly service: string;
  readonly acls: readonly AclRule[];
}

/** What each kind of grant allows; Describe is needed to fetch metadata and offsets. */
const GRANTS = {
  produce: { resourceType: "topic", operations: ["Write", "Describe"] },
  consume: { resourceType: "topic", operations: ["Read", "Describe"] },
  groups: { resourceType: "group", operations: ["Read"] },
} as const satisfies Record<string, { resourceType: AclResourceType; operations: AclOperation[] }>;

const OPERATION_ORDER: readonly AclOperation[] = ["Read", "Write", "Describe"];

/** Kafka topic names allow '.', '_' and capitals; Kubernetes object names do not. */
export function topicResourceName(topic: string): string {
  const name = topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (name.length === 0)
    throw new ConfigError([
      problem(
        "catalogue",
        ["topics", topic],
        `expected a name with a letter or digit, which its KafkaTopic's name needs; found "${topic}"`,
      ),
    ]);
  return name.slice(0, 253);
}

export function planTopics(catalogue: CatalogueConfig, defaultReplicas: number): TopicPlan[] {
  const plans = Object.entries(catalogue.topics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, spec]) => ({
      name,
      resourceName: topicResourceName(name),
      partitions: spec.partitions,
      replicas: spec.replicas ?? defaultReplicas,
      config: spec.config as Record<string, string | number | boolean>,
    }));
  const seen = new Map<string, string>();
  for (const plan of plans) {
    const other = seen.get(plan.resourceName);
    if (other !== undefined)
      throw new ConfigError([
        problem(
          "catalogue",
          ["topics", plan.name],
          `expected a KafkaTopic name of its own; found "${plan.resourceName}", which topic "${other}" maps to as well. Rename one of them`,
        ),
      ]);
    seen.set(plan.resourceName, plan.name);
  }
  return plans;
}

/** A grant reference: `name` is literal, `prefix*` is a prefix pattern. */
function parseRef(ref: string): { name: string; patternType: AclPatternType } {
  return ref.endsWith("*") ? { name: ref.slice(0, -1), patternType: "prefix" } : { name: ref, patternType: "literal" };
}

/** Least-privilege ACLs of one user: exactly its grants, merged per resource, stably ordered. */
export function planAcls(grants: { produce: readonly string[]; consume: readonly string[]; groups: readonly string[] }): AclRule[] {
  const byResource = new Map<
    string,
    { resourceType: AclResourceType; name: string; patternType: AclPatternType; ops: Set<AclOperation> }
  >();
  for (const kind of ["produce", "consume", "groups"] as const) {
    const { resourceType, operations } = GRANTS[kind];
    for (const ref of grants[kind]) {
      const { name, patternType } = parseRef(ref);
      const key = `${resourceType}|${patternType}|${name}`;
      const entry = byResource.get(key) ?? { resourceType, name, patternType, ops: new Set<AclOperation>() };
      operations.forEach((op) => entry.ops.add(op));
      byResource.set(key, entry);
    }
  }
  return [...byResource.values()]
    .sort(
      (a, b) => a.resourceType.localeCompare(b.resourceType) || a.name.localeCompare(b.name) || a.patternType.localeCompare(b.patternType),
    )
    .map(({ ops, ...resource }) => ({ ...resource, operations: OPERATION_ORDER.filter((op) => ops.has(op)) }));
}

export function planUsers(catalogue: CatalogueConfig): UserPlan[] {
  return Object.entries(catalogue.users)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, spec]) => ({ name, service: spec.service, acls: planAcls(spec) }));
}

/** Topic config values as Kafka expects them: strings. */
export function topicConfigStrings(config: TopicPlan["config"]): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
}
