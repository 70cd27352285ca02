/** The NetworkPolicy evaluator, one Kubernetes rule at a time, and the model of Strimzi's broker policy. */
import {
  type Endpoint,
  type NamespaceInfo,
  type NetworkPolicyObject,
  type NetworkPolicySpec,
  type Workload,
  STRIMZI_CLUSTER_OPERATOR_POD_LABELS,
  STRIMZI_KAFKA_PORTS,
  type StrimziKafka,
  canConnect,
  ipBlockContains,
  policyTypes,
  selectorMatches,
  strimziKafkaPodLabels,
  strimziListenerPolicies,
} from "./validate/network-reach";

const pod = (namespace: string, labels: Record<string, string>, extra: Partial<Workload> = {}): Endpoint => ({
  pod: { namespace, labels, name: Object.values(labels).join("-") || "pod", ...extra },
});
const ip = (address: string): Endpoint => ({ ip: address });
const policy = (namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicyObject => ({ metadata: { name, namespace }, spec });

const namespaces: NamespaceInfo[] = [
  { name: "apps", labels: { team: "apps", tier: "frontend" } },
  { name: "data", labels: { team: "data" } },
  { name: "other", labels: {} },
];

const web = pod("apps", { app: "web" });
const api = pod("apps", { app: "api" });
const db = pod("data", { app: "db" });
const webInData = pod("data", { app: "web" });
const webInOther = pod("other", { app: "web" });

/** Only the destination's ingress matters for these cases: a policy isolating `db`'s ingress. */
const ingressTo = (rules: NetworkPolicySpec["ingress"], podSelector = { matchLabels: { app: "db" } }) =>
  policy("data", "db-ingress", { podSelector, policyTypes: ["Ingress"], ingress: rules });

const allowed = (
  policies: NetworkPolicyObject[],
  from: Endpoint,
  to: Endpoint,
  port: number | string = 80,
  proto?: "TCP" | "UDP" | "SCTP",
) => canConnect(policies, namespaces, from, to, port, proto).allowed;

describe("isolation", () => {
  it("leaves a pod that no policy selects open, and says so", () => {
    const v = canConnect([], namespaces, web, db, 5432);
    expect(v.allowed).toBe(true);
    expect(v.reason).toContain("no policy isolates pod data/db for ingress");
    expect(v.reason).toContain("no policy isolates pod apps/web for egress");
  });

  it("applies a policy only to pods in its own namespace", () => {
    const denyAllInApps = policy("apps", "deny", { podSelector: {}, policyTypes: ["Ingress"] });
    expect(allowed([denyAllInApps], web, db)).toBe(true);
    expect(allowed([denyAllInApps], db, web)).toBe(false);
  });

  it("applies a policy only to the pods its podSelector matches", () => {
    const denyApi = policy("apps", "deny-api", { podSelector: { matchLabels: { app: "api" } }, policyTypes: ["Ingress"] });
    expect(allowed([denyApi], db, web)).toBe(true);
    expect(allowed([denyApi], db, api)).toBe(false);
  });

  it("denies all ingress with {podSelector: {}, policyTypes: [Ingress]} but leaves egress open", () => {
    const deny = policy("data", "default-deny", { podSelector: {}, policyTypes: ["Ingress"] });
    const v = canConnect([deny], namespaces, web, db, 5432);
    expect(v.allowed).toBe(false);
    expect(v.reason).toContain("isolated for ingress by NetworkPolicy data/default-deny");
    expect(allowed([deny], db, web)).toBe(true);
  });

  it("treats an empty ingress list like an absent one: deny all", () => {
    expect(allowed([policy("data", "p", { podSelector: {}, ingress: [] })], web, db)).toBe(false);
    expect(allowed([policy("data", "p", { podSelector: {} })], web, db)).toBe(false);
  });

  it("defaults policyTypes to Ingress, plus Egress only when there are egress rules", () => {
    expect(policyTypes({ podSelector: {} })).toEqual(["Ingress"]);
    expect(policyTypes({ podSelector: {}, policyTypes: [] })).toEqual(["Ingress"]);
    expect(policyTypes({ podSelector: {}, egress: [{}] })).toEqual(["Ingress", "Egress"]);
    // defaults.go checks len(egress) != 0: an empty egress list does not make it an egress policy.
    expect(policyTypes({ podSelector: {}, egress: [] })).toEqual(["Ingress"]);
    expect(policyTypes({ podSelector: {}, policyTypes: ["Egress"] })).toEqual(["Egress"]);
  });

  it("does not isolate egress for `egress: []` without policyTypes, but does with policyTypes [Egress]", () => {
    const implicit = policy("apps", "p", { podSelector: {}, ingress: [{}], egress: [] });
    expect(allowed([implicit], web, db)).toBe(true);
    const explicit = policy("apps", "p", { podSelector: {}, policyTypes: ["Egress"], egress: [] });
    const v = canConnect([explicit], namespaces, web, db, 80);
    expect(v.allowed).toBe(false);
    expect(v.reason).toContain("isolated for egress by NetworkPolicy apps/p");
  });

  it("leaves ingress open under an egress-only policy", () => {
    const egressOnly = policy("apps", "egress-only", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"], egress: [] });
    expect(allowed([egressOnly], db, web)).toBe(true);
    expect(allowed([egressOnly], web, db)).toBe(false);
  });

  it("needs both the source's egress and the destination's ingress", () => {
    const ingressOk = ingressTo([{ from: [{ namespaceSelector: {} }] }]);
    const egressDenied = policy("apps", "web-egress", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"] });
    const v = canConnect([ingressOk, egressDenied], namespaces, web, db, 80);
    expect(v.allowed).toBe(false);
    expect(v.reason).toContain("egress: pod apps/web is isolated for egress by NetworkPolicy apps/web-egress");
    expect(v.reason).toContain("ingress: allowed by NetworkPolicy data/db-ingress ingress rule #0");
    expect(allowed([ingressOk], web, db)).toBe(true);
  });

  it("lets two addresses outside the cluster talk: no policy is theirs", () => {
    const denyAll = policy("apps", "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(allowed([denyAll], ip("203.0.113.1"), ip("198.51.100.1"))).toBe(true);
  });
});

describe("peers", () => {
  it("reads podSelector alone as pods of the policy's own namespace", () => {
    const p = ingressTo([{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }]);
    expect(allowed([p], webInData, db)).toBe(true);
    expect(allowed([p], web, db)).toBe(false); // same labels, another namespace
    expect(allowed([p], pod("data", { app: "batch" }), db)).toBe(false);
  });

  it("reads namespaceSelector alone as every pod in the matching namespaces", () => {
    const p = ingressTo([{ from: [{ namespaceSelector: { matchLabels: { team: "apps" } } }] }]);
    expect(allowed([p], web, db)).toBe(true);
    expect(allowed([p], api, db)).toBe(true);
    expect(allowed([p], webInOther, db)).toBe(false);
    expect(allowed([p], webInData, db)).toBe(false);
  });

  it("matches the automatic kubernetes.io/metadata.name label, also for unlisted namespaces", () => {
    const p = ingressTo([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] }]);
    expect(allowed([p], webInOther, db)).toBe(true);
    expect(allowed([p], web, db)).toBe(false);
    const q = ingressTo([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "unlisted" } } }] }]);
    expect(allowed([q], pod("unlisted", { app: "x" }), db)).toBe(true);
  });

  it("ANDs podSelector and namespaceSelector within one peer", () => {
    const p = ingressTo([
      { from: [{ namespaceSelector: { matchLabels: { team: "apps" } }, podSelector: { matchLabels: { app: "web" } } }] },
    ]);
    expect(allowed([p], web, db)).toBe(true);
    expect(allowed([p], api, db)).toBe(false); // right namespace, wrong pod
    expect(allowed([p], webInOther, db)).toBe(false); // right pod, wrong namespace
    expect(allowed([p], webInData, db)).toBe(false); // not the policy's namespace either
  });

  it("ORs two peers", () => {
    const p = ingressTo([
      { from: [{ namespaceSelector: { matchLabels: { team: "apps" } } }, { podSelector: { matchLabels: { app: "web" } } }] },
    ]);
    expect(allowed([p], api, db)).toBe(true); // via the namespace peer
    expect(allowed([p], webInData, db)).toBe(true); // via the pod peer, in the policy's namespace
    expect(allowed([p], webInOther, db)).toBe(false);
  });

  it("matches everything with empty selectors, and every peer when from is absent or empty", () => {
    const allPods = ingressTo([{ from: [{ namespaceSelector: {}, podSelector: {} }] }]);
    expect(allowed([allPods], webInOther, db)).toBe(true);
    expect(allowed([allPods], ip("203.0.113.9"), db)).toBe(false); // selectors match pods, not addresses
    expect(allowed([ingressTo([{}])], ip("203.0.113.9"), db)).toBe(true);
    expect(allowed([ingressTo([{ from: [] }])], webInOther, db)).toBe(true);
  });

  it("supports matchExpressions In, NotIn, Exists and DoesNotExist, AND'ed with matchLabels", () => {
    const labels = { app: "web", env: "prod" };
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "In", values: ["prod", "dev"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "In", values: ["dev"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["x"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["x"] }] }, labels)).toBe(true); // absent key
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "Exists" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "env", operator: "DoesNotExist" }] }, labels)).toBe(false);
    const both = { matchLabels: { app: "web" }, matchExpressions: [{ key: "env", operator: "In" as const, values: ["dev"] }] };
    expect(selectorMatches(both, labels)).toBe(false);
    expect(selectorMatches(both, { app: "web", env: "dev" })).toBe(true);
    expect(selectorMatches({}, labels)).toBe(true);
  });

  it("uses matchExpressions in policy podSelectors too", () => {
    const p = policy("data", "not-db", {
      podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] },
      policyTypes: ["Ingress"],
    });
    expect(allowed([p], web, db)).toBe(true);
    expect(allowed([p], web, webInData)).toBe(false);
  });

  it("rejects peers the API server would reject", () => {
    expect(() => canConnect([ingressTo([{ from: [{}] }])], namespaces, web, db, 80)).toThrow(/needs podSelector/);
    const mixed = ingressTo([{ from: [{ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }] }]);
    expect(() => canConnect([mixed], namespaces, ip("10.0.0.1"), db, 80)).toThrow(/ipBlock/);
  });
});

