import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StrimziConfig } from "./config";

export interface StrimziOperatorArgs {
  readonly strimzi: StrimziConfig;
  /** Namespaces holding Strimzi resources: the Kafka cluster's and the users' (the entity operator needs RBAC there). */
  readonly watchNamespaces: readonly string[];
}

/** Helm values of the cluster operator: watch only what the platform needs. */
export function strimziChartValues(args: StrimziOperatorArgs): Record<string, unknown> {
  return {
    // The chart watches its own namespace already; listing it again makes duplicate RoleBindings.
    watchNamespaces: [...new Set(args.watchNamespaces)].filter((ns) => ns !== args.strimzi.namespace).sort(),
    watchAnyNamespace: false,
    generateNetworkPolicy: true,
    resources: { requests: { cpu: "200m", memory: "384Mi" }, limits: { cpu: "1", memory: "384Mi" } },
  };
}

/** The Strimzi cluster operator, installed from its OCI Helm chart at a pinned version. */
export class StrimziOperator extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

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
    this.registerOutputs({ release: this.release });
  }
}
