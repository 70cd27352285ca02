import type { QueueManagerContext } from "../spec";

/** What queue-manager needs from the platform, for a namespace of a test's own on the local platform. */
export function localContext(namespace: string): QueueManagerContext {
  return {
    namespace,
    kafkaBootstrap: "127.0.0.1:19092",
    controlTopic: "queue-control",
    eventsTopic: "queue-events",
    kafkaUserSecret: "queue-manager",
    clusterCaSecret: "cluster-ca",
    monitoringNamespace: "monitoring",
  };
}
