/**
 * What every namespace the platform owns lets in and out: default-deny both ways, DNS to the
 * cluster DNS, then one allowance per workload and reason, each named for why. What a workload
 * needs is read from its upstream source at the pinned version (cited beside each). The
 * self-healing operator's policy is its own (infra/self-healing/manifests.ts); Kafka's listeners
 * are let in by the policy Strimzi generates from `networkPolicyPeers` (infra/kafka/cluster-spec.ts),
 * which is ingress-only and adds to these. Pure.
 */
import { CA_SYNC } from "../kafka/ca-sync-spec";
import type { ClusterAreaConfig } from "./config";
import type { KafkaAreaConfig } from "../kafka/config";
import type { RolloutsAreaConfig } from "../../rollouts/config";
import type { ChaosAreaConfig } from "../../chaos/config";
import type { ObservabilityAreaConfig } from "../../observability/config";
import { type SelfHealingAreaConfig, relaunchGuardNamespace } from "../self-healing/config";
import { LISTENER_PORTS } from "../kafka/cluster-spec";
import { QUEUE_MANAGER_POD_LABELS } from "../../rollouts/spec";
import { ARGO_ROLLOUTS_CONTROLLER_POD_LABELS } from "../../observability/spec";
import {
  type ApiServerAddress,
  type EgressAllowance,
  type EgressPeer,
  type EgressRule,
  type IngressAllowance,
  type LabelSelector,
  apiServerEgressRule,
  dnsEgressRule,
  httpEndpointEgressRule,
  podsIn,
  tcp,
} from "../kit/network-spec";

/**
 * Strimzi 1.2.0's fixed ports (strimzi/strimzi-kafka-operator@1.2.0
 * cluster-operator/src/main/java/io/strimzi/operator/cluster/model/KafkaCluster.java:161-168).
 */
const STRIMZI = { controlPlane: 9090, replication: 9091, kafkaAgent: 8443 } as const;
/** Pod labels of the Strimzi chart's cluster operator (packaging/helm-charts/helm3/strimzi-kafka-operator/templates/060-Deployment-strimzi-cluster-operator.yaml:36). */
const STRIMZI_CLUSTER_OPERATOR = { name: "strimzi-cluster-operator" } as const;
/** The experiment Job pods: the chaos-runner gives them the ChaosExperiment's labels (chaos/spec.ts chaosExperiment). */
const CHAOS_EXPERIMENT = { "app.kubernetes.io/component": "experiment-job" } as const;
/** Argo Rollouts chart 2.41.0's metrics port (argoproj/argo-helm charts/argo-rollouts/values.yaml:167). */
const ARGO_ROLLOUTS_METRICS_PORT = 8090;
/**
 * The worker Jobs' pods: the Job controller labels every pod it creates with its Job's name
 * (`batch.kubernetes.io/job-name`, Kubernetes 1.27+); queue-manager's and the operator's Jobs set
 * no labels of their own.
 */
export const workerJobPods = (): LabelSelector => ({ matchExpressions: [{ key: "batch.kubernetes.io/job-name", operator: "Exists" }] });

/** The Kafka pods of every node pool: the selector of Strimzi's own generated policy (KafkaCluster.java generateNetworkPolicy). */
export const kafkaPodLabels = (cluster: string) => ({
  "strimzi.io/cluster": cluster,
  "strimzi.io/name": `${cluster}-kafka`,
  "strimzi.io/kind": "Kafka",
});

/** The settings the plan reads: those of every area whose workloads it lets in or out. */
export type NetworkPlanConfig = ClusterAreaConfig &
  KafkaAreaConfig &
  RolloutsAreaConfig &
  ChaosAreaConfig &
  ObservabilityAreaConfig &
  Pick<SelfHealingAreaConfig, "operator">;

export interface NetworkPlanContext {
  /** The namespaces of Kafka's clients: the apps and the operator's watched Jobs. */
  readonly clientNamespaces: readonly string[];
  /** The Kafka CA syncer runs in the Kafka namespace (infra/kafka/ca-sync-spec.ts). */
  readonly caSync: boolean;
}

export interface NetworkPlan {
  /** Where every workload reaches the API server. */
  readonly apiServer: ApiServerAddress;
  /** Namespaces denied both ways by default. */
  readonly denyIn: readonly string[];
  /** Those of them whose pods may resolve names at the cluster DNS: all but the relaunch guard's, which needs none. */
  readonly dnsIn: readonly string[];
  readonly ingress: readonly IngressAllowance[];
  readonly egress: readonly EgressAllowance[];
}

