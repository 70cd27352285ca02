/**
 * Day-2 safety for the Kafka platform: every stateful object (the Kafka cluster, its node pools,
 * topics, users, and the namespaces holding them) is protected unless the stack config confirms,
 * per object, how it may go (`streamforge:retire`). Pure functions: the live objects come from
 * infra/kafka/live.ts, the desired ones from the catalogue and `streamforge:kafka`.
 *
 * Why both Pulumi options (pulumi/pulumi pkg/resource/deploy/step.go, v3.276.0, DeleteStep.Apply):
 * `protect` makes the engine refuse to delete the object, in preview too, so `pulumi destroy` and a
 * removal fail before anything is deleted; `retainOnDelete` makes any deletion that does happen
 * (a later unprotect, `destroy --target`) leave the object in the cluster. Both are read from the
 * state of the last `up`, so a confirmation takes effect at an `up` that still declares the object:
 * confirm, `up`, then remove it. The confirmation is also written on the object
 * (RETIRE_ANNOTATION), which is how a later preview knows it was applied.
 */
import { gunzipSync, gzipSync } from "node:zlib";

import * as pulumi from "@pulumi/pulumi";

import { ConfigError, type ConfigProblem, problem } from "../kit/config-kit";
import { ignoredUsersOf } from "./cluster-spec";
import type { RetireConfig, RetireMode } from "./config";

/** Written on each object whose retirement an `up` applied: its value is the confirmed mode. */
export const RETIRE_ANNOTATION = "streamforge.io/retire";

/**
 * Written on the Kafka CR: the stack that declares it (`<organization>/<project>/<stack>`). Two
 * stacks may share a Kafka namespace; a cluster of another stack there is not this stack's cluster
 * under an old name, nor this stack's to take over.
 */
export const STACK_ANNOTATION = "streamforge.io/stack";

/**
 * Written on the Kafka CR: who declares the catalogue's topics and users (`strimzi` or
 * `kafka-api`, streamforge:catalogue.owner). The owner cannot change on a running cluster
 * (kafka-changes.ts catalogueOwnerChanged), and this is how a preview knows the last one.
 */
export const CATALOGUE_OWNER_ANNOTATION = "streamforge.io/catalogue-owner";

/**
 * Written on the Kafka CR of an owner kafka-api stack: each catalogue user's ACLs as the last `up`
 * declared them (JSON, impact.ts aclEntry). Kafka's ACL rows carry no owner, and the stack deletes
 * only the rows it declared: this record tells those from rows granted outside the stack.
 */
export const KAFKA_API_ACLS_ANNOTATION = "streamforge.io/kafka-api-acls";

const ACL_RECORD_PREFIX = "gzip;base64,";
/** Well under the API server's 256 KiB for all of an object's annotations (apimachinery ValidateAnnotationsSize). */
const ACL_RECORD_MAX = 128 * 1024;

/**
 * KAFKA_API_ACLS_ANNOTATION's value: the record as JSON, compressed (a catalogue of many users
 * would pass the annotations' limit as text: about 3.8 KB a user with 40 topics) and so stated.
 */
export function encodeAclRecord(acls: Readonly<Record<string, readonly string[]>>): string {
  const value = ACL_RECORD_PREFIX + gzipSync(JSON.stringify(acls)).toString("base64");
  if (value.length > ACL_RECORD_MAX)
    throw new ConfigError([
      problem(
        "catalogue",
        ["users"],
        `expected the users' ACLs to fit the Kafka CR's record (${ACL_RECORD_MAX} bytes compressed); found ${value.length}. Split the catalogue across stacks`,
      ),
    ]);
  return value;
}

