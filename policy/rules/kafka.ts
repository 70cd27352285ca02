/**
 * Production Kafka survives a broker loss without losing acknowledged writes, and nobody talks to
 * it in clear text or anonymously:
 * - the Strimzi `Kafka` CR: default, offsets and transaction-log replication factors >= 3 and
 *   `min.insync.replicas` (and the transaction log's min ISR) >= 2;
 * - topics, as Strimzi `KafkaTopic` CRs or `@pulumi/kafka` `Topic`s: replicas >= 3, and a topic's
 *   own `min.insync.replicas`, when it sets one, >= 2;
 * - every listener of the `Kafka` CR has `tls: true` and an `authentication` type.
 * Only in production stacks: dev and local run one broker on purpose.
 */
import { type Subject, asArray, asRecord, asString, defineRule, describe, get, isKind, numeric, shown } from "./common";

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

export const kafkaRules = [kafkaReplication, kafkaListeners];