describe("ports", () => {
  const onPorts = (ports: NonNullable<NetworkPolicySpec["ingress"]>[number]["ports"]) => [
    ingressTo([{ from: [{ namespaceSelector: {} }], ports }]),
  ];

  it("matches every port when ports is absent or empty", () => {
    expect(allowed(onPorts(undefined), web, db, 12345)).toBe(true);
    expect(allowed(onPorts([]), web, db, 12345, "UDP")).toBe(true);
  });

  it("matches a single numeric port", () => {
    const p = onPorts([{ protocol: "TCP", port: 5432 }]);
    expect(allowed(p, web, db, 5432)).toBe(true);
    expect(allowed(p, web, db, 5433)).toBe(false);
  });

  it("matches an inclusive endPort range", () => {
    const p = onPorts([{ port: 32000, endPort: 32768 }]);
    expect(allowed(p, web, db, 32000)).toBe(true);
    expect(allowed(p, web, db, 32768)).toBe(true);
    expect(allowed(p, web, db, 32500)).toBe(true);
    expect(allowed(p, web, db, 31999)).toBe(false);
    expect(allowed(p, web, db, 32769)).toBe(false);
  });

  it("matches named ports by name, or by number through the destination's container ports", () => {
    const p = onPorts([{ port: "postgres" }]);
    expect(allowed(p, web, db, "postgres")).toBe(true);
    expect(allowed(p, web, db, "metrics")).toBe(false);
    expect(allowed(p, web, db, 5432)).toBe(false); // the number is unknown without the pod's ports
    const named = pod("data", { app: "db" }, { namedPorts: { postgres: 5432, metrics: 9187 } });
    expect(allowed(p, web, named, 5432)).toBe(true);
    expect(allowed(p, web, named, 9187)).toBe(false);
    expect(allowed(onPorts([{ port: 5432 }]), web, named, "postgres")).toBe(true);
  });

  it("resolves an egress rule's named port against the destination pod, not the source", () => {
    const egress = policy("apps", "web-egress", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [{ ports: [{ port: "https" }] }],
    });
    const source = pod("apps", { app: "web" }, { namedPorts: { https: 9443 } });
    const target = pod("data", { app: "db" }, { namedPorts: { https: 8443 } });
    expect(allowed([egress], source, target, 8443)).toBe(true);
    expect(allowed([egress], source, target, 9443)).toBe(false);
  });

  it("defaults the protocol to TCP and tells UDP from TCP", () => {
    const dns = onPorts([{ protocol: "UDP", port: 53 }]);
    expect(allowed(dns, web, db, 53, "UDP")).toBe(true);
    expect(allowed(dns, web, db, 53)).toBe(false);
    const tcpDefault = onPorts([{ port: 53 }]);
    expect(allowed(tcpDefault, web, db, 53)).toBe(true);
    expect(allowed(tcpDefault, web, db, 53, "UDP")).toBe(false);
    expect(allowed(tcpDefault, web, db, 53, "SCTP")).toBe(false);
  });

  it("reads a port entry without a port as every port of its protocol", () => {
    const allUdp = onPorts([{ protocol: "UDP" }]);
    expect(allowed(allUdp, web, db, 4000, "UDP")).toBe(true);
    expect(allowed(allUdp, web, db, 4000, "TCP")).toBe(false);
  });
});