/** The record read back: user -> ACL entries; undefined where absent or not that shape (then nothing is taken as declared). */
export function decodeAclRecord(value: string | undefined): Record<string, string[]> | undefined {
  if (value === undefined || !value.startsWith(ACL_RECORD_PREFIX)) return undefined;
  try {
    const parsed: unknown = JSON.parse(gunzipSync(Buffer.from(value.slice(ACL_RECORD_PREFIX.length), "base64")).toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed);
    return entries.every(([, v]) => Array.isArray(v) && v.every((e) => typeof e === "string")) ? Object.fromEntries(entries) : undefined;
  } catch {
    return undefined;
  }
}

/** The value of STACK_ANNOTATION for a stack. */
export const stackIdentity = (organization: string, project: string, stack: string): string => `${organization}/${project}/${stack}`;

/** STACK_ANNOTATION's value for the stack this program runs as (the engine's, or the mocks' under render). */
export const thisStackIdentity = (): string => stackIdentity(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack());

/** The Pulumi options that keep a stateful object, or let it go as confirmed. */
export function keepOptions(mode: RetireMode | undefined): { protect: boolean; retainOnDelete: boolean } {
  if (mode === "delete") return { protect: false, retainOnDelete: false };
  if (mode === "keep") return { protect: false, retainOnDelete: true };
  return { protect: true, retainOnDelete: true };
}

/** The annotation that records a confirmation on the object (none while it is protected). */
export function retireAnnotations(mode: RetireMode | undefined): Record<string, string> {
  return mode ? { [RETIRE_ANNOTATION]: mode } : {};
}

export type StatefulKind = "topics" | "users" | "nodePools";

/** The confirmation that applies to one object: its own, else the whole stack's. */
export function retireModeOf(retire: RetireConfig, kind: StatefulKind, name: string): RetireMode | undefined {
  return retire[kind][name] ?? retire.stack;
}

/** One Kafka object as the API server holds it. */
export interface LiveObject {
  readonly kind: "Kafka" | "KafkaNodePool" | "KafkaTopic" | "KafkaUser";
  readonly namespace: string;
  /** metadata.name */
  readonly name: string;
  /** The confirmation an `up` applied to it (RETIRE_ANNOTATION), if any. */
  readonly retire?: RetireMode;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly status?: Readonly<Record<string, unknown>>;
}

/** The stack's Kafka objects in the cluster, as read before anything is declared. */
/**
 * What the program lists before declaring anything (live.ts), and in which namespace: all a
 * preview reads of the cluster itself, and so all a preview identity may (previewers-spec.ts).
 */
export const LIVE_READS = [
  { plural: "kafkas", namespace: "kafka" },
  { plural: "kafkanodepools", namespace: "kafka" },
  { plural: "kafkatopics", namespace: "kafka" },
  { plural: "kafkausers", namespace: "users" },
] as const;

export interface LiveKafka {
  readonly cluster?: LiveObject;
  /** The namespace's other Kafka CRs that carry this stack's name (live.ts clusterOwnership): its cluster under a former name. */
  readonly formerNames?: readonly string[];
  /** The namespace's other Kafka CRs that carry no stack's name (declared before it was written). */
  readonly unnamedClusters?: readonly string[];
  /** The stack named on the Kafka CR of this cluster's name, where it is another stack. */
  readonly clusterOwner?: string;
  /** This stack's name, as its Kafka CR carries it (STACK_ANNOTATION). */
  readonly stack?: string;
  readonly nodePools: readonly LiveObject[];
  readonly topics: readonly LiveObject[];
  readonly users: readonly LiveObject[];
  /** False where the catalogue's owner is the Kafka admin API: no KafkaTopic or KafkaUser was read, so none may be judged. */
  readonly catalogueRead?: boolean;
  /** The catalogue's owner the Kafka CR records (CATALOGUE_OWNER_ANNOTATION); unset on a cluster last applied before it was written. */
  readonly catalogueOwner?: string;
  /**
   * Owner kafka-api: the names of this cluster's KafkaTopics (their topic names) and KafkaUsers,
   * which Strimzi's operators manage. Only their names: none is judged as the catalogue's.
   */
  readonly strimziCatalogue?: { readonly topics: readonly string[]; readonly users: readonly string[] };
  /**
   * Owner kafka-api: the catalogue's topics as Kafka holds them (kafka-api-live.ts), compared with
   * their declaration (unsupported changes, truncations, impact) but never taken for departures.
   */
  readonly topicsInKafka?: readonly LiveObject[];
  /** Owner kafka-api: each catalogue user's ACLs as Kafka holds them (kafka-api-live.ts), as impact.ts aclEntry names them. */
  readonly aclsInKafka?: Readonly<Record<string, readonly string[]>>;
  /** Owner kafka-api: each user's ACLs as the last `up` declared them (KAFKA_API_ACLS_ANNOTATION); unset before one wrote it. */
  readonly aclsDeclared?: Readonly<Record<string, readonly string[]>>;
}

