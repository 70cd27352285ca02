/**
 * An offline evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics, so tests can
 * work out from rendered policies which pods may reach which ports, without a cluster or a CNI.
 *
 * It follows https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the API
 * defaulting in k8s.io/kubernetes pkg/apis/networking/v1/defaults.go. Choices where the API leaves
 * things to the network plugin, or where this model simplifies:
 *  - A pod endpoint matches an `ipBlock` only if its `ip` is given; pod IPs are ephemeral, so most
 *    tests leave it out and then ipBlocks match only `{ ip }` endpoints outside the cluster.
 *  - IPv4 only: an IPv6 CIDR in a policy never matches (no IPv4 address is inside it); an IPv6
 *    endpoint address is rejected.
 *  - Node-local traffic (kubelet probes), host-network pods and reply packets are not modelled.
 *  - Shapes the API server rejects (a peer with no selector, ipBlock mixed with selectors, an
 *    unknown selector operator, a malformed CIDR) throw, rather than quietly matching nothing.
 *
 * Also models the NetworkPolicy that the Strimzi 1.2.0 cluster operator generates for a Kafka
 * cluster (see {@link strimziListenerPolicies}).
 */

export type Protocol = "TCP" | "UDP" | "SCTP";
export type PolicyType = "Ingress" | "Egress";

/** A pod. `ip` lets ipBlocks match it; `namedPorts` (container port name to number) resolves named ports. */
export interface Workload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly name?: string;
  readonly ip?: string;
  readonly namedPorts?: Readonly<Record<string, number>>;
}

/** A namespace and its labels; `kubernetes.io/metadata.name` is added when absent, as the API server does. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A pod in the cluster, or an address outside it (e.g. the API server), which has no policies of its own. */
export type Endpoint = { readonly pod: Workload } | { readonly ip: string };

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface IPBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  readonly protocol?: Protocol;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface NetworkPolicyIngressRule {
  readonly from?: readonly NetworkPolicyPeer[];
  readonly ports?: readonly NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  readonly to?: readonly NetworkPolicyPeer[];
  readonly ports?: readonly NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  /** Required by the API; absent is read as `{}` (all pods in the namespace), as Go decodes it. */
  readonly podSelector?: LabelSelector;
  readonly policyTypes?: readonly PolicyType[];
  readonly ingress?: readonly NetworkPolicyIngressRule[];
  readonly egress?: readonly NetworkPolicyEgressRule[];
}

export interface NetworkPolicyObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: NetworkPolicySpec;
}

export interface Verdict {
  readonly allowed: boolean;
  readonly reason: string;
}

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * Whether `from` may open a connection to `to` on `port`/`protocol`: the source's egress must allow
 * it and the destination's ingress must allow it. `port` is a number or a container port name.
 */
export function canConnect(
  policies: readonly NetworkPolicyObject[],
  namespaces: readonly NamespaceInfo[],
  from: Endpoint,
  to: Endpoint,
  port: number | string,
  protocol: Protocol = "TCP",
): Verdict {
  const conn: Connection = { port, protocol, namespaces };
  const egress =
    "pod" in from
      ? evaluate(policies, "Egress", from.pod, to, conn)
      : { allowed: true, reason: `source ${from.ip} is outside the cluster, no egress policy applies` };
  const ingress =
    "pod" in to
      ? evaluate(policies, "Ingress", to.pod, from, conn)
      : { allowed: true, reason: `destination ${to.ip} is outside the cluster, no ingress policy applies` };
  const what = `${describe(from)} -> ${describe(to)} ${String(port)}/${protocol}`;
  return { allowed: egress.allowed && ingress.allowed, reason: `${what}: egress: ${egress.reason}; ingress: ${ingress.reason}` };
}

