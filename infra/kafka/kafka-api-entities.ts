import * as kafka from "@pulumi/kafka";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { KafkaApiConfig, RetireConfig } from "./config";
import { keepOptions, retireModeOf } from "./data-safety";
import { ConfirmationGuard, retireGuardName } from "../kit/confirmation-guard";
import { type AclRule, type TopicPlan, type UserPlan, topicConfigStrings } from "./catalogue";
import { type CatalogueDeclared, catalogueDeclared } from "./declared";

/** The mechanism Strimzi's listeners accept, so kafka-api users work on either cluster. */
export const USER_SCRAM_MECHANISM = "SCRAM-SHA-512";

/** One ACL entry as the Kafka admin API stores it (and @pulumi/kafka's `Acl` takes it). */
export interface KafkaAclRow {
  readonly aclPrincipal: string;
  readonly aclHost: string;
  readonly aclResourceType: "Topic" | "Group";
  readonly aclResourceName: string;
  readonly resourcePatternTypeFilter: "Prefixed" | "Literal";
  readonly aclOperation: string;
  readonly aclPermissionType: "Allow";
}

/** One row per operation, as the Kafka admin API stores ACLs. */
export function kafkaAclRows(user: string, acl: AclRule): KafkaAclRow[] {
  return acl.operations.map((operation) => ({
    aclPrincipal: `User:${user}`,
    aclHost: "*",
    aclResourceType: acl.resourceType === "topic" ? "Topic" : "Group",
    aclResourceName: acl.name,
    resourcePatternTypeFilter: acl.patternType === "prefix" ? "Prefixed" : "Literal",
    aclOperation: operation,
    aclPermissionType: "Allow",
  }));
}

/** The client property Kafka clients read for SCRAM, in the same key Strimzi's user Secrets use. */
export function saslJaasConfig(username: string, password: string): string {
  const quote = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return `org.apache.kafka.common.security.scram.ScramLoginModule required username="${quote(username)}" password="${quote(password)}";`;
}

export interface KafkaApiEntitiesArgs {
  /** How @pulumi/kafka reaches the brokers' admin API (`streamforge:kafkaApi`), the admin's password a Pulumi secret. */
  readonly connection: KafkaApiConfig & { readonly password?: pulumi.Input<string> | undefined };
  /** The catalogue's topics, planned (infra/kafka/catalogue.ts `planTopics`). */
  readonly topics: readonly TopicPlan[];
  /** The catalogue's users with their ACLs, planned (`planUsers`); each gets a SCRAM credential and a Secret. */
  readonly users: readonly UserPlan[];
  /** Namespace where each user's credentials Secret is written. */
  readonly credentialsNamespace: string;
  /** What must exist before the Secrets are written (the namespace). */
  readonly credentialsDependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Confirmations that let a topic or user go; without one each is protected (data-safety.ts).
   * Nothing here reads the brokers before a preview: each topic and user has a confirmation guard
   * (infra/kit/confirmation-guard.ts), so its removal is refused naming its `streamforge:retire` key.
   */
  readonly retire: RetireConfig;
}

/** Topics, SCRAM users and ACLs managed through the Kafka admin API (@pulumi/kafka). */
export class KafkaApiEntities extends pulumi.ComponentResource {
  readonly provider: kafka.Provider;
  /** What the catalogue declared: each topic's and user's Kafka name, and the Secret holding each user's credentials. */
  readonly declared: CatalogueDeclared;

  constructor(name: string, args: KafkaApiEntitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:KafkaApiEntities", name, {}, opts);
    const { connection } = args;
    this.provider = new kafka.Provider(
      `${name}-admin`,
      {
        bootstrapServers: [...connection.bootstrapServers],
        // The provider defaults to TLS and its env var cannot turn it off: always say it.
        tlsEnabled: connection.tls,
        skipTlsVerify: connection.skipTlsVerify,
        ...(connection.caCertificate !== undefined ? { caCert: connection.caCertificate } : {}),
        ...(connection.sasl
          ? { saslMechanism: connection.sasl.mechanism, saslUsername: connection.sasl.username, saslPassword: connection.password }
          : {}),
      },
      { parent: this },
    );
    const child = { parent: this, provider: this.provider };

    for (const topic of args.topics) {
      const keep = keepOptions(retireModeOf(args.retire, "topics", topic.name));
      const created = new kafka.Topic(
        `${name}-topic-${topic.resourceName}`,
        {
          name: topic.name,
          partitions: topic.partitions,
          replicationFactor: topic.replicas,
          config: topicConfigStrings(topic.config),
        },
        { ...child, ...keep },
      );
      new ConfirmationGuard(retireGuardName(`topics.${topic.name}`), { guards: [created], refuse: keep.protect }, { parent: this });
    }

    for (const user of args.users) {
      const mode = retireModeOf(args.retire, "users", user.name);
      const keep = keepOptions(mode);
      // Released with "keep", its ACLs and Secret stay with its credential. Only then: a protected
      // user's ACL row that leaves the catalogue must be deleted, or access would outlive its review.
      const released = { retainOnDelete: mode === "keep" };
      const password = new random.RandomPassword(`${name}-password-${user.name}`, { length: 32, special: false }, { parent: this });
      const credential = new kafka.UserScramCredential(
        `${name}-scram-${user.name}`,
        { username: user.name, scramMechanism: USER_SCRAM_MECHANISM, password: password.result },
        { ...child, ...keep },
      );
      const acls = user.acls.flatMap((acl) =>
        kafkaAclRows(user.name, acl).map(
          (row) =>
            new kafka.Acl(
              `${name}-acl-${user.name}-${acl.resourceType}-${acl.patternType}-${acl.name}-${row.aclOperation.toLowerCase()}`,
              row,
              { ...child, ...released },
            ),
        ),
      );
      // Same name and keys as the Secret Strimzi's User Operator writes, so consumers need not care who owns the user.
      const secret = new k8s.core.v1.Secret(
        `${name}-credentials-${user.name}`,
        {
          metadata: {
            name: user.name,
            namespace: args.credentialsNamespace,
            labels: { "app.kubernetes.io/part-of": "streamforge", "streamforge.io/service": user.service },
          },
          type: "Opaque",
          stringData: {
            password: password.result,
            "sasl.jaas.config": pulumi.secret(password.result.apply((p) => saslJaasConfig(user.name, p))),
          },
        },
        { parent: this, dependsOn: args.credentialsDependsOn, retainOnDelete: keep.retainOnDelete },
      );
      // Before any of the user's objects: its credential, its ACLs, its Secret and the password in them.
      new ConfirmationGuard(
        retireGuardName(`users.${user.name}`),
        { guards: [credential, ...acls, secret, password], refuse: keep.protect },
        { parent: this },
      );
    }
    this.declared = catalogueDeclared(args.topics, args.users, args.credentialsNamespace);
    this.registerOutputs({ provider: this.provider, declared: this.declared });
  }
}
