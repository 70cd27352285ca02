/**
 * The cluster area's descriptor: the apps namespaces, the network baseline of every namespace the
 * platform owns, the apps workload guard, and the outputs that say where the stack deployed.
 */
import { type AreaStack, defineAreaDescriptor, partsOf } from "../kit/area";
import { serviceAccountUser } from "../kit/admission-spec";
import type { OutputValues, PLATFORM_OUTPUTS } from "../kit/outputs-contract";
import { FROM_KUBECONFIG_PLACEHOLDER } from "../kit/provider";
import { planUsers } from "../kafka/catalogue";
import { caCopy, caSynced, clientNamespaces } from "../kafka/clients";
import { type SelfHealingAreaConfig, registryLogin, relaunchGuardNamespace } from "../self-healing/config";
import { OPERATOR_NAME, PULL_SECRET_NAME } from "../self-healing/manifests";
import { relaunchGuardAccount } from "../self-healing/relaunch-guard-spec";
import { ROLLOUTS_RELEASE } from "../../rollouts/component";
import { QUEUE_MANAGER } from "../../rollouts/spec";
import { clusterArea } from "./config";
import { NetworkBaseline } from "./network";
import { type NetworkPlanConfig, networkPlan } from "./network-plan";
import { AppsWorkloadGuard } from "./workload-guard";
import { workloadAccounts } from "./workload-guard-spec";

/** What the cluster area reads: the plan spans every area whose workloads it lets in or out. */
export type ClusterStackConfig = NetworkPlanConfig & SelfHealingAreaConfig;

export interface ClusterParts {
  readonly network: NetworkBaseline;
  /** In place before any workload: who may use which credentials, run as which account, where. */
  readonly workloads: AppsWorkloadGuard;
}

export const clusterParts = partsOf<ClusterParts>("cluster");

/** Where the stack deployed. */
type ClusterOutputs = Pick<OutputValues<typeof PLATFORM_OUTPUTS>, "environment" | "kubernetesContext" | "kubernetesApiServer">;

function create({ config, providers, namespaces }: AreaStack<ClusterStackConfig>): ClusterParts {
  const { apps } = config;
  const operator = config.operator?.enabled ? config.operator : undefined;
  const clients = clientNamespaces(config);
  const plan = networkPlan(config, { clientNamespaces: clients, caSync: caSynced(config) });
  const network = new NetworkBaseline(
    "network",
    { denyIn: plan.denyIn, dnsIn: plan.dnsIn, ingress: plan.ingress, egress: plan.egress },
    { providers, dependsOn: namespaces.dependencies(...plan.denyIn) },
  );
  const login = operator ? registryLogin(operator.image) : undefined;
  const workloads = new AppsWorkloadGuard(
    "apps-guard",
    {
      namePrefix: `streamforge-${apps.namespace}`,
      appsNamespace: apps.namespace,
      namespaces: clients,
      defaultRunAsUser: apps.defaultRunAsUser,
      priorityClasses: apps.priorityClasses,
      runtimeClasses: apps.runtimeClasses,
      csiDrivers: apps.csiDrivers,
      volumeClaims: apps.volumeClaims,
      kafkaCa: caCopy(config),
      // The config rules require the deployers in every stack.
      deployers: apps.deployers!,
      responders: apps.responders,
      platformNamespaces: operator ? [relaunchGuardNamespace(operator, apps.namespace)] : [],
      ...(config.rollouts?.enabled
        ? { rolloutsController: serviceAccountUser(config.rollouts.controller.namespace, ROLLOUTS_RELEASE) }
        : {}),
      ...workloadAccounts({
        users: planUsers(config.catalogue),
        operator: operator && {
          serviceAccount: OPERATOR_NAME,
          kafkaUser: operator.kafkaUser,
          pullSecrets: login ? [PULL_SECRET_NAME] : [],
          relaunchGuard: relaunchGuardAccount(login !== undefined),
        },
        queueManager: { serviceAccount: QUEUE_MANAGER, kafkaUser: config.rollouts?.queueManager.kafkaUser ?? QUEUE_MANAGER },
      }),
    },
    { providers, dependsOn: namespaces.dependencies(...clients) },
  );
  return { network, workloads };
}

export const clusterAreaDescriptor = defineAreaDescriptor({
  name: "cluster",
  config: clusterArea,
  // queue-manager's Jobs set no securityContext: the apps guard's defaults fill in what restricted
  // asks for (pod-defaults-spec.ts), so restricted holds in every namespace of Kafka's clients.
  namespaces: (config: ClusterStackConfig) => clientNamespaces(config).map((name) => ({ name, podSecurity: "restricted" as const })),
  create,
  outputs: (_parts, { config, cluster }): ClusterOutputs => ({
    environment: config.environment,
    kubernetesContext: cluster?.context ?? config.cluster?.context ?? FROM_KUBECONFIG_PLACEHOLDER,
    kubernetesApiServer: cluster?.server ?? FROM_KUBECONFIG_PLACEHOLDER,
  }),
});