/** The effective policyTypes: an unset or empty list defaults to Ingress, plus Egress if there are egress rules. */
export function policyTypes(spec: NetworkPolicySpec): readonly PolicyType[] {
  if (spec.policyTypes && spec.policyTypes.length > 0) return spec.policyTypes;
  // defaults.go tests len(Egress) != 0, so `egress: []` without policyTypes does not isolate egress.
  return spec.egress && spec.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

/** Whether a label set satisfies a selector; `{}` matches everything, matchLabels and matchExpressions are AND'ed. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((req) => {
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        // A pod without the key is "not in" any set of values.
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        throw new Error(`unknown label selector operator ${JSON.stringify(req.operator)}`);
    }
  });
}

interface Connection {
  readonly port: number | string;
  readonly protocol: Protocol;
  readonly namespaces: readonly NamespaceInfo[];
}

/** Decides one direction for `subject`, the pod the policies would select; `peer` is the other end. */
function evaluate(
  policies: readonly NetworkPolicyObject[],
  direction: PolicyType,
  subject: Workload,
  peer: Endpoint,
  conn: Connection,
): Verdict {
  const isolating = policies.filter(
    (p) =>
      p.metadata.namespace === subject.namespace &&
      policyTypes(p.spec).includes(direction) &&
      selectorMatches(p.spec.podSelector ?? {}, subject.labels),
  );
  const dir = direction.toLowerCase();
  if (isolating.length === 0) return { allowed: true, reason: `no policy isolates ${describePod(subject)} for ${dir}` };
  // The destination pod's container ports give named ports their numbers, whichever side is checked.
  const destination = direction === "Ingress" ? subject : "pod" in peer ? peer.pod : undefined;
  for (const policy of isolating) {
    const rules =
      direction === "Ingress"
        ? (policy.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
        : (policy.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    for (const [i, rule] of rules.entries()) {
      if (peersMatch(policy, rule.peers, peer, conn.namespaces) && portsMatch(rule.ports, conn, destination)) {
        return { allowed: true, reason: `allowed by ${policyName(policy)} ${dir} rule #${i}` };
      }
    }
  }
  const names = isolating.map(policyName).join(", ");
  return { allowed: false, reason: `${describePod(subject)} is isolated for ${dir} by ${names} and no ${dir} rule matches` };
}

/** A rule without peers (absent or `[]`) matches every peer; otherwise any one peer must match. */
function peersMatch(
  policy: NetworkPolicyObject,
  peers: readonly NetworkPolicyPeer[] | undefined,
  endpoint: Endpoint,
  namespaces: readonly NamespaceInfo[],
): boolean {
  if (!peers || peers.length === 0) return true;
  return peers.some((peer) => peerMatches(policy, peer, endpoint, namespaces));
}

function peerMatches(
  policy: NetworkPolicyObject,
  peer: NetworkPolicyPeer,
  endpoint: Endpoint,
  namespaces: readonly NamespaceInfo[],
): boolean {
  const { podSelector, namespaceSelector, ipBlock } = peer;
  if (ipBlock) {
    if (podSelector || namespaceSelector) throw new Error(`${policyName(policy)}: a peer may not combine ipBlock with selectors`);
    const ip = "pod" in endpoint ? endpoint.pod.ip : endpoint.ip;
    return ip !== undefined && ipBlockContains(ipBlock, ip);
  }
  if (!podSelector && !namespaceSelector) throw new Error(`${policyName(policy)}: a peer needs podSelector, namespaceSelector or ipBlock`);
  if (!("pod" in endpoint)) return false;
  const pod = endpoint.pod;
  // podSelector alone means the policy's own namespace; namespaceSelector alone means every pod there.
  const nsOk = namespaceSelector
    ? selectorMatches(namespaceSelector, namespaceLabels(namespaces, pod.namespace))
    : pod.namespace === policy.metadata.namespace;
  return nsOk && (!podSelector || selectorMatches(podSelector, pod.labels));
}

/** A rule without ports (absent or `[]`) matches every port of every protocol. */
function portsMatch(ports: readonly NetworkPolicyPort[] | undefined, conn: Connection, destination: Workload | undefined): boolean {
  if (!ports || ports.length === 0) return true;
  const resolve = (p: number | string) => (typeof p === "number" ? p : destination?.namedPorts?.[p]);
  const wanted = resolve(conn.port);
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== conn.protocol) return false;
    if (p.port === undefined) return true; // every port of this protocol
    if (p.port === conn.port) return true; // the same number, or the same port name
    const start = resolve(p.port);
    if (start === undefined || wanted === undefined) return false;
    // endPort is only valid with a numeric port; the range is inclusive.
    return typeof p.port === "number" && p.endPort !== undefined ? wanted >= start && wanted <= p.endPort : wanted === start;
  });
}

