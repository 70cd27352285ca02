/**
 * Production Kafka survives a broker loss without losing acknowledged writes, and nobody talks to
 * it in clear text or anonymously:
 * - the Strimzi `Kafka` CR: default, offsets and transaction-log replication factors >= 3 and
 *   `min.insync.replicas` (and the transaction log's min ISR) >= 2;
 * - topics, as Strimzi `KafkaTopic` CRs or `@pulumi/kafka` `Topic`s: replicas >= 3, and a topic's
 *   own `min.insync.replicas`, when it sets one, >= 2;
 * - every listener of the `Kafka` CR has `tls: true` and an `authentication` type.
 * - durability: `min.insync.replicas` below the replication factor (a replica can be down),
 *   no unclean leader election, `delete.topic.enable: false`, persistent broker volumes with
 *   `deleteClaim: false` (also inside JBOD), and at least three brokers counted over the node
 *   pools with the broker role (a stack rule: it counts across resources).
 * Only in production stacks: dev and local run one broker on purpose.
 */
import {
  type StackViolation,
  type Subject,
  asArray,
  asRecord,
  asString,
  defineRule,
  defineStackRule,
  describe,
  get,
  isKind,
  numeric,
  shown,
} from "./common";

export const MIN_REPLICATION_FACTOR = 3;
export const MIN_IN_SYNC_REPLICAS = 2;

const STRIMZI = "kafka.strimzi.io";
const KAFKA_TOPIC_TYPE = "kafka:index/topic:Topic";

const isKafka = (type: string) => isKind(type, STRIMZI, "Kafka");
const isTopic = (type: string) => isKind(type, STRIMZI, "KafkaTopic") || type === KAFKA_TOPIC_TYPE;

function atLeast(where: string, field: string, value: unknown, min: number, what: string): string[] {
  const n = numeric(value);
  return Number.isFinite(n) && n >= min ? [] : [`${where}: ${field}: expected ${what} >= ${min}; found ${shown(value)}`];
}

export function kafkaReplicationViolations(subject: Subject): string[] {
  const where = describe(subject);
  if (isKafka(subject.type)) {
    const config = get(subject.props, "spec", "kafka", "config");
    const at = (key: string) => `spec.kafka.config["${key}"]`;
    const value = (key: string) => get(config, key);
    return [
      ...atLeast(
        where,
        at("default.replication.factor"),
        value("default.replication.factor"),
        MIN_REPLICATION_FACTOR,
        "a replication factor",
      ),
      ...atLeast(
        where,
        at("offsets.topic.replication.factor"),
        value("offsets.topic.replication.factor"),
        MIN_REPLICATION_FACTOR,
        "a replication factor",
      ),
      ...atLeast(
        where,
        at("transaction.state.log.replication.factor"),
        value("transaction.state.log.replication.factor"),
        MIN_REPLICATION_FACTOR,
        "a replication factor",
      ),
      ...atLeast(where, at("min.insync.replicas"), value("min.insync.replicas"), MIN_IN_SYNC_REPLICAS, "min.insync.replicas"),
      ...atLeast(
        where,
        at("transaction.state.log.min.isr"),
        value("transaction.state.log.min.isr"),
        MIN_IN_SYNC_REPLICAS,
        "the transaction log's min ISR",
      ),
    ];
  }
  if (isTopic(subject.type)) {
    const strimzi = subject.type !== KAFKA_TOPIC_TYPE;
    const replicasField = strimzi ? "spec.replicas" : "replicationFactor";
    const replicas = strimzi ? get(subject.props, "spec", "replicas") : get(subject.props, "replicationFactor");
    const config = strimzi ? get(subject.props, "spec", "config") : get(subject.props, "config");
    const minIsr = get(config, "min.insync.replicas");
    return [
      ...atLeast(where, replicasField, replicas, MIN_REPLICATION_FACTOR, "a replication factor"),
      ...(minIsr === undefined
        ? []
        : atLeast(
            where,
            `${strimzi ? "spec.config" : "config"}["min.insync.replicas"]`,
            minIsr,
            MIN_IN_SYNC_REPLICAS,
            "min.insync.replicas",
          )),
    ];
  }
  return [];
}

