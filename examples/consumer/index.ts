/**
 * A team's program on top of the StreamForge platform: it reads the platform's stack outputs
 * with a StackReference and writes what its app needs to reach Kafka into a ConfigMap beside the
 * app's credentials Secret (the platform's apps namespace).
 */
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { topicOutputKey, userOutputKey, userSecretOutputKey } from "../../infra/kit/outputs-contract";
import { readPlatformOutputs } from "./platform-outputs";

const config = new pulumi.Config();
const platformStack = config.require("platformStack");
const user = config.require("user");
const topic = config.require("topic");
const app = config.get("app") || "demo-consumer";
const kubeconfig = config.get("kubeconfig") || undefined;
const context = config.get("context") || undefined;

export = async () => {
  const platform = new pulumi.StackReference("platform", { name: platformStack });
  const out = await readPlatformOutputs(platform, platformStack, {
    kubernetesContext: "kubernetesContext",
    bootstrapServers: "kafkaBootstrapTls",
    saslMechanism: "kafkaSaslMechanism",
    clusterCaSecret: "kafkaClusterCaSecret",
    credentialsNamespace: "kafkaUserSecretNamespace",
    topic: topicOutputKey(topic),
    kafkaUser: userOutputKey(user),
    credentialsSecret: userSecretOutputKey(user),
  });

  // The cluster the platform deployed to, by its context name unless this stack names another.
  const provider = new k8s.Provider(`${app}-cluster`, {
    context: context ?? out.kubernetesContext,
    ...(kubeconfig ? { kubeconfig: path.resolve(kubeconfig) } : {}),
  });
  const configMap = new k8s.core.v1.ConfigMap(
    `${app}-kafka`,
    {
      metadata: {
        name: `${app}-kafka`,
        namespace: out.credentialsNamespace,
        labels: { "app.kubernetes.io/name": app, "app.kubernetes.io/managed-by": "pulumi" },
      },
      data: {
        KAFKA_BOOTSTRAP_SERVERS: out.bootstrapServers,
        KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
        KAFKA_SASL_MECHANISM: out.saslMechanism,
        KAFKA_CA_SECRET: out.clusterCaSecret,
        KAFKA_USER: out.kafkaUser,
        KAFKA_USER_SECRET: out.credentialsSecret,
        KAFKA_TOPIC: out.topic,
      },
    },
    { provider },
  );

  return { platformStack, ...out, configMapName: configMap.metadata.name, configMapNamespace: configMap.metadata.namespace };
};