/** The brokers' config a Kafka CR spec holds (spec.kafka.config), live or as the program renders it. */
export function brokerConfigOf(spec: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  return (spec?.kafka as { config?: Record<string, unknown> } | undefined)?.config ?? {};
}

export const NO_LIVE_KAFKA: LiveKafka = { nodePools: [], topics: [], users: [] };

/** The live topics a declaration is compared with: the KafkaTopics, or with owner kafka-api those Kafka holds. */
export function comparedTopics(live: LiveKafka): readonly LiveObject[] {
  return live.catalogueRead === false ? (live.topicsInKafka ?? []) : live.topics;
}

/** A KafkaTopic's topic name in Kafka: spec.topicName, else its object name (Strimzi's rule). */

export function liveTopicName(topic: LiveObject): string {
  return typeof topic.spec.topicName === "string" ? topic.spec.topicName : topic.name;
}

/** What the program declares, by the names the confirmations use. */
export interface DesiredKafka {
  readonly topics: readonly string[];
  readonly users: readonly string[];
  readonly nodePools: readonly string[];
}

interface KindText {
  /** Where the object is declared: the key it was removed from. */
  readonly home: { readonly key: string; readonly path: readonly string[] };
  readonly what: string;
  readonly keep: string;
  readonly delete: string;
}

const KINDS: Record<StatefulKind, KindText> = {
  topics: {
    home: { key: "catalogue", path: ["topics"] },
    what: "topic",
    keep: "the topic and its data stay in Kafka, no longer managed by this stack",
    delete: "Strimzi's Topic Operator deletes the topic and its data",
  },
  users: {
    home: { key: "catalogue", path: ["users"] },
    what: "user",
    keep: "the KafkaUser, its credentials Secret and ACLs stay, no longer managed by this stack",
    delete: "its credentials and ACLs are deleted: clients using them are cut off",
  },
  nodePools: {
    home: { key: "kafka", path: ["nodePools"] },
    what: "node pool",
    keep: "the pool and its brokers keep running, no longer managed by this stack",
    delete: "its nodes are removed (Strimzi refuses while they hold partition replicas) and, with deleteClaim, their volumes",
  },
};

function departure(kind: StatefulKind, name: string, object: LiveObject, retire: RetireConfig): ConfigProblem | undefined {
  const text = KINDS[kind];
  const confirmed = retireModeOf(retire, kind, name);
  const where = `${object.kind} ${object.namespace}/${object.name}`;
  if (confirmed !== undefined && object.retire === confirmed) return undefined;
  // Released by an earlier `up` (its state retains it on delete): it is no longer ours to keep.
  if (confirmed === undefined && object.retire === "keep") return undefined;
  const at = (message: string) => problem(text.home.key, [...text.home.path, name], message);
  if (confirmed !== undefined)
    return at(
      `expected the ${text.what} to stay declared until its confirmation streamforge:retire.${kind}.${name} ("${confirmed}") is applied; ` +
        `found it removed while ${where} is still protected. Put it back, run pulumi up (which applies the confirmation), then remove it`,
    );
  return at(
    `expected the ${text.what} "${name}" to stay: ${where} is in the cluster and protected, and removing it would lose it. ` +
      `To let it go, keep it here, set streamforge:retire.${kind}.${name} to "keep" (${text.keep}) or "delete" (${text.delete}), ` +
      `run pulumi up, then remove it; found it removed`,
  );
}

