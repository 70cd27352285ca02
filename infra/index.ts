// Entry point of the Pulumi program (Pulumi.yaml `main`). Its exports are the stack outputs.
import { readCluster } from "./kit/provider";
import { loadPlatformConfig } from "./config";
import * as pulumi from "@pulumi/pulumi";
import { thisStackIdentity } from "./kafka/data-safety";
import { liveTopicOf, readKafkaCatalogue } from "./kafka/kafka-api-live";
import { readLiveKafka } from "./kafka/live";
import { createPlatform } from "./platform";
import { registerMoves } from "./kit/moves";
import { MOVES } from "./moves";

/** A config secret's text, for a connection made before anything is declared (config values are known, also in a preview). */
const plainValue = (secret: pulumi.Output<string> | undefined): Promise<string | undefined> =>
  secret ? new Promise((resolve) => secret.apply(resolve)) : Promise.resolve(undefined);

export = (async () => {
  // Before any resource: a moved or renamed resource keeps its object (infra/moves.ts).
  registerMoves(MOVES);
  const config = loadPlatformConfig();
  // Before anything is declared: the kubeconfig must exist and hold the stack's context.
  const cluster = config.cluster ? readCluster(config.cluster) : undefined;
  // What the cluster holds of this stack's Kafka, which no edit may lose unconfirmed (kafka/data-safety.ts).
  // With owner kafka-api the topics and users live in Kafka, not the API server: the cluster and its pools are read.
  const live = cluster
    ? await readLiveKafka(cluster, {
        clusterName: config.kafka.clusterName,
        kafkaNamespace: config.kafka.namespace,
        usersNamespace: config.apps.namespace,
        catalogue: config.catalogue.owner === "strimzi",
        stack: thisStackIdentity(),
      })
    : undefined;
  // Owner kafka-api: the catalogue's topics and ACLs live in Kafka; once the cluster runs, read them there.
  const api = live?.cluster && config.catalogue.owner === "kafka-api" ? config.kafkaApi : undefined;
  if (api?.unreachable !== undefined)
    void pulumi.log.warn(
      `streamforge:kafkaApi.unreachable is set ("${api.unreachable}"): the catalogue's topics and ACLs are not read from Kafka, so no topic change is judged (fewer partitions, a shorter retention) and no lost grant labelled. Remove it once Kafka answers`,
    );
  const inKafka =
    api && api.unreachable === undefined
      ? await readKafkaCatalogue(api, await plainValue(config.kafkaApiPassword), {
          topics: Object.keys(config.catalogue.topics),
          users: Object.keys(config.catalogue.users),
        })
      : undefined;
  const kafka = live && inKafka ? { ...live, topicsInKafka: inKafka.topics.map(liveTopicOf), aclsInKafka: inKafka.acls } : live;
  return createPlatform(config, cluster, kafka ? { kafka } : {});
})();