describe("rules and policies", () => {
  it("ORs rules within a policy and unions separate policies, naming the one that allowed", () => {
    const fromWeb = ingressTo([{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 80 }] }]);
    const second = policy("data", "db-batch", {
      podSelector: { matchLabels: { app: "db" } },
      ingress: [{ ports: [{ port: 9 }] }, { from: [{ podSelector: { matchLabels: { app: "batch" } } }], ports: [{ port: 81 }] }],
    });
    const batch = pod("data", { app: "batch" });
    expect(allowed([fromWeb, second], webInData, db, 80)).toBe(true);
    expect(allowed([fromWeb, second], webInData, db, 81)).toBe(false);
    const v = canConnect([fromWeb, second], namespaces, batch, db, 81);
    expect(v).toEqual({ allowed: true, reason: expect.stringContaining("allowed by NetworkPolicy data/db-batch ingress rule #1") });
    expect(allowed([fromWeb, second], batch, db, 80)).toBe(false);
    expect(allowed([fromWeb], batch, db, 81)).toBe(false);
  });

  it("names every isolating policy in a denial", () => {
    const a = ingressTo([{ ports: [{ port: 1 }] }]);
    const b = policy("data", "deny-all", { podSelector: {}, policyTypes: ["Ingress"] });
    const v = canConnect([a, b], namespaces, web, db, 2);
    expect(v.allowed).toBe(false);
    expect(v.reason).toContain("isolated for ingress by NetworkPolicy data/db-ingress, NetworkPolicy data/deny-all");
  });
});