/**
 * Objects in the cluster the program no longer declares: each must have been confirmed and the
 * confirmation applied by an earlier `up`, or the change is refused naming the object and the key.
 */
export function departureProblems(live: LiveKafka, desired: DesiredKafka, retire: RetireConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check = (kind: StatefulKind, objects: readonly LiveObject[], nameOf: (o: LiveObject) => string) => {
    const declared = new Set(desired[kind]);
    for (const object of objects) {
      const name = nameOf(object);
      if (declared.has(name)) continue;
      const p = departure(kind, name, object, retire);
      if (p) problems.push(p);
    }
  };
  check("topics", live.topics, liveTopicName);
  check("users", live.users, (o) => o.name);
  check("nodePools", live.nodePools, (o) => o.name);
  return problems;
}

/**
 * Confirmations that outlive their change. `retire.<kind>.<name>` for an object the program
 * declares but the cluster does not hold would create a new object of that name unprotected and
 * already confirmed; `retire.scaleDown.<pool>` at another count than the pool's would let a later
 * scale-down to it through unreviewed. Each is refused until removed. Only against a running
 * cluster: before the first `up` nothing is live.
 */
export function staleConfirmationProblems(
  live: LiveKafka,
  desired: DesiredKafka & { readonly replicas: Readonly<Record<string, number>> },
  retire: RetireConfig,
): ConfigProblem[] {
  if (!live.cluster) return [];
  const problems: ConfigProblem[] = [];
  const held: Record<StatefulKind, Set<string>> = {
    topics: new Set(live.topics.map(liveTopicName)),
    users: new Set(live.users.map((o) => o.name)),
    nodePools: new Set(live.nodePools.map((o) => o.name)),
  };
  const kinds = live.catalogueRead === false ? (["nodePools"] as const) : (["topics", "users", "nodePools"] as const);
  for (const kind of kinds)
    for (const name of Object.keys(retire[kind]))
      if (desired[kind].includes(name) && !held[kind].has(name))
        problems.push(
          problem(
            "retire",
            [kind, name],
            `expected a confirmation for a ${KINDS[kind].what} the cluster holds; found "${name}" declared but not in the cluster: ` +
              `it would be created unprotected. A confirmation is for one object: remove it`,
          ),
        );
  for (const [pool, count] of Object.entries(retire.scaleDown))
    if (desired.replicas[pool] !== count)
      problems.push(
        problem(
          "retire",
          ["scaleDown", pool],
          `expected the confirmed count ${count} to be pool "${pool}"'s replicas; found ${desired.replicas[pool] ?? "no such pool"}. ` +
            `A confirmation is for one scale-down: remove it`,
        ),
      );
  return problems;
}

/**
 * Owner kafka-api: a user released with "keep" stays out of the User Operator's hands only while
 * its confirmation names it (area.ts externallyManaged). Removing that confirmation would let the
 * operator's periodic reconcile delete its credentials and ACLs: refused, naming the key.
 */
export function releasedUserProblems(live: LiveKafka, declaredUsers: readonly string[], retire: RetireConfig): ConfigProblem[] {
  if (live.catalogueRead !== false) return [];
  return ignoredUsersOf(live.cluster?.spec)
    .filter((name) => !declaredUsers.includes(name) && retire.users[name] === undefined)
    .map((name) =>
      problem(
        "retire",
        ["users", name],
        `expected the confirmation streamforge:retire.users.${name} ("keep") to stay: the brokers' User Operator leaves user "${name}" alone only while it does, ` +
          `and otherwise deletes its SCRAM credential and ACLs (user-operator ScramCredentialsOperator.java:184, SimpleAclOperator.java:325 at Strimzi 1.2.0); found it removed. ` +
          `To delete the user's credentials, set it to "delete"`,
      ),
    );
}