export const kafkaReplication = defineRule({
  name: "kafka-production-replication",
  description: "In production, Kafka replicates every partition 3 times and acknowledges a write on at least 2 in-sync replicas.",
  enforcementLevel: "mandatory",
  appliesTo: (type) => isKafka(type) || isTopic(type),
  scope: "Strimzi Kafka and KafkaTopic resources and @pulumi/kafka Topics",
  productionOnly: true,
  check: kafkaReplicationViolations,
});

export function kafkaListenerViolations(subject: Subject): string[] {
  const where = describe(subject);
  const listeners = get(subject.props, "spec", "kafka", "listeners");
  if (!Array.isArray(listeners) || listeners.length === 0)
    return [`${where}: spec.kafka.listeners: expected at least one listener with TLS and authentication; found ${shown(listeners)}`];
  const out: string[] = [];
  asArray(listeners).forEach((l, i) => {
    const listener = asRecord(l);
    const at = `spec.kafka.listeners[${i}] ("${asString(listener.name) ?? `#${i}`}", ${shown(listener.type)})`;
    if (listener.tls !== true) out.push(`${where}: ${at}.tls: expected true; found ${shown(listener.tls)}`);
    const auth = asString(get(listener, "authentication", "type"));
    if (!auth)
      out.push(
        `${where}: ${at}.authentication.type: expected an authentication type (scram-sha-512, tls, oauth, custom); found ${shown(listener.authentication)}`,
      );
  });
  return out;
}

export const kafkaListeners = defineRule({
  name: "kafka-production-listeners",
  description: "In production, every Kafka listener uses TLS and authenticates its clients.",
  enforcementLevel: "mandatory",
  appliesTo: isKafka,
  scope: "Strimzi Kafka resources",
  productionOnly: true,
  check: kafkaListenerViolations,
});

// ---- Durability invariants ------------------------------------------------------------------

const isNodePool = (type: string) => isKind(type, STRIMZI, "KafkaNodePool");

/** Kafka's own defaults for the keys below when the config leaves them out (Kafka 4.x broker configs). */
const DELETE_TOPIC_DEFAULT = true;

function persistentStorageProblems(where: string, at: string, storage: unknown, broker: boolean): string[] {
  const type = get(storage, "type");
  if (type === "jbod")
    return asArray(get(storage, "volumes")).flatMap((v, i) => persistentStorageProblems(where, `${at}.volumes[${i}]`, v, broker));
  if (type === "persistent-claim") {
    // A primitive boolean in Strimzi 1.2.0 (api/.../kafka/PersistentClaimStorage.java:34): unset is false,
    // but the pack asks for it written down, so a reviewer sees the claims outlive the cluster.
    const deleteClaim = get(storage, "deleteClaim");
    return deleteClaim === false
      ? []
      : [`${where}: ${at}.deleteClaim: expected false (the volumes outlive the cluster); found ${shown(deleteClaim)}`];
  }
  return broker ? [`${where}: ${at}.type: expected "persistent-claim" (or "jbod" of them) for a broker's log; found ${shown(type)}`] : [];
}

