import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StrimziConfig } from "./config";

export interface StrimziOperatorArgs {
  /** The chart's version, namespace and settings (`streamforge:strimzi`). */
  readonly strimzi: StrimziConfig;
  /** Namespaces holding Strimzi resources: the Kafka cluster's and the users' (the entity operator needs RBAC there). */
  readonly watchNamespaces: readonly string[];
}

/**
 * Strimzi's operands under the restricted Pod Security standard. Strimzi 1.2.0 defaults to its
 * Baseline provider, which gives the operands' containers no securityContext
 * (cluster-operator/src/main/java/io/strimzi/operator/cluster/ClusterOperatorConfig.java L216;
 * api/src/main/java/io/strimzi/plugin/security/profiles/PodSecurityProvider.java L457-471), so a
 * `restricted` namespace refuses the brokers. `restricted` (ClusterOperatorConfig.java L233, L238)
 * selects RestrictedPodSecurityProvider, which gives every operand container
 * allowPrivilegeEscalation false, runAsNonRoot, RuntimeDefault seccomp and drop ALL
 * (RestrictedPodSecurityProvider.java L24-41); the images run as USER 1001
 * (docker-images/kafka-based/kafka/Dockerfile L156). The chart has no value for it: `extraEnvs`
 * (helm-charts/helm3/strimzi-kafka-operator/values.yaml L31-36) reaches the operator's env
 * (templates/060-Deployment-strimzi-cluster-operator.yaml L187-189). The operator's own pod passes
 * restricted with the chart's defaults (values.yaml L51-62). All at tag 1.2.0.
 */
export const STRIMZI_RESTRICTED_OPERANDS = { name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" } as const;

/** Helm values of the cluster operator: watch only what the platform needs. */
export function strimziChartValues(args: StrimziOperatorArgs): Record<string, unknown> {
  return {
    // The chart watches its own namespace already; listing it again makes duplicate RoleBindings.
    watchNamespaces: [...new Set(args.watchNamespaces)].filter((ns) => ns !== args.strimzi.namespace).sort(),
    watchAnyNamespace: false,
    generateNetworkPolicy: true,
    extraEnvs: [STRIMZI_RESTRICTED_OPERANDS],
    resources: { requests: { cpu: "200m", memory: "384Mi" }, limits: { cpu: "1", memory: "384Mi" } },
  };
}

/** The Strimzi cluster operator, installed from its OCI Helm chart at a pinned version. */
export class StrimziOperator extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** The namespace the cluster operator runs in. */
  readonly namespace: string;

  constructor(name: string, args: StrimziOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:StrimziOperator", name, {}, opts);
    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: "strimzi-cluster-operator",
        chart: args.strimzi.chart,
        version: args.strimzi.chartVersion,
        namespace: args.strimzi.namespace,
        values: strimziChartValues(args),
        // CRDs come with the chart; wait until the operator Deployment is ready.
        skipCrds: false,
        atomic: true,
        timeout: 600,
      },
      { parent: this },
    );
    this.namespace = args.strimzi.namespace;
    this.registerOutputs({ release: this.release, namespace: this.namespace });
  }
}
