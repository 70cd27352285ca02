/**
 * The self-healing area's descriptor: the operator's Deployment, its guard and RBAC, and the Kafka
 * CA syncer that runs from its image.
 */
import { type AreaStack, type Unresolved, defineAreaDescriptor, partsOf } from "../kit/area";
import type { OutputValues, SELF_HEALING_OUTPUTS } from "../kit/outputs-contract";
import { type ClusterAreaConfig } from "../cluster/config";
import { clusterParts } from "../cluster/area";
import { KafkaCaSync } from "../kafka/ca-sync";
import { LISTENER_PORTS, bootstrapAddresses, clusterNames } from "../kafka/cluster-spec";
import { caSynced } from "../kafka/clients";
import type { KafkaAreaConfig } from "../kafka/config";
import { kafkaParts } from "../kafka/area";
import { SelfHealingOperator } from "./component";
import { type SelfHealingAreaConfig, registryLogin, relaunchGuardNamespace, selfHealingArea } from "./config";

/** What the self-healing area reads: its own settings, the apps and monitoring namespaces, the API server, Kafka's. */
export type SelfHealingStackConfig = SelfHealingAreaConfig &
  Pick<ClusterAreaConfig, "apps" | "monitoring" | "network"> &
  Pick<KafkaAreaConfig, "kafka" | "strimzi" | "catalogue">;

export interface SelfHealingParts {
  /** The operator, where the stack runs it. */
  readonly operator: SelfHealingOperator | undefined;
  /** The Kafka CA syncer, where it keeps the CA copy beside the users current. */
  readonly caSync: KafkaCaSync | undefined;
}

export const selfHealingParts = partsOf<SelfHealingParts>("selfHealing");

function create(stack: AreaStack<SelfHealingStackConfig>): SelfHealingParts {
  const { config, providers, namespaces } = stack;
  const operator = config.operator?.enabled ? config.operator : undefined;
  if (!operator) return { operator: undefined, caSync: undefined };
  const { kafka, apps } = config;
  if (!config.network) throw new Error("streamforge:network is required (checked by infra/cluster/config.ts)");
  const { cluster: kafkaCluster, entities } = kafkaParts(stack);
  const { workloads } = clusterParts(stack);
  const watchNamespace = operator.watchNamespace ?? apps.namespace;
  const login = registryLogin(operator.image);
  // The config rules guarantee the password wherever there is a login.
  const registry = login && config.operatorRegistryPassword ? { login: { ...login, password: config.operatorRegistryPassword } } : {};
  // The operator runs beside its Kafka credentials Secret: Secrets cannot be mounted across namespaces.
  const tls = config.catalogue.owner !== "kafka-api";
  const caSecret = clusterNames(kafka.clusterName).clusterCaCertSecret;
  const selfHealing = new SelfHealingOperator(
    "self-healing",
    {
      spec: {
        namespace: apps.namespace,
        watchNamespace,
        replicas: operator.replicas,
        dryRun: operator.dryRun,
        policy: Object.keys(operator.policy).length > 0 ? JSON.stringify(operator.policy) : "",
        monitoringNamespace: config.monitoring.namespace,
        kafka: {
          bootstrapServers: bootstrapAddresses(kafka).tls,
          topic: "queue-events",
          groupId: operator.groupId,
          tls,
          ...(tls ? { caSecret } : {}),
          username: operator.kafkaUser,
          userSecret: operator.kafkaUser,
          namespace: kafka.namespace,
          clusterName: kafka.clusterName,
          port: LISTENER_PORTS.tls,
        },
        apiServer: { cidr: config.network.apiServerCidr, ports: config.network.apiServerPorts },
      },
      image: "ref" in operator.image ? { ref: operator.image.ref } : operator.image,
      guard: operator.guard,
      relaunchGuardNamespace: relaunchGuardNamespace(operator, apps.namespace),
      apiServerTunnel: config.network.apiServerTunnel,
      // The config rules require the deployers in every stack.
      deployers: apps.deployers!,
      ...(operator.relaunchGuard.url ? { relaunchGuardUrl: operator.relaunchGuard.url } : {}),
      ...registry,
    },
    {
      providers,
      dependsOn: [
        ...namespaces.dependencies(apps.namespace, watchNamespace, relaunchGuardNamespace(operator, apps.namespace)),
        kafkaCluster,
        entities,
        workloads,
      ],
    },
  );
  const caSync = caSynced(config)
    ? new KafkaCaSync(
        "kafka-ca-sync",
        {
          source: { namespace: kafka.namespace, name: caSecret },
          target: { namespace: apps.namespace, name: caSecret },
          image: selfHealing.image,
          ...registry,
        },
        { providers, dependsOn: [kafkaCluster] },
      )
    : undefined;
  return { operator: selfHealing, caSync };
}

export const selfHealingAreaDescriptor = defineAreaDescriptor({
  name: "selfHealing",
  config: selfHealingArea,
  // The namespace of the Jobs the operator watches is one of Kafka's clients': the cluster area asks for it.
  // The relaunch guard's own runs its restricted pods only (infra/self-healing/relaunch-guard-spec.ts).
  namespaces: (config: SelfHealingStackConfig) =>
    config.operator?.enabled
      ? [{ name: relaunchGuardNamespace(config.operator, config.apps.namespace), podSecurity: "restricted" as const }]
      : [],
  create,
  outputs: ({ operator }: SelfHealingParts): Unresolved<OutputValues<typeof SELF_HEALING_OUTPUTS>> => ({
    operatorImage: operator ? operator.image : "",
  }),
});
