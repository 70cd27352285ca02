/**
 * Owner kafka-api: the catalogue's topics and its users' ACLs as Kafka holds them, read with the
 * stack's admin connection (streamforge:kafkaApi) before anything is declared. They are not
 * Strimzi objects, so the API server has none to read (live.ts); without this read a partition
 * decrease met only the engine's `protect` (the provider replaces a topic whose partitions
 * shrink), a shorter retention went through unasked, and a lost grant was not labelled. Only the
 * catalogue's own topics and users are read, by name: the cluster may hold others, which are not
 * this stack's, so nothing here is taken for a departure.
 *
 * Each topic becomes a LiveObject shaped as a KafkaTopic (name, partitions, replicas, its own
 * config: the entries whose source is the topic, DescribeConfigs' DYNAMIC_TOPIC_CONFIG, kafkajs
 * ConfigSource.TOPIC_CONFIG), so the same rules judge it (kafka-changes.ts, truncation.ts); each
 * ACL an entry as a KafkaUser's would be (impact.ts aclEntry), so the same impact labels it.
 */
import * as tls from "node:tls";

import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  ConfigSource,
  type DescribeAclResource,
  Kafka,
  ResourcePatternTypes,
  type SASLOptions,
  logLevel,
} from "kafkajs";
import type { KafkaApiConfig } from "./config";
import type { LiveObject } from "./data-safety";
import { topicResourceName } from "./catalogue";
import { aclEntry } from "./impact";
import { LiveReadError } from "../kit/errors";

/** The config's mechanism names (the Kafka provider's, @pulumi/kafka saslMechanism) as kafkajs names them. */
const KAFKAJS_MECHANISM = { plain: "plain", "scram-sha256": "scram-sha-256", "scram-sha512": "scram-sha-512" } as const;

/** How long one request may take; the whole read has READ_DEADLINE_MS (kafkajs retries each call). */
const READ_TIMEOUT_MS = 30_000;
const READ_DEADLINE_MS = 90_000;

export interface KafkaTopicState {
  readonly name: string;
  readonly partitions: number;
  readonly replicas: number;
  /** The topic's own config (not the brokers' defaults it follows). */
  readonly config: Readonly<Record<string, string>>;
}

/** What the preview reads of the catalogue in Kafka: its topics, and each user's ACLs (impact.ts aclEntry). */
export interface KafkaCatalogueState {
  readonly topics: readonly KafkaTopicState[];
  readonly acls: Readonly<Record<string, readonly string[]>>;
}

/**
 * A value of one of kafkajs' ACL enums (a plain object at run time) named as a KafkaUser names it:
 * IDEMPOTENT_WRITE as `IdempotentWrite` (operations), TRANSACTIONAL_ID as `transactionalId`
 * (resource types): Strimzi's AclOperation and AclResourceType, the same words as Kafka's.
 */
