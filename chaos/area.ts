/** The chaos area's descriptor: LitmusChaos in its privileged namespace, and the outputs that say how to run it. */
import { type AreaStack, defineAreaDescriptor } from "../infra/kit/area";
import type { CHAOS_OUTPUTS, OutputValues } from "../infra/kit/outputs-contract";
import type { ClusterAreaConfig } from "../infra/cluster/config";
import type { KafkaAreaConfig } from "../infra/kafka/config";
import { kafkaParts } from "../infra/kafka/area";
import { ChaosExperiments } from "./component";
import { type ChaosAreaConfig, chaosArea, chaosImages } from "./config";
import { kafkaHosts } from "./spec";

/** What the chaos area reads: its own settings, the apps namespace, Kafka's cluster. */
export type ChaosStackConfig = ChaosAreaConfig & Pick<ClusterAreaConfig, "apps"> & Pick<KafkaAreaConfig, "kafka">;

export type ChaosOutputs = OutputValues<typeof CHAOS_OUTPUTS>;

function create(stack: AreaStack<ChaosStackConfig>): ChaosExperiments | undefined {
  const { config, providers, namespaces, cluster } = stack;
  const chaos = config.chaos?.enabled ? config.chaos : undefined;
  if (!chaos) return undefined;
  const { kafka, apps } = config;
  return new ChaosExperiments(
    "chaos",
    {
      chaos,
      context: {
        chaosNamespace: chaos.namespace,
        kafkaNamespace: kafka.namespace,
        clusterName: kafka.clusterName,
        prometheusAddress: chaos.prometheusAddress,
        appsNamespace: apps.namespace,
        kafkaHosts: kafkaHosts(kafka),
        kafkaNodePools: kafka.nodePools,
      },
      // Render has no cluster: Litmus' CRDs are named with their pinned sums, not fetched.
      offline: cluster === undefined,
    },
    { providers, dependsOn: [...namespaces.dependencies(chaos.namespace, apps.namespace), kafkaParts(stack).cluster] },
  );
}

/** Read from the experiments as declared; empty where the stack runs no chaos. */
function outputs(experiments: ChaosExperiments | undefined): ChaosOutputs {
  if (!experiments) return { chaosNamespace: "", chaosEngines: [], chaosStartCommand: "", chaosStopCommand: "", chaosSchedule: "" };
  const patch = (state: string) =>
    `kubectl patch chaosengine <engine> -n ${experiments.namespace} --type merge -p '{"spec":{"engineState":"${state}"}}'`;
  return {
    chaosNamespace: experiments.namespace,
    chaosEngines: [...experiments.engines],
    chaosStartCommand: patch("active"),
    chaosStopCommand: patch("stop"),
    chaosSchedule: experiments.schedule,
  };
}

export const chaosAreaDescriptor = defineAreaDescriptor({
  name: "chaos",
  config: chaosArea,
  // The network-latency helper is privileged (HostPID, NET_ADMIN): only the chaos namespace allows it.
  // Litmus' operator runs there too, watching only that namespace (chaos/README.md).
  namespaces: ({ chaos }: ChaosStackConfig) => (chaos?.enabled ? [{ name: chaos.namespace, podSecurity: "privileged" as const }] : []),
  images: ({ chaos }: ChaosStackConfig) => (chaos?.enabled ? chaosImages(chaos) : []),
  create,
  outputs,
});
