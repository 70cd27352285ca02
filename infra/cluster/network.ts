/**
 * The network baseline of the platform's namespaces: ingress denied by default, then opened only
 * where something must be reached. Kafka's listeners are opened by Strimzi from their
 * `networkPolicyPeers` (infra/kafka/cluster-spec.ts); the self-healing operator's own policy is in
 * infra/self-healing/manifests.ts. The shapes are in network-spec.ts; this is the component.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { type IngressAllowance, allowIngress, defaultDenyIngress } from "./network-spec";

export interface NetworkBaselineArgs {
  /** Namespaces whose ingress is denied by default. */
  readonly denyIngressIn: readonly string[];
  /** What is opened on top of that. */
  readonly allowances: readonly IngressAllowance[];
}

/** Default-deny ingress in each namespace, and the allowances declared beside it. */
export class NetworkBaseline extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:NetworkBaseline", name, {}, opts);
    for (const ns of [...new Set(args.denyIngressIn)].sort()) {
      new k8s.networking.v1.NetworkPolicy(`${name}-deny-${ns}`, defaultDenyIngress(ns), { parent: this });
    }
    for (const allow of args.allowances) {
      new k8s.networking.v1.NetworkPolicy(`${name}-allow-${allow.namespace}-${allow.name}`, allowIngress(allow), { parent: this });
    }
    this.registerOutputs({});
  }
}