function aclName(values: object, value: number, initial: "upper" | "lower"): string {
  const name = Object.entries(values).find(([, v]) => v === value)?.[0];
  if (name === undefined) return `unknown (${value})`;
  const pascal = name
    .toLowerCase()
    .split("_")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
  return initial === "upper" ? pascal : pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/** The ACLs DescribeAcls returned, by user (principal `User:<name>`), for the named users only. Pure. */
export function aclsByUser(resources: readonly DescribeAclResource[], users: readonly string[]): Record<string, string[]> {
  const byUser: Record<string, string[]> = Object.fromEntries(users.map((u) => [u, []]));
  for (const r of resources)
    for (const acl of r.acls) {
      const user = acl.principal.startsWith("User:") ? acl.principal.slice("User:".length) : undefined;
      if (user === undefined || !(user in byUser)) continue;
      byUser[user]!.push(
        aclEntry({
          permission: acl.permissionType === AclPermissionTypes.DENY ? "deny" : "allow",
          operation: aclName(AclOperationTypes, acl.operation, "upper"),
          resourceType: aclName(AclResourceTypes, r.resourceType, "lower"),
          name: r.resourceName,
          patternType: r.resourcePatternType === ResourcePatternTypes.PREFIXED ? "prefix" : "literal",
          host: acl.host,
        }),
      );
    }
  for (const entries of Object.values(byUser)) entries.sort();
  return byUser;
}

/** A topic as Kafka describes it, shaped as the KafkaTopic the rules compare. Pure. */
export function liveTopicOf(topic: KafkaTopicState): LiveObject {
  return {
    kind: "KafkaTopic",
    namespace: "",
    name: topicResourceName(topic.name),
    spec: { topicName: topic.name, partitions: topic.partitions, replicas: topic.replicas, config: { ...topic.config } },
  };
}

/**
 * The topics to read: each catalogue topic under its own name, or, where Kafka has no topic of
 * that name, the one its KafkaTopic-style name maps to (`Orders` for a catalogue `orders`: the
 * provider would replace it, topicNameChanged says so). Kafka's internal topics (`__*`) never.
 */
export function topicsToRead(existing: readonly string[], catalogue: readonly string[]): string[] {
  const usable = (name: string): string | undefined => {
    try {
      return topicResourceName(name);
    } catch {
      return undefined; // no character usable in a resource name: no catalogue topic maps to it
    }
  };
  const present = new Set(existing);
  // Each resource name's first Kafka topic, in name order.
  const byResource = new Map<string, string>();
  for (const name of [...existing].sort()) {
    const resource = name.startsWith("__") ? undefined : usable(name);
    if (resource !== undefined && !byResource.has(resource)) byResource.set(resource, name);
  }
  const read = catalogue.map((name) => (present.has(name) ? name : byResource.get(topicResourceName(name))));
  return [...new Set(read.filter((name) => name !== undefined))].sort();
}

const defaultCertificates = (): readonly string[] =>
  typeof tls.getCACertificates === "function" ? tls.getCACertificates("default") : tls.rootCertificates;

/** TLS as the Kafka provider sets it up: the given CA trusted beside the default ones (config.ts caCertificate). */
export function tlsOptions(api: Pick<KafkaApiConfig, "skipTlsVerify" | "caCertificate">): tls.ConnectionOptions {
  return {
    rejectUnauthorized: !api.skipTlsVerify,
    // Node's `ca` replaces its trust store, as the provider's would not (it appends to the system
    // pool): the default set goes first, with NODE_EXTRA_CA_CERTS and the system store where Node
    // is told to use them (node:tls getCACertificates("default"), Node 22.15+; before, the bundled roots).
    ...(api.caCertificate !== undefined ? { ca: [...defaultCertificates(), api.caCertificate] } : {}),
  };
}

/**
 * Reads the catalogue from Kafka: the named topics that exist, and the named users' ACLs. An Error
 * naming the connection key when Kafka cannot be reached.
 */
export async function readKafkaCatalogue(
  api: KafkaApiConfig,
  password: string | undefined,
  catalogue: { readonly topics: readonly string[]; readonly users: readonly string[] },
): Promise<KafkaCatalogueState> {
  const kafka = new Kafka({
    clientId: "streamforge-preview",
    brokers: [...api.bootstrapServers],
    ssl: api.tls ? tlsOptions(api) : false,
    ...(api.sasl
      ? { sasl: { mechanism: KAFKAJS_MECHANISM[api.sasl.mechanism], username: api.sasl.username, password: password ?? "" } as SASLOptions }
      : {}),
    connectionTimeout: 10_000,
    requestTimeout: READ_TIMEOUT_MS,
    retry: { retries: 2 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READ_DEADLINE_MS / 1000} s`)), READ_DEADLINE_MS);
  });
  const withDeadline = <T>(call: Promise<T>): Promise<T> => Promise.race([call, deadline]);
  try {
    await withDeadline(admin.connect());
    // Every ACL, filtered here: DescribeAcls takes one principal per filter.
    const aclResources =
      catalogue.users.length === 0
        ? []
        : (
            await withDeadline(
              admin.describeAcls({
                resourceType: AclResourceTypes.ANY,
                resourcePatternType: ResourcePatternTypes.ANY,
                operation: AclOperationTypes.ANY,
                permissionType: AclPermissionTypes.ANY,
              }),
            )
          ).resources;
    const acls = aclsByUser(aclResources, catalogue.users);
    const wanted = topicsToRead(await withDeadline(admin.listTopics()), catalogue.topics);
    if (wanted.length === 0) return { topics: [], acls };
    const { topics } = await withDeadline(admin.fetchTopicMetadata({ topics: wanted }));
    const { resources } = await withDeadline(
      admin.describeConfigs({ resources: wanted.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })), includeSynonyms: false }),
    );
    const configs = new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(
          r.configEntries
            .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && e.configValue !== null)
            .map((e) => [e.configName, e.configValue]),
        ),
      ]),
    );
    return {
      topics: topics
        .map((t) => ({
          name: t.name,
          partitions: t.partitions.length,
          replicas: Math.max(0, ...t.partitions.map((p) => p.replicas.length)),
          config: configs.get(t.name) ?? {},
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      acls,
    };
  } catch (err) {
    throw readFailure(err, api);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Why the read failed, as the preview says it: naming the key to change, never the password.
 * Kafka refusing the principal (kafkajs' error type, from Kafka's error code) is a grant to add;
 * anything else, Kafka not answering at the address.
 */
export function readFailure(err: unknown, api: Pick<KafkaApiConfig, "bootstrapServers" | "tls" | "caCertificate">): LiveReadError {
  const found = (err as Error).message.split("\n")[0] ?? "";
  if (/AUTHORIZATION_FAILED$/.test((err as { type?: string }).type ?? ""))
    return new LiveReadError(
      `streamforge:kafkaApi.sasl.username: expected the admin connection's principal to describe the catalogue's topics (Describe, DescribeConfigs) ` +
        `and the cluster's ACLs (Describe on the cluster, which Alter on it implies); found: ${found}`,
    );
  // Node's verification errors name the certificate (self-signed, unable to verify, ...).
  const untrusted = api.tls && api.caCertificate === undefined && /certificate/i.test(found);
  return new LiveReadError(
    `streamforge:kafkaApi.bootstrapServers: expected Kafka to answer at ${api.bootstrapServers.join(", ")} to read the catalogue's topics and ACLs before any change ` +
      `(a preview that cannot see them cannot tell what an edit deletes); found: ${found}. ` +
      (untrusted
        ? `If a CA the system does not trust signed the brokers' certificates (a private CA, Strimzi's cluster CA), set streamforge:kafkaApi.caCertificate to it (PEM). `
        : "") +
      `Where Kafka cannot answer, set streamforge:kafkaApi.unreachable to the reason to preview without judging topic changes`,
  );
}