/** The namespaces the platform owns (the ones infra/platform.ts creates) and what each workload in them may reach. */
export function networkPlan(config: NetworkPlanConfig, ctx: NetworkPlanContext): NetworkPlan {
  const { kafka, strimzi, apps, network } = config;
  if (!network) throw new Error("streamforge:network is required (checked by infra/cluster/config.ts)");
  const api: ApiServerAddress = { cidr: network.apiServerCidr, ports: network.apiServerPorts };
  const toApi = apiServerEgressRule(api);
  const kafkaNs = kafka.namespace;
  const kafkaPods = podsIn(kafkaNs, kafkaPodLabels(kafka.clusterName));
  const rollouts = config.rollouts?.enabled ? config.rollouts : undefined;
  const chaos = config.chaos?.enabled ? config.chaos : undefined;
  const operator = config.operator?.enabled ? config.operator : undefined;
  const egress: EgressAllowance[] = [];
  const ingress: IngressAllowance[] = [];
  const add = (namespace: string, name: string, pods: EgressAllowance["pods"], ...rules: EgressRule[]) =>
    egress.push({ name, namespace, pods, rules });

  // --- kafka: brokers and controllers, the entity operator, Kafka Exporter -------------------
  // KRaft quorum on 9090 (KafkaBrokerConfigurationBuilder.java:206, controller.quorum.voters)
  // and replication between brokers on 9091 (KafkaBrokerConfigurationBuilder.java:59).
  add(
    kafkaNs,
    "kafka-nodes-to-quorum-and-replication",
    { matchLabels: kafkaPodLabels(kafka.clusterName) },
    {
      to: [kafkaPods],
      ports: tcp([STRIMZI.controlPlane, STRIMZI.replication]),
    },
  );
  // The init container that reads the node's rack label or node-port address runs only then
  // (KafkaCluster.java:1587-1589 createInitContainer), and reads the node from the API server.
  if (kafka.rackTopologyKey !== undefined || kafka.listeners.external?.type === "nodeport")
    add(kafkaNs, "kafka-init-to-api-server", { matchLabels: kafkaPodLabels(kafka.clusterName) }, toApi);
  // Topic and User Operators: watch their CRs through the API server and administer Kafka on the
  // replication port (EntityTopicOperator.java:116, EntityUserOperator.java:102).
  add(
    kafkaNs,
    "entity-operator-to-api-server-and-kafka",
    { matchLabels: { "strimzi.io/name": `${kafka.clusterName}-entity-operator` } },
    toApi,
    { to: [kafkaPods], ports: tcp([STRIMZI.replication]) },
  );
  // Kafka Exporter reads offsets on the replication port (KafkaExporter.java:242).
  if (kafka.metrics.kafkaExporter)
    add(
      kafkaNs,
      "kafka-exporter-to-kafka",
      { matchLabels: { "strimzi.io/name": `${kafka.clusterName}-kafka-exporter` } },
      {
        to: [kafkaPods],
        ports: tcp([STRIMZI.replication]),
      },
    );
  if (kafka.metrics.jmxPrometheusExporter || kafka.metrics.kafkaExporter)
    ingress.push({
      name: "metrics-from-monitoring",
      namespace: kafkaNs,
      podLabels: { "strimzi.io/cluster": kafka.clusterName },
      ports: [9404],
      fromNamespaces: [config.monitoring.namespace],
    });

  // --- strimzi: the cluster operator --------------------------------------------------------
  // The API server, and the Kafka pods: the controllers' quorum on 9090 (KafkaRoller.java:874),
  // the Admin API on the replication port (KafkaReconciler.java:1013) and the KafkaAgent's
  // broker state on 8443 (KafkaAgentClient.java:38). The same ports Strimzi's generated policy
  // lets the operator in on (KafkaCluster.java:1765-1773).
  if (strimzi.install)
    add(strimzi.namespace, "cluster-operator-to-api-server-and-kafka", { matchLabels: STRIMZI_CLUSTER_OPERATOR }, toApi, {
      to: [kafkaPods],
      ports: tcp([STRIMZI.controlPlane, STRIMZI.replication, STRIMZI.kafkaAgent]),
    });

  // --- apps: worker Jobs and queue-manager --------------------------------------------------
  const kafkaTls: EgressRule = { to: [kafkaPods], ports: tcp([LISTENER_PORTS.tls]) };
  for (const ns of ctx.clientNamespaces) {
    add(ns, "workers-to-kafka", workerJobPods(), kafkaTls);
    for (const allow of apps.workerEgress)
      add(ns, `workers-to-${allow.name}`, workerJobPods(), {
        to: allow.to.map((peer): EgressPeer =>
          "cidr" in peer ? { ipBlock: { cidr: peer.cidr } } : podsIn(peer.namespace, peer.podLabels ?? {}),
        ),
        ports: tcp(allow.ports),
      });
  }
  ingress.push(...apps.allowIngress.map((allow) => ({ ...allow, namespace: apps.namespace })));
  // queue-manager creates and follows the worker Jobs (its Role, rollouts/spec.ts) and reads and
  // writes its topics over TLS.
  if (rollouts) add(apps.namespace, "queue-manager-to-api-server-and-kafka", { matchLabels: QUEUE_MANAGER_POD_LABELS }, toApi, kafkaTls);

  // The CA syncer reads Strimzi's CA Secret and writes the apps namespace's copy: the API server only.
  if (ctx.caSync) add(kafkaNs, "ca-sync-to-api-server", { matchLabels: { "app.kubernetes.io/name": CA_SYNC } }, toApi);

  // --- argo-rollouts: the controller --------------------------------------------------------
  // It reconciles through the API server and runs the AnalysisRuns' Prometheus queries itself
  // (argoproj/argo-rollouts metricproviders/prometheus/prometheus.go NewPrometheusAPI, in the
  // controller process).
  if (rollouts?.controller.install) {
    const ns = rollouts.controller.namespace;
    add(
      ns,
      "controller-to-api-server-and-prometheus",
      { matchLabels: ARGO_ROLLOUTS_CONTROLLER_POD_LABELS },
      toApi,
      endpoint(rollouts.analysis.prometheusAddress, ns),
    );
    // The Gateway API plugin, downloaded at each start from an https location (argo-rollouts
    // v1.10.2 utils/plugin/downloader.go): only to the hosts the config names, on 443.
    if (rollouts.router.type === "gateway-api" && rollouts.router.plugin.downloadFrom)
      add(
        ns,
        "controller-to-plugin-download",
        { matchLabels: ARGO_ROLLOUTS_CONTROLLER_POD_LABELS },
        {
          to: rollouts.router.plugin.downloadFrom.map((cidr) => ({ ipBlock: { cidr } })),
          ports: tcp([443]),
        },
      );
    if (config.observability.enabled)
      ingress.push({
        name: "metrics-from-monitoring",
        namespace: ns,
        podLabels: ARGO_ROLLOUTS_CONTROLLER_POD_LABELS,
        ports: [ARGO_ROLLOUTS_METRICS_PORT],
        fromNamespaces: [config.monitoring.namespace],
      });
  }

  // --- chaos and litmus -----------------------------------------------------------------------
  if (chaos) {
    // Every pod there acts through the API server: the chaos-runner starts the experiment Job,
    // the experiment finds and deletes its targets, the latency helper reads its target and
    // enters its network namespace (no traffic of its own), the scheduler patches engines.
    add(chaos.namespace, "chaos-pods-to-api-server", {}, toApi);
    // promProbes run the `promql` CLI inside the experiment pod (litmuschaos/litmus-go@3.28.0
    // pkg/probe/promProbe.go:174 triggerPromProbe).
    add(
      chaos.namespace,
      "experiments-to-prometheus",
      { matchLabels: CHAOS_EXPERIMENT },
      endpoint(chaos.prometheusAddress, chaos.namespace),
    );
    // Litmus' operator runs here too, namespaced (chaos/litmus-operator.ts), and only talks to the
    // API server: analytics are off (ANALYTICS=FALSE, chaos-operator main.go L82). The rule above
    // covers it.
  }

  const denyIn = [
    kafkaNs,
    ...(strimzi.install ? [strimzi.namespace] : []),
    ...ctx.clientNamespaces,
    ...(chaos ? [chaos.namespace] : []),
    ...(rollouts?.controller.install ? [rollouts.controller.namespace] : []),
  ];
  // The relaunch guard's own: its pods' NetworkPolicy is beside them (infra/self-healing/relaunch-guard-spec.ts),
  // and they reach the API server by address, so no DNS.
  const guardNs = operator ? [relaunchGuardNamespace(operator, apps.namespace)] : [];
  const sorted = (names: readonly string[]) => [...new Set(names)].sort();
  return { apiServer: api, denyIn: sorted([...denyIn, ...guardNs]), dnsIn: sorted(denyIn), ingress, egress };
}

/** The egress rule to an http(s) address the config rules accepted (infra/config.ts endpointProblems). */
function endpoint(url: string, ownNamespace: string): EgressRule {
  const rule = httpEndpointEgressRule(url, ownNamespace);
  if (!rule) throw new Error(`${url}: not a Service or IPv4 address (checked by infra/config.ts)`);
  return rule;
}

/** The DNS allowance of a namespace: every pod resolves names, at the cluster DNS only. */
export function dnsAllowance(namespace: string): EgressAllowance {
  return { name: "dns-to-cluster-dns", namespace, pods: {}, rules: [dnsEgressRule()] };
}
