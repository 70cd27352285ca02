import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ObservabilityConfig } from "./config";
import { dashboardConfigMaps } from "./dashboards";
import { type ObservabilityContext, podMonitors, prometheusRules } from "./spec";

export interface ObservabilityArgs {
  /** The area's settings (`streamforge:observability`): the labels the stack's Prometheus selects by, the alert thresholds. */
  readonly observability: ObservabilityConfig;
  /** What the rules and monitors select in the rest of the stack: namespaces, the cluster's name, which pieces run. */
  readonly context: ObservabilityContext;
}

/**
 * The platform's alerts (PrometheusRules), scrape targets (PodMonitors) and Grafana dashboards
 * (ConfigMaps with the sidecar's label). Needs the prometheus-operator CRDs in the cluster:
 * a stack whose cluster has none leaves `observability.enabled` off.
 */
export class Observability extends pulumi.ComponentResource {
  readonly rules: k8s.apiextensions.CustomResource[];
  readonly monitors: k8s.apiextensions.CustomResource[];
  readonly dashboards: k8s.core.v1.ConfigMap[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:observability:Observability", name, {}, opts);
    const { observability, context } = args;
    const child = { parent: this };
    this.rules = prometheusRules(observability, context).map(
      (r) => new k8s.apiextensions.CustomResource(`${name}-rule-${r.metadata.name}`, r, child),
    );
    this.monitors = podMonitors(observability, context).map(
      (m) => new k8s.apiextensions.CustomResource(`${name}-podmonitor-${m.metadata.namespace}-${m.metadata.name}`, m, child),
    );
    this.dashboards = dashboardConfigMaps(observability, context).map(
      (cm) => new k8s.core.v1.ConfigMap(`${name}-dashboard-${cm.metadata.name}`, cm, child),
    );
    this.registerOutputs({ rules: this.rules, monitors: this.monitors, dashboards: this.dashboards });
  }
}
