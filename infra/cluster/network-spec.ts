/**
 * The network baseline's shapes, as plain data: default-deny ingress, and peers and allowances
 * that open what must be reached. Every area that writes a NetworkPolicy or Strimzi's
 * `networkPolicyPeers` selects namespaces through these. Pure.
 */

const labels = { "app.kubernetes.io/part-of": "streamforge" };

/** Selects a namespace by the name label the API server sets on every namespace. */
export const namespaceSelector = (ns: string) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });

/** One peer per namespace (sorted, each once) selecting all of its pods. */
export function namespacePeers(namespaces: readonly string[]): { namespaceSelector: ReturnType<typeof namespaceSelector> }[] {
  return [...new Set(namespaces)].sort().map((ns) => ({ namespaceSelector: namespaceSelector(ns) }));
}

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
  /** Labels of the policy itself, beside the platform's. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Opens `ports` of the selected pods to every pod of the given namespaces, and to nothing else. */
export function allowIngress(allow: IngressAllowance) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: allow.name, namespace: allow.namespace, labels: { ...labels, ...allow.labels } },
    spec: {
      podSelector: { matchLabels: { ...allow.podLabels } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: namespacePeers(allow.fromNamespaces),
          ports: allow.ports.map((port) => ({ protocol: "TCP", port })),
        },
      ],
    },
  };
}
