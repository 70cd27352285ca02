/**
 * The network baseline of the platform's namespaces: denied both ways by default, DNS to the
 * cluster DNS, then opened only where a workload must reach or be reached (infra/cluster/network-plan.ts
 * says what and why). Kafka's listeners are opened by Strimzi from their `networkPolicyPeers`
 * (infra/kafka/cluster-spec.ts); the self-healing operator's own policy is in
 * infra/self-healing/manifests.ts. The shapes are in ../kit/network-spec.ts; this is the component.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { dnsAllowance } from "./network-plan";
import { type EgressAllowance, type IngressAllowance, allowEgress, allowIngress, defaultDeny } from "../kit/network-spec";

export interface NetworkBaselineArgs {
  /** Namespaces denied both ways by default. */
  readonly denyIn: readonly string[];
  /** Those whose pods may resolve names at the cluster DNS. */
  readonly dnsIn: readonly string[];
  /** Ingress opened on top of that. */
  readonly ingress: readonly IngressAllowance[];
  /** Egress opened on top of that. */
  readonly egress: readonly EgressAllowance[];
}

/** Default-deny both ways in each namespace, DNS, and the allowances declared beside it. */
export class NetworkBaseline extends pulumi.ComponentResource {
  /** The namespaces denied both ways by default, sorted. */
  readonly deniedNamespaces: readonly string[];
  /** Every NetworkPolicy of the baseline. */
  readonly policies: readonly k8s.networking.v1.NetworkPolicy[];

  constructor(name: string, args: NetworkBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:NetworkBaseline", name, {}, opts);
    const policies: k8s.networking.v1.NetworkPolicy[] = [];
    this.deniedNamespaces = [...new Set(args.denyIn)].sort();
    for (const ns of this.deniedNamespaces)
      policies.push(new k8s.networking.v1.NetworkPolicy(`${name}-deny-${ns}`, defaultDeny(ns), { parent: this }));
    for (const ns of [...new Set(args.dnsIn)].sort())
      policies.push(new k8s.networking.v1.NetworkPolicy(`${name}-dns-${ns}`, allowEgress(dnsAllowance(ns)), { parent: this }));
    for (const allow of args.ingress) {
      policies.push(
        new k8s.networking.v1.NetworkPolicy(`${name}-allow-${allow.namespace}-${allow.name}`, allowIngress(allow), { parent: this }),
      );
    }
    for (const allow of args.egress) {
      policies.push(
        new k8s.networking.v1.NetworkPolicy(`${name}-egress-${allow.namespace}-${allow.name}`, allowEgress(allow), { parent: this }),
      );
    }
    this.policies = policies;
    this.registerOutputs({ deniedNamespaces: this.deniedNamespaces, policies: this.policies });
  }
}
