/**
 * The network baseline of the platform's namespaces: ingress denied by default, then opened only
 * where something must be reached. Kafka's listeners are opened by Strimzi from their
 * `networkPolicyPeers` (infra/kafka/cluster-spec.ts); the self-healing operator's own policy is in
 * infra/self-healing/manifests.ts. Pure builders and the component that declares them.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const labels = { "app.kubernetes.io/part-of": "streamforge" };

export const namespaceSelector = (ns: string) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });

/** Selects every pod of the namespace and lets nothing in: other policies add what may. */
export function defaultDenyIngress(namespace: string) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: "default-deny-ingress", namespace, labels },
    spec: { podSelector: {}, policyTypes: ["Ingress"] },
  };
}

export interface IngressAllowance {
  /** Name of the policy. */
  readonly name: string;
  readonly namespace: string;
  /** Pods it opens (matchLabels). */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly ports: readonly number[];
  /** Namespaces whose pods may connect. */
  readonly fromNamespaces: readonly string[];
}

/** Opens `ports` of the selected pods to every pod of the given namespaces, and to nothing else. */
export function allowIngress(allow: IngressAllowance) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: allow.name, namespace: allow.namespace, labels },
    spec: {
      podSelector: { matchLabels: { ...allow.podLabels } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [...new Set(allow.fromNamespaces)].sort().map((ns) => ({ namespaceSelector: namespaceSelector(ns) })),
          ports: allow.ports.map((port) => ({ protocol: "TCP", port })),
        },
      ],
    },
  };
}

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
