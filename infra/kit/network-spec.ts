/**
 * The network baseline's shapes, as plain data: default-deny both ways, the one DNS and API-server
 * egress rules every area uses, and peers and allowances that open what must be reached. Every
 * area that writes a NetworkPolicy or Strimzi's `networkPolicyPeers` selects namespaces through
 * these. Pure.
 */

const labels = { "app.kubernetes.io/part-of": "streamforge" };

/** Selects a namespace by the name label the API server sets on every namespace. */
export const namespaceSelector = (ns: string) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });

/** One peer per namespace (sorted, each once) selecting all of its pods. */
export function namespacePeers(namespaces: readonly string[]): { namespaceSelector: ReturnType<typeof namespaceSelector> }[] {
  return [...new Set(namespaces)].sort().map((ns) => ({ namespaceSelector: namespaceSelector(ns) }));
}

// Mutable on purpose: these objects go straight into @pulumi/kubernetes' args, whose arrays are mutable.
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

export type EgressPeer = { namespaceSelector: LabelSelector; podSelector?: LabelSelector } | { ipBlock: { cidr: string } };

export interface EgressRule {
  to: EgressPeer[];
  ports: { protocol: "TCP" | "UDP"; port: number }[];
}

/** The pods labelled `labels` in namespace `ns`, and only there: both selectors in one peer. */
export const podsIn = (ns: string, labels: Readonly<Record<string, string>>): EgressPeer => ({
  namespaceSelector: namespaceSelector(ns),
  podSelector: { matchLabels: { ...labels } },
});

export const tcp = (ports: readonly number[]) => ports.map((port) => ({ protocol: "TCP" as const, port }));

/** The cluster DNS: CoreDNS keeps kube-dns's `k8s-app` label in kube-system (kubeadm, EKS, GKE, k3s). */
export const CLUSTER_DNS = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } } as const;

/**
 * Name lookups, to the cluster DNS only: one peer with both selectors, so a pod labelled
 * `k8s-app: kube-dns` in any other namespace is not a resolver.
 */
export function dnsEgressRule(): EgressRule {
  return {
    to: [podsIn(CLUSTER_DNS.namespace, CLUSTER_DNS.podLabels)],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

/** Pods of one namespace, by their labels. */
export interface PodsOf {
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/**
 * Konnectivity's agents, through which the API server's calls into the cluster (webhooks among
 * them) arrive on managed control planes, from the agent's pod address rather than the API
 * server's: `k8s-app: konnectivity-agent` in kube-system as Kubernetes' own manifest labels them
 * (kubernetes/website content/en/examples/admin/konnectivity/konnectivity-agent.yaml, as GKE does),
 * `app: konnectivity-agent` on AKS (tigera/operator#5212, which opened Calico's webhooks to both).
 * On a cluster without them these select nothing.
 */
export const KONNECTIVITY_AGENTS: readonly PodsOf[] = [
  { namespace: "kube-system", podLabels: { "k8s-app": "konnectivity-agent" } },
  { namespace: "kube-system", podLabels: { app: "konnectivity-agent" } },
];

/** Where the API server is: it has no pod labels, so a CIDR (its endpoints' addresses) and its ports. */
export interface ApiServerAddress {
  readonly cidr: string;
  readonly ports: readonly number[];
}

/** The API server, by its address: NetworkPolicy sees the endpoint after the Service's DNAT. */
export function apiServerEgressRule(api: ApiServerAddress): EgressRule {
  return { to: [{ ipBlock: { cidr: api.cidr } }], ports: tcp(api.ports) };
}

/** The prefix length of an IPv4 CIDR (`10.0.0.0/8` is 8). */
export function prefixLength(cidr: string): number {
  const bits = Number(cidr.split("/")[1]);
  if (!Number.isInteger(bits)) throw new Error(`not a CIDR: ${cidr}`);
  return bits;
}

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;

/**
 * The egress rule to an http(s) URL inside the cluster or at a fixed address, as seen from a pod
 * in `ownNamespace`: a Service (`<service>` in the pod's own namespace, by the resolver's search
 * path, or `<service>.<namespace>[.svc[.<cluster domain>]]`) opens that namespace's pods on the URL's
 * port (the port a Service forwards to is assumed to be the same; true of prometheus-operated),
 * an IPv4 host opens that address. Anything else (an external name) cannot be written as a
 * NetworkPolicy peer: undefined.
 */
export function httpEndpointEgressRule(url: string, ownNamespace: string): EgressRule | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
  const host = parsed.hostname;
  if (IPV4.test(host)) return { to: [{ ipBlock: { cidr: `${host}/32` } }], ports: tcp([port]) };
  const parts = host.split(".");
  const namespace = parts.length === 1 ? ownNamespace : parts[1];
  const serviceForm = parts.length <= 2 || parts[2] === "svc";
  if (namespace === undefined || !serviceForm) return undefined;
  return { to: namespacePeers([namespace]), ports: tcp([port]) };
}

/** Selects every pod of the namespace and lets nothing in or out: other policies add what may. */
export function defaultDeny(namespace: string) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: "default-deny", namespace, labels },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
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

export interface EgressAllowance {
  /** Name of the policy: why the pods go out. */
  readonly name: string;
  readonly namespace: string;
  /** Pods it lets out (`{}`: every pod of the namespace). */
  readonly pods: LabelSelector;
  readonly rules: readonly EgressRule[];
  /** Labels of the policy itself, beside the platform's. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Lets the selected pods out to the rules' peers and ports, and nowhere else. */
export function allowEgress(allow: EgressAllowance) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: { name: allow.name, namespace: allow.namespace, labels: { ...labels, ...allow.labels } },
    spec: {
      podSelector: allow.pods,
      policyTypes: ["Egress"],
      egress: allow.rules.map((r) => ({ to: r.to, ports: r.ports })),
    },
  };
}