function namespaceLabels(namespaces: readonly NamespaceInfo[], name: string): Readonly<Record<string, string>> {
  const labels = namespaces.find((n) => n.name === name)?.labels ?? {};
  return { [NAMESPACE_NAME_LABEL]: name, ...labels };
}

/** Whether an IPv4 address lies in the block's CIDR and outside all its `except` CIDRs. */
export function ipBlockContains(block: IPBlock, ip: string): boolean {
  const addr = parseIPv4(ip);
  if (addr === undefined) throw new Error(`not an IPv4 address: ${ip} (IPv6 is not modelled)`);
  return cidrContains(block.cidr, addr) && !(block.except ?? []).some((e) => cidrContains(e, addr));
}

/** IPv4 CIDR membership; host bits in the CIDR are masked off, as Go's net.ParseCIDR does. IPv6 CIDRs never contain an IPv4 address. */
function cidrContains(cidr: string, addr: number): boolean {
  const [base, prefix, ...rest] = cidr.split("/");
  const bits = Number(prefix);
  if (base === undefined || rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) throw new Error(`bad CIDR ${cidr}`);
  if (base.includes(":")) return false;
  const network = parseIPv4(base);
  if (network === undefined || bits > 32) throw new Error(`bad CIDR ${cidr}`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (network & mask) >>> 0 === (addr & mask) >>> 0;
}

/** Dotted quad to an unsigned 32-bit number, or undefined if it is not one. */
function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function policyName(p: NetworkPolicyObject): string {
  return `NetworkPolicy ${p.metadata.namespace}/${p.metadata.name}`;
}

function describePod(w: Workload): string {
  const labels = Object.entries(w.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return `pod ${w.namespace}/${w.name ?? `{${labels}}`}`;
}

function describe(e: Endpoint): string {
  return "pod" in e ? describePod(e.pod) : e.ip;
}

// ---------------------------------------------------------------------------------------------
// Strimzi
// ---------------------------------------------------------------------------------------------

/** Fixed broker ports, from KafkaCluster.java (REPLICATION_PORT etc.), MetricsModel.java and JmxModel.java in Strimzi 1.2.0. */
export const STRIMZI_KAFKA_PORTS = { controlPlane: 9090, replication: 9091, kafkaAgent: 8443, metrics: 9404, jmx: 9999 } as const;

/** Pod labels of the Strimzi cluster operator Deployment (packaging/install and the Helm chart). */
export const STRIMZI_CLUSTER_OPERATOR_POD_LABELS: Readonly<Record<string, string>> = {
  name: "strimzi-cluster-operator",
  "strimzi.io/kind": "cluster-operator",
};

/** The part of a Kafka CR that decides the broker NetworkPolicy. */
export interface StrimziKafka {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly kafka: {
      readonly listeners: readonly {
        readonly name?: string;
        readonly port: number;
        readonly networkPolicyPeers?: readonly NetworkPolicyPeer[];
      }[];
      /** Any metricsConfig (jmxPrometheusExporter or strimziMetricsReporter) opens the metrics port. */
      readonly metricsConfig?: { readonly type: string };
      readonly jmxOptions?: object;
    };
  };
}

/** Where the cluster operator runs: its STRIMZI_OPERATOR_NAMESPACE and STRIMZI_OPERATOR_NAMESPACE_LABELS. */
export interface StrimziOperatorPlacement {
  /** Absent means "another namespace than the Kafka cluster". */
  readonly operatorNamespace?: string;
  readonly operatorNamespaceLabels?: Readonly<Record<string, string>>;
}

/** Labels Strimzi puts on a node-pool pod (KafkaPool.java and KafkaCluster.generatePodSets), minus per-pod ones. */
export function strimziKafkaPodLabels(
  cluster: string,
  pool: string,
  roles: { readonly broker: boolean; readonly controller: boolean },
): Record<string, string> {
  return {
    "strimzi.io/cluster": cluster,
    "strimzi.io/kind": "Kafka",
    "strimzi.io/name": `${cluster}-kafka`,
    "strimzi.io/component-type": "kafka",
    "strimzi.io/pool-name": pool,
    "strimzi.io/broker-role": String(roles.broker),
    "strimzi.io/controller-role": String(roles.controller),
    "app.kubernetes.io/name": "kafka",
    "app.kubernetes.io/instance": cluster,
    "app.kubernetes.io/part-of": `strimzi-${cluster}`,
    "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
  };
}

/**
 * The NetworkPolicy the Strimzi 1.2.0 cluster operator creates for a Kafka cluster's brokers and
 * controllers (with STRIMZI_NETWORK_POLICY_GENERATION left on), modelled on
 * cluster-operator/src/main/java/io/strimzi/operator/cluster/model/KafkaCluster.java
 * `generateNetworkPolicy` and NetworkPolicyUtils.java at tag 1.2.0:
 *  - one policy `<cluster>-network-policy-kafka`, no policyTypes (so Ingress only), selecting
 *    `strimzi.io/cluster`, `strimzi.io/name=<cluster>-kafka`, `strimzi.io/kind=Kafka` (every pool);
 *  - 9090 (control plane) from the cluster's Kafka pods and the cluster operator;
 *  - 9091 (replication) from the operator, Kafka pods, entity operator, Kafka Exporter and Cruise
 *    Control (peers by `strimzi.io/name`, so only in the cluster's namespace);
 *  - 8443 (KafkaAgent) from the cluster operator only;
 *  - one rule per listener port whose `from` is the listener's `networkPolicyPeers` (absent: everyone);
 *  - 9404 open to all when metricsConfig is set, 9999 open to all when jmxOptions is set.
 * The operator peer has no namespaceSelector when it runs in the Kafka namespace, else one from
 * its namespace labels, else `{}` (all namespaces). Policies Strimzi makes for other components
 * (Cruise Control, Kafka Exporter, Connect, ...) are not modelled.
 */
export function strimziListenerPolicies(kafka: StrimziKafka, placement: StrimziOperatorPlacement = {}): NetworkPolicyObject[] {
  const { name: cluster, namespace } = kafka.metadata;
  const spec = kafka.spec.kafka;
  const selector = { "strimzi.io/cluster": cluster, "strimzi.io/name": `${cluster}-kafka`, "strimzi.io/kind": "Kafka" };
  const byName = (name: string): NetworkPolicyPeer => ({ podSelector: { matchLabels: { "strimzi.io/name": name } } });
  const operatorLabels = placement.operatorNamespaceLabels ?? {};
  const operatorNamespaceSelector: LabelSelector | undefined =
    placement.operatorNamespace === namespace ? undefined : Object.keys(operatorLabels).length > 0 ? { matchLabels: operatorLabels } : {};
  const operator: NetworkPolicyPeer = {
    podSelector: { matchLabels: { "strimzi.io/kind": "cluster-operator" } },
    ...(operatorNamespaceSelector ? { namespaceSelector: operatorNamespaceSelector } : {}),
  };
  const kafkaPods: NetworkPolicyPeer = { podSelector: { matchLabels: selector } };
  const rule = (port: number, from: readonly NetworkPolicyPeer[] | undefined): NetworkPolicyIngressRule => ({
    ports: [{ port, protocol: "TCP" }],
    ...(from ? { from } : {}),
  });
  const P = STRIMZI_KAFKA_PORTS;
  const ingress: NetworkPolicyIngressRule[] = [
    rule(P.controlPlane, [kafkaPods, operator]),
    rule(P.replication, [
      operator,
      kafkaPods,
      byName(`${cluster}-entity-operator`),
      byName(`${cluster}-kafka-exporter`),
      byName(`${cluster}-cruise-control`),
    ]),
    rule(P.kafkaAgent, [operator]),
    ...spec.listeners.map((l) => rule(l.port, l.networkPolicyPeers)),
    ...(spec.metricsConfig ? [rule(P.metrics, [])] : []),
    ...(spec.jmxOptions ? [rule(P.jmx, [])] : []),
  ];
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${cluster}-network-policy-kafka`, namespace },
      spec: { podSelector: { matchLabels: selector }, ingress },
    },
  ];
}
