/** The rollouts area's descriptor: the Argo Rollouts controller and queue-manager's canary, and the outputs that name them. */
import { type AreaStack, defineAreaDescriptor } from "../infra/kit/area";
import type { OutputValues, ROLLOUT_OUTPUTS } from "../infra/kit/outputs-contract";
import type { ClusterAreaConfig } from "../infra/cluster/config";
import { clusterParts } from "../infra/cluster/area";
import { bootstrapAddresses, clusterNames } from "../infra/kafka/cluster-spec";
import type { KafkaAreaConfig } from "../infra/kafka/config";
import { kafkaParts } from "../infra/kafka/area";
import type { ObservabilityAreaConfig } from "../observability/config";
import { ArgoRolloutsController, QueueManagerCanary } from "./component";
import { controllerImage } from "./spec";
import { type RolloutsAreaConfig, rolloutsArea } from "./config";

/** What the rollouts area reads: its own settings, the cluster, the apps and monitoring namespaces, Kafka's addresses. */
export type RolloutsStackConfig = RolloutsAreaConfig &
  Pick<ClusterAreaConfig, "apps" | "monitoring" | "cluster"> &
  Pick<KafkaAreaConfig, "kafka"> &
  Pick<ObservabilityAreaConfig, "observability">;

export interface RolloutsParts {
  /** The controller, where the stack installs it. */
  readonly controller: ArgoRolloutsController | undefined;
  readonly canary: QueueManagerCanary;
}

export type RolloutOutputs = OutputValues<typeof ROLLOUT_OUTPUTS>;

function create(stack: AreaStack<RolloutsStackConfig>): RolloutsParts | undefined {
  const { config, providers, namespaces, cluster } = stack;
  const rollouts = config.rollouts?.enabled ? config.rollouts : undefined;
  if (!rollouts) return undefined;
  const { apps, kafka } = config;
  if (!config.cluster) throw new Error("streamforge:cluster is required (checked by infra/cluster/config.ts)");
  const { entities } = kafkaParts(stack);
  const { workloads } = clusterParts(stack);
  const controller = rollouts.controller.install
    ? new ArgoRolloutsController(
        "rollouts",
        // Render has no cluster: the CRDs are named with their pinned sums, not fetched.
        { rollouts, appsNamespace: apps.namespace, offline: cluster === undefined },
        { providers, dependsOn: namespaces.dependencies(rollouts.controller.namespace) },
      )
    : undefined;
  const canary = new QueueManagerCanary(
    "queue-manager",
    {
      rollouts,
      cluster: config.cluster,
      context: {
        namespace: apps.namespace,
        kafkaBootstrap: bootstrapAddresses(kafka).tls,
        controlTopic: "queue-control",
        eventsTopic: "queue-events",
        kafkaUserSecret: rollouts.queueManager.kafkaUser,
        clusterCaSecret: clusterNames(kafka.clusterName).clusterCaCertSecret,
        monitoringNamespace: config.monitoring.namespace,
        ...(config.observability.enabled ? { monitorSelectorLabels: config.observability.selectorLabels } : {}),
      },
    },
    { providers, dependsOn: [...namespaces.dependencies(apps.namespace), entities, workloads, ...(controller ? [controller] : [])] },
  );
  return { controller, canary };
}

/** Read from the canary as declared; empty where the stack has no canary. */
function outputs(parts: RolloutsParts | undefined): RolloutOutputs {
  if (!parts)
    return {
      rolloutName: "",
      rolloutNamespace: "",
      rolloutStableService: "",
      rolloutCanaryService: "",
      rolloutRouter: "",
      rolloutAnalysisTemplates: [],
    };
  const { declared } = parts.canary;
  return {
    rolloutName: declared.rolloutName,
    rolloutNamespace: declared.namespace,
    rolloutStableService: declared.stableService,
    rolloutCanaryService: declared.canaryService,
    rolloutRouter: declared.router,
    rolloutAnalysisTemplates: [...declared.analysisTemplates],
  };
}

export const rolloutsAreaDescriptor = defineAreaDescriptor({
  name: "rollouts",
  config: rolloutsArea,
  namespaces: ({ rollouts }: RolloutsStackConfig) =>
    rollouts?.enabled && rollouts.controller.install ? [{ name: rollouts.controller.namespace, podSecurity: "restricted" as const }] : [],
  images: ({ rollouts }: RolloutsStackConfig) => (rollouts?.enabled && rollouts.controller.install ? [controllerImage(rollouts)] : []),
  create,
  outputs,
});