describe("ipBlock", () => {
  const egress = policy("apps", "web-egress", {
    podSelector: { matchLabels: { app: "web" } },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }], ports: [{ port: 443 }] }],
  });

  it("allows egress inside the CIDR and not in its except ranges", () => {
    expect(allowed([egress], web, ip("10.0.0.1"), 443)).toBe(true);
    expect(allowed([egress], web, ip("10.255.255.255"), 443)).toBe(true);
    expect(allowed([egress], web, ip("10.1.2.3"), 443)).toBe(false);
    expect(allowed([egress], web, ip("11.0.0.1"), 443)).toBe(false);
    expect(allowed([egress], web, ip("10.0.0.1"), 80)).toBe(false);
  });

  it("matches a pod only when its IP is given", () => {
    expect(allowed([egress], web, db, 443)).toBe(false);
    expect(allowed([egress], web, pod("data", { app: "db" }, { ip: "10.2.0.7" }), 443)).toBe(true);
    expect(allowed([egress], web, pod("data", { app: "db" }, { ip: "10.1.0.7" }), 443)).toBe(false);
  });

  it("matches ingress from an outside address", () => {
    const p = ingressTo([{ from: [{ ipBlock: { cidr: "192.168.1.0/24" } }] }]);
    expect(allowed([p], ip("192.168.1.200"), db)).toBe(true);
    expect(allowed([p], ip("192.168.2.1"), db)).toBe(false);
    expect(allowed([p], web, db)).toBe(false);
  });

  it("handles /0, /32, host bits and IPv6 CIDRs", () => {
    expect(ipBlockContains({ cidr: "0.0.0.0/0" }, "203.0.113.5")).toBe(true);
    expect(ipBlockContains({ cidr: "10.0.0.1/32" }, "10.0.0.1")).toBe(true);
    expect(ipBlockContains({ cidr: "10.0.0.1/32" }, "10.0.0.2")).toBe(false);
    expect(ipBlockContains({ cidr: "10.0.0.77/24" }, "10.0.0.3")).toBe(true);
    expect(ipBlockContains({ cidr: "172.16.0.0/12" }, "172.32.0.1")).toBe(false);
    expect(ipBlockContains({ cidr: "::/0" }, "10.0.0.1")).toBe(false);
    expect(() => ipBlockContains({ cidr: "10.0.0.0" }, "10.0.0.1")).toThrow(/bad CIDR/);
    expect(() => ipBlockContains({ cidr: "10.0.0.0/8" }, "fd00::1")).toThrow(/IPv6/);
  });
});

