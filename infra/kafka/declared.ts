/** What a catalogue owner (StrimziEntities or KafkaApiEntities) declared, as the stack outputs read it. */
import type { TopicPlan, UserPlan } from "./catalogue";

export interface CatalogueDeclared {
  /** Each topic's name in Kafka, in the catalogue's order. */
  readonly topicNames: readonly string[];
  /** Each user's name in Kafka (its SCRAM principal), in the catalogue's order. */
  readonly userNames: readonly string[];
  /** User name -> the Secret holding its credentials (keys `password`, `sasl.jaas.config`). */
  readonly userSecrets: Readonly<Record<string, string>>;
  /** Namespace of those Secrets. */
  readonly userSecretNamespace: string;
}

/** Both owners name a user's Secret after the user, in the users' namespace (Strimzi's User Operator does, and the kafka-api path writes the same). */
export function catalogueDeclared(topics: readonly TopicPlan[], users: readonly UserPlan[], usersNamespace: string): CatalogueDeclared {
  return {
    topicNames: topics.map((t) => t.name),
    userNames: users.map((u) => u.name),
    userSecrets: Object.fromEntries(users.map((u) => [u.name, u.name])),
    userSecretNamespace: usersNamespace,
  };
}