export function kafkaDurabilityViolations(subject: Subject): string[] {
  const where = describe(subject);
  if (isKafka(subject.type)) {
    const config = get(subject.props, "spec", "kafka", "config");
    const at = (key: string) => `spec.kafka.config["${key}"]`;
    const out: string[] = [];
    const rf = numeric(get(config, "default.replication.factor"));
    const minIsr = numeric(get(config, "min.insync.replicas"));
    if (!(Number.isFinite(rf) && Number.isFinite(minIsr) && minIsr < rf))
      out.push(
        `${where}: ${at("min.insync.replicas")}: expected below ${at("default.replication.factor")} (${shown(get(config, "default.replication.factor"))}), so one replica can be down and acks=all writes go on; found ${shown(get(config, "min.insync.replicas"))}`,
      );
    const unclean = get(config, "unclean.leader.election.enable");
    if (unclean === true || unclean === "true")
      out.push(
        `${where}: ${at("unclean.leader.election.enable")}: expected false or unset (an out-of-sync leader drops acknowledged writes); found ${shown(unclean)}`,
      );
    const deleteTopic = get(config, "delete.topic.enable");
    if (!(deleteTopic === false || deleteTopic === "false"))
      out.push(
        `${where}: ${at("delete.topic.enable")}: expected false (Kafka's default is ${DELETE_TOPIC_DEFAULT}; a topic goes only by retiring it, docs/data-safety.md); found ${shown(deleteTopic)}`,
      );
    const storage = get(subject.props, "spec", "kafka", "storage");
    if (storage !== undefined) out.push(...persistentStorageProblems(where, "spec.kafka.storage", storage, true));
    return out;
  }
  if (isNodePool(subject.type)) {
    const broker = asArray(get(subject.props, "spec", "roles")).includes("broker");
    return persistentStorageProblems(where, "spec.storage", get(subject.props, "spec", "storage"), broker);
  }
  if (isTopic(subject.type)) {
    const strimzi = subject.type !== KAFKA_TOPIC_TYPE;
    const configAt = strimzi ? "spec.config" : "config";
    const config = strimzi ? get(subject.props, "spec", "config") : get(subject.props, "config");
    const unclean = get(config, "unclean.leader.election.enable");
    const out: string[] = [];
    if (unclean === true || unclean === "true")
      out.push(`${where}: ${configAt}["unclean.leader.election.enable"]: expected false or unset; found ${shown(unclean)}`);
    const replicas = numeric(strimzi ? get(subject.props, "spec", "replicas") : get(subject.props, "replicationFactor"));
    const minIsr = get(config, "min.insync.replicas");
    if (minIsr !== undefined && Number.isFinite(replicas) && !(numeric(minIsr) < replicas))
      out.push(`${where}: ${configAt}["min.insync.replicas"]: expected below the topic's replicas (${replicas}); found ${shown(minIsr)}`);
    return out;
  }
  return [];
}

export const kafkaDurability = defineRule({
  name: "kafka-production-durability",
  description:
    "In production, min.insync.replicas is below the replication factor, no unclean leader election, topic deletion off, and persistent volumes kept (deleteClaim: false).",
  enforcementLevel: "mandatory",
  appliesTo: (type) => isKafka(type) || isNodePool(type) || isTopic(type),
  scope: "Strimzi Kafka, KafkaNodePool and KafkaTopic resources and @pulumi/kafka Topics",
  productionOnly: true,
  check: kafkaDurabilityViolations,
});

/** Brokers of each Kafka CR: the replicas of its node pools (label strimzi.io/cluster) with the broker role. */
export function kafkaBrokerViolations(resources: readonly Subject[]): StackViolation[] {
  const pools = resources.filter((r) => isNodePool(r.type));
  return resources
    .filter((r) => isKafka(r.type))
    .flatMap((kafka) => {
      const name = get(kafka.props, "metadata", "name");
      const namespace = get(kafka.props, "metadata", "namespace");
      const own = pools.filter(
        (p) =>
          get(p.props, "metadata", "labels", "strimzi.io/cluster") === name &&
          (get(p.props, "metadata", "namespace") ?? namespace) === namespace &&
          asArray(get(p.props, "spec", "roles")).includes("broker"),
      );
      const brokers = own.reduce((n, p) => n + (numeric(get(p.props, "spec", "replicas")) || 0), 0);
      if (brokers >= MIN_REPLICATION_FACTOR) return [];
      const counted = own.map((p) => `${p.name}: ${shown(get(p.props, "spec", "replicas"))}`).join(", ") || "no pool with the broker role";
      return [
        {
          message: `${describe(kafka)}: brokers (spec.replicas of the KafkaNodePools labelled strimzi.io/cluster=${shown(name)} with the broker role): expected >= ${MIN_REPLICATION_FACTOR}; found ${brokers} (${counted})`,
          urn: kafka.urn,
        },
      ];
    });
}

export const kafkaBrokers = defineStackRule({
  name: "kafka-production-brokers",
  description: "In production, every Kafka cluster has at least three brokers, counted over its node pools with the broker role.",
  enforcementLevel: "mandatory",
  productionOnly: true,
  check: kafkaBrokerViolations,
});

export const kafkaRules = [kafkaReplication, kafkaListeners, kafkaDurability];
export const kafkaStackRules = [kafkaBrokers];