describe("Strimzi 1.2.0 broker NetworkPolicy", () => {
  const kafka: StrimziKafka = {
    metadata: { name: "events", namespace: "kafka" },
    spec: {
      kafka: {
        listeners: [
          { name: "plain", port: 9092 },
          {
            name: "tls",
            port: 9093,
            networkPolicyPeers: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } },
                podSelector: { matchLabels: { app: "web" } },
              },
            ],
          },
        ],
      },
    },
  };
  const nsList: NamespaceInfo[] = [
    ...namespaces,
    { name: "kafka", labels: {} },
    { name: "strimzi", labels: { "strimzi.io/operator": "yes" } },
  ];
  const broker = pod("kafka", strimziKafkaPodLabels("events", "brokers", { broker: true, controller: false }));
  const controller = pod("kafka", strimziKafkaPodLabels("events", "controllers", { broker: false, controller: true }));
  const entityOperator = pod("kafka", { "strimzi.io/name": "events-entity-operator" });
  const operatorPod = pod("strimzi", STRIMZI_CLUSTER_OPERATOR_POD_LABELS);
  const appInKafkaNs = pod("kafka", { app: "web" });
  const reach = (policies: NetworkPolicyObject[], from: Endpoint, to: Endpoint, port: number) =>
    canConnect(policies, nsList, from, to, port).allowed;
  const policies = strimziListenerPolicies(kafka);

  it("is one policy named after the cluster, selecting the pods of every node pool", () => {
    expect(policies).toHaveLength(1);
    const [p] = policies;
    expect(p!.metadata).toEqual({ name: "events-network-policy-kafka", namespace: "kafka" });
    expect(p!.spec.policyTypes).toBeUndefined();
    expect(p!.spec.podSelector).toEqual({
      matchLabels: { "strimzi.io/cluster": "events", "strimzi.io/name": "events-kafka", "strimzi.io/kind": "Kafka" },
    });
    expect(p!.spec.ingress!.map((r) => r.ports![0]!.port)).toEqual([9090, 9091, 8443, 9092, 9093]);
    expect(reach(policies, web, controller, 9092)).toBe(true); // controllers are selected too
    expect(reach(policies, web, pod("kafka", { "strimzi.io/cluster": "events" }), 9091)).toBe(true); // not a Kafka pod
  });

  it("lets a client listed in networkPolicyPeers reach the TLS listener and keeps others out", () => {
    expect(reach(policies, web, broker, 9093)).toBe(true);
    const v = canConnect(policies, nsList, api, broker, 9093);
    expect(v.allowed).toBe(false);
    expect(v.reason).toContain("NetworkPolicy kafka/events-network-policy-kafka");
    expect(reach(policies, webInOther, broker, 9093)).toBe(false);
    expect(reach(policies, appInKafkaNs, broker, 9093)).toBe(false);
  });

  it("opens a listener without networkPolicyPeers to everyone, and closes unlisted ports", () => {
    expect(reach(policies, webInOther, broker, 9092)).toBe(true);
    expect(reach(policies, ip("203.0.113.7"), broker, 9092)).toBe(true);
    expect(reach(policies, web, broker, 9094)).toBe(false);
    expect(reach(policies, web, broker, STRIMZI_KAFKA_PORTS.metrics)).toBe(false); // no metricsConfig
  });

  it("keeps replication and control-plane ports to the cluster's own components", () => {
    expect(reach(policies, appInKafkaNs, broker, 9091)).toBe(false);
    expect(reach(policies, web, broker, 9091)).toBe(false);
    expect(reach(policies, controller, broker, 9091)).toBe(true);
    expect(reach(policies, entityOperator, broker, 9091)).toBe(true);
    expect(reach(policies, pod("apps", { "strimzi.io/name": "events-entity-operator" }), broker, 9091)).toBe(false);
    expect(reach(policies, broker, controller, 9090)).toBe(true);
    expect(reach(policies, entityOperator, controller, 9090)).toBe(false);
    expect(reach(policies, appInKafkaNs, broker, 9090)).toBe(false);
    expect(reach(policies, entityOperator, broker, 8443)).toBe(false);
  });

  it("admits the cluster operator from any namespace unless told where it runs", () => {
    expect(reach(policies, operatorPod, broker, 8443)).toBe(true);
    expect(reach(policies, operatorPod, broker, 9090)).toBe(true);
    const sameNs = strimziListenerPolicies(kafka, { operatorNamespace: "kafka" });
    expect(reach(sameNs, operatorPod, broker, 8443)).toBe(false);
    expect(reach(sameNs, pod("kafka", STRIMZI_CLUSTER_OPERATOR_POD_LABELS), broker, 8443)).toBe(true);
    const labelled = strimziListenerPolicies(kafka, {
      operatorNamespace: "strimzi",
      operatorNamespaceLabels: { "strimzi.io/operator": "yes" },
    });
    expect(reach(labelled, operatorPod, broker, 9091)).toBe(true);
    expect(reach(labelled, pod("other", STRIMZI_CLUSTER_OPERATOR_POD_LABELS), broker, 9091)).toBe(false);
  });

  it("opens the metrics and JMX ports to all only when configured", () => {
    const withMetrics = strimziListenerPolicies({
      ...kafka,
      spec: { kafka: { ...kafka.spec.kafka, metricsConfig: { type: "jmxPrometheusExporter" }, jmxOptions: {} } },
    });
    expect(reach(withMetrics, webInOther, broker, 9404)).toBe(true);
    expect(reach(withMetrics, webInOther, broker, 9999)).toBe(true);
    expect(reach(policies, webInOther, broker, 9999)).toBe(false);
  });

  it("labels node-pool pods as Strimzi does", () => {
    expect(strimziKafkaPodLabels("events", "brokers", { broker: true, controller: false })).toMatchObject({
      "strimzi.io/cluster": "events",
      "strimzi.io/kind": "Kafka",
      "strimzi.io/name": "events-kafka",
      "strimzi.io/pool-name": "brokers",
      "strimzi.io/broker-role": "true",
      "strimzi.io/controller-role": "false",
    });
  });
});
