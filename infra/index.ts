// Entry point of the Pulumi program (Pulumi.yaml `main`). Its exports are the stack outputs.
import { readCluster } from "./kit/provider";
import { loadPlatformConfig } from "./config";
import * as pulumi from "@pulumi/pulumi";
import { stackIdentity } from "./kafka/data-safety";
import { readLiveKafka } from "./kafka/live";
import { createPlatform } from "./platform";
import { registerMoves } from "./kit/moves";
import { MOVES } from "./moves";

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
        stack: stackIdentity(pulumi.getProject(), pulumi.getStack()),
      })
    : undefined;
  return createPlatform(config, cluster, live ? { kafka: live } : {});
})();
