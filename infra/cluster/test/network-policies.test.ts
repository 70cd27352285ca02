/**
 * Who may reach whom, computed from the NetworkPolicies every committed stack renders plus the
 * one Strimzi generates from the Kafka CR's listeners (modelled in test/validate/network-reach.ts):
 * every namespace the platform owns denies both ways by default; each workload reaches what it
 * needs (Kafka, DNS in kube-system, the API server at the stack's CIDR, Prometheus) and nothing else.
 */
import { LITMUS_OPERATOR_POD_LABELS } from "../../../chaos/litmus-operator";
import { CA_SYNC } from "../../kafka/ca-sync-spec";
import { knownStacks, renderStack, type KubernetesObject } from "../../render/render";
import { networkPlan } from "../network-plan";
import { allowEgress, defaultDeny, dnsEgressRule, httpEndpointEgressRule } from "../../kit/network-spec";
import { parsePlatformConfig } from "../../config";
import { committedConfig, rawStack, variantProblems } from "../../../test/helpers";
import { ARGO_ROLLOUTS_CONTROLLER_POD_LABELS } from "../../../observability/spec";
import {
  type Endpoint,
  type NamespaceInfo,
  type NetworkPolicyObject,
  type StrimziKafka,
  STRIMZI_CLUSTER_OPERATOR_POD_LABELS,
  canConnect,
  strimziKafkaPodLabels,
  strimziListenerPolicies,
} from "../../../test/validate/network-reach";

const pod = (namespace: string, labels: Record<string, string> = {}): Endpoint => ({ pod: { namespace, labels } });

describe.each(knownStacks())("stack %s: network reachability", (stack) => {
  let reach: (from: Endpoint, to: Endpoint, port: number, protocol?: "TCP" | "UDP") => boolean;
  let operator: Endpoint;
  let broker: Endpoint;
  let kafkaNs: string;
  // queue-manager's Jobs set no labels; the Job controller adds these to their pods.
  const appJob = pod("stf", {
    "batch.kubernetes.io/job-name": "loader-7f3a",
    "batch.kubernetes.io/controller-uid": "u1",
    "job-name": "loader-7f3a",
  });
  const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
  const stranger = pod("default", { app: "curious" });
  const dns = pod("kube-system", { "k8s-app": "kube-dns" });
  const network = committedConfig(stack).network!;
  const apiServer: Endpoint = { ip: network.apiServerCidr.split("/")[0]! };
  const apiPort = network.apiServerPorts[0]!;

  beforeAll(async () => {
    const { manifests } = await renderStack(stack);
    const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
    const kafka = ofKind("Kafka")[0] as unknown as StrimziKafka & KubernetesObject;
    kafkaNs = kafka.metadata.namespace!;
    const pools = ofKind("KafkaNodePool") as unknown as { metadata: { name: string }; spec: { roles: string[] } }[];
    const brokerPool = pools.find((p) => p.spec.roles.includes("broker"))!;
    broker = pod(
      kafkaNs,
      strimziKafkaPodLabels(kafka.metadata.name, brokerPool.metadata.name, {
        broker: true,
        controller: brokerPool.spec.roles.includes("controller"),
      }),
    );
    const deployment = ofKind("Deployment").find((d) => d.metadata.name === "streamforge-self-healing-operator") as any;
    operator = pod(deployment.metadata.namespace, deployment.spec.template.metadata.labels);
    const policies = [...(ofKind("NetworkPolicy") as unknown as NetworkPolicyObject[]), ...strimziListenerPolicies(kafka)];
    const namespaces: NamespaceInfo[] = ofKind("Namespace").map((n) => ({
      name: n.metadata.name,
      labels: { ...((n.metadata.labels as Record<string, string>) ?? {}), "kubernetes.io/metadata.name": n.metadata.name },
    }));
    reach = (from, to, port, protocol = "TCP") => canConnect(policies, namespaces, from, to, port, protocol).allowed;
  });

  it("lets the operator reach Kafka's TLS listener, DNS and the API server, and nothing else", () => {
    expect(reach(operator, broker, 9093)).toBe(true);
    expect(reach(operator, dns, 53, "UDP")).toBe(true);
    expect(reach(operator, apiServer, apiPort)).toBe(true);
    expect(reach(operator, broker, 9091)).toBe(false); // Strimzi's replication port
    expect(reach(operator, broker, 9092)).toBe(false); // the plain listener, where there is one
    expect(reach(operator, stranger, 80)).toBe(false);
    expect(reach(operator, { ip: "1.1.1.1" }, 80)).toBe(false);
  });

  it("lets the apps reach Kafka's TLS listener, and strangers not", () => {
    expect(reach(appJob, broker, 9093)).toBe(true);
    expect(reach(stranger, broker, 9093)).toBe(false);
    expect(reach(appJob, broker, 9091)).toBe(false);
  });

  it("lets only the monitoring namespace reach the operator, on its metrics port only", () => {
    expect(reach(prometheus, operator, 8080)).toBe(true);
    expect(reach(prometheus, operator, 8081)).toBe(false);
    expect(reach(appJob, operator, 8080)).toBe(false);
    expect(reach(stranger, operator, 8080)).toBe(false);
  });

  it("opens queue-manager's port to Prometheus and its ingress namespaces only, where the stack has the canary", () => {
    const queueManager = pod("stf", { "app.kubernetes.io/name": "queue-manager", "rollouts-pod-template-hash": "abc" });
    if (stack === "local-kafka-api") {
      expect(reach(prometheus, queueManager, 8080)).toBe(false); // no canary: the default deny holds
      return;
    }
    expect(reach(prometheus, queueManager, 8080)).toBe(true);
    expect(reach(stranger, queueManager, 8080)).toBe(false);
    expect(reach(appJob, queueManager, 8080)).toBe(false);
    expect(reach(pod("istio-ingress", { istio: "ingressgateway" }), queueManager, 8080)).toBe(stack === "dev" || stack === "prod");
  });

  it("denies ingress to the apps and to Kafka's other pods by default; Prometheus scrapes the brokers", () => {
    expect(reach(stranger, appJob, 8080)).toBe(false);
    expect(reach(prometheus, broker, 9404)).toBe(true);
    expect(reach(stranger, pod(kafkaNs, { "strimzi.io/name": "k3-entity-operator" }), 8080)).toBe(false);
  });
});

describe("prod's external listener", () => {
  it("admits its allowed source ranges and nobody else", async () => {
    const { manifests } = await renderStack("prod");
    const kafka = manifests.find((m) => m.kind === "Kafka") as unknown as StrimziKafka;
    const broker = pod("kafka", strimziKafkaPodLabels("k3", "brokers", { broker: true, controller: false }));
    const policies = [
      ...(manifests.filter((m) => m.kind === "NetworkPolicy") as unknown as NetworkPolicyObject[]),
      ...strimziListenerPolicies(kafka),
    ];
    expect(canConnect(policies, [], { ip: "198.51.100.7" }, broker, 9094).allowed).toBe(true);
    expect(canConnect(policies, [], { ip: "8.8.8.8" }, broker, 9094).allowed).toBe(false);
  });
});

/** Each workload of each committed stack, both ways: what it needs is open, the rest is denied. */
describe.each(knownStacks())("stack %s: default-deny both ways", (stack) => {
  const config = committedConfig(stack);
  const network = config.network!;
  const c = config.kafka.clusterName;
  const kafkaNs = config.kafka.namespace;
  let reach: (from: Endpoint, to: Endpoint, port: number, protocol?: "TCP" | "UDP") => boolean;
  let manifests: KubernetesObject[];

  const apiServer: Endpoint = { ip: network.apiServerCidr.split("/")[0]! };
  const apiPort = network.apiServerPorts[0]!;
  const internet: Endpoint = { ip: "1.1.1.1" };
  const elsewhere: Endpoint = { ip: "10.9.9.9" }; // inside the cluster's private range, not the API server
  const dns = pod("kube-system", { "k8s-app": "kube-dns" });
  const fakeDnsInApps = pod("stf", { "k8s-app": "kube-dns" });
  const fakeDnsElsewhere = pod("default", { "k8s-app": "kube-dns" });
  const stranger = pod("default", { app: "curious" });
  const monitoring = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
  const worker = pod("stf", { "batch.kubernetes.io/job-name": "arango-connector-1", "job-name": "arango-connector-1" });
  const queueManager = pod("stf", { "app.kubernetes.io/name": "queue-manager", "rollouts-pod-template-hash": "abc" });
  const operator = pod("stf", {
    "app.kubernetes.io/name": "streamforge-self-healing-operator",
    "app.kubernetes.io/part-of": "streamforge",
  });
  const pools = config.kafka.nodePools;
  const brokerPool = pools.find((p) => p.roles.includes("broker"))!;
  const controllerPool = pools.find((p) => p.roles.includes("controller"))!;
  const roles = (p: (typeof pools)[number]) => ({ broker: p.roles.includes("broker"), controller: p.roles.includes("controller") });
  const broker = pod(kafkaNs, strimziKafkaPodLabels(c, brokerPool.name, roles(brokerPool)));
  const controller = pod(kafkaNs, strimziKafkaPodLabels(c, controllerPool.name, roles(controllerPool)));
  // Strimzi's labels on the entity operator and Kafka Exporter pods (no strimzi.io/name=<c>-kafka).
  const entityOperator = pod(kafkaNs, { "strimzi.io/cluster": c, "strimzi.io/kind": "Kafka", "strimzi.io/name": `${c}-entity-operator` });
  const kafkaExporter = pod(kafkaNs, { "strimzi.io/cluster": c, "strimzi.io/kind": "Kafka", "strimzi.io/name": `${c}-kafka-exporter` });
  const clusterOperator = pod(config.strimzi.namespace, STRIMZI_CLUSTER_OPERATOR_POD_LABELS);
  const rollouts = config.rollouts?.enabled ? config.rollouts : undefined;
  const argo = pod(rollouts?.controller.namespace ?? "argo-rollouts", {
    "app.kubernetes.io/name": "argo-rollouts",
    "app.kubernetes.io/instance": "argo-rollouts",
  });
  const chaos = config.chaos?.enabled ? config.chaos : undefined;
  const litmus = pod(chaos?.namespace ?? "chaos", LITMUS_OPERATOR_POD_LABELS);
  const runner = pod(chaos?.namespace ?? "chaos", { app: "loader-pod-delete", chaosUID: "u2" });
  const experiment = pod(chaos?.namespace ?? "chaos", {
    name: "pod-delete",
    "app.kubernetes.io/part-of": "litmus",
    "app.kubernetes.io/component": "experiment-job",
    "job-name": "pod-delete-x",
  });
  /** Where a stack's Prometheus answers: a Service's pods in its namespace, or a fixed address. */
  const prometheusAt = (url: string): [Endpoint, number] => {
    const u = new URL(url);
    const host = u.hostname;
    return [
      /^\d+\.\d+\.\d+\.\d+$/.test(host) ? { ip: host } : pod(host.split(".")[1]!, { "app.kubernetes.io/name": "prometheus" }),
      Number(u.port),
    ];
  };

  beforeAll(async () => {
    ({ manifests } = await renderStack(stack));
    const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
    const kafka = ofKind("Kafka")[0] as unknown as StrimziKafka;
    const policies = [...(ofKind("NetworkPolicy") as unknown as NetworkPolicyObject[]), ...strimziListenerPolicies(kafka)];
    const namespaces: NamespaceInfo[] = ofKind("Namespace").map((n) => ({
      name: n.metadata.name,
      labels: (n.metadata.labels as Record<string, string>) ?? {},
    }));
    reach = (from, to, port, protocol = "TCP") => canConnect(policies, namespaces, from, to, port, protocol).allowed;
  });

  it("denies both ways by default in every namespace it creates, and lets each but the relaunch guard's resolve names at the cluster DNS only", () => {
    const owned = manifests
      .filter((m) => m.kind === "Namespace")
      .map((n) => n.metadata.name)
      .sort();
    const denied = manifests
      .filter((m) => m.kind === "NetworkPolicy" && m.metadata.name === "default-deny")
      .map((p) => {
        expect((p as any).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        return p.metadata.namespace!;
      })
      .sort();
    expect(denied).toEqual(owned);
    for (const ns of owned) {
      const anyPod = pod(ns, { app: "anything" });
      // The relaunch guard reaches the API server by address: its namespace needs no DNS.
      const resolves = ns !== (config.operator?.enabled ? `${config.apps.namespace}-relaunch-guard` : undefined);
      expect([ns, reach(anyPod, dns, 53, "UDP"), reach(anyPod, dns, 53, "TCP")]).toEqual([ns, resolves, resolves]);
      expect(reach(anyPod, fakeDnsInApps, 53, "UDP")).toBe(false);
      expect(reach(anyPod, fakeDnsElsewhere, 53, "UDP")).toBe(false);
      expect(reach(anyPod, internet, 443)).toBe(false);
      expect(reach(anyPod, apiServer, apiPort)).toBe(ns === config.chaos?.namespace); // only where every pod needs it
      expect(reach(stranger, anyPod, 8080)).toBe(false);
    }
  });

  it("lets the worker Jobs reach Kafka's TLS listener and DNS only", () => {
    expect(reach(worker, broker, 9093)).toBe(true);
    expect(reach(worker, dns, 53, "UDP")).toBe(true);
    expect(reach(worker, broker, 9091)).toBe(false);
    expect(reach(worker, apiServer, apiPort)).toBe(false);
    expect(reach(worker, operator, 8080)).toBe(false);
    expect(reach(worker, queueManager, 8080)).toBe(false);
    expect(reach(worker, internet, 443)).toBe(false);
    expect(reach(worker, fakeDnsInApps, 53, "UDP")).toBe(false);
  });

  it("lets queue-manager reach the API server and Kafka, where the stack has it", () => {
    expect(reach(queueManager, apiServer, apiPort)).toBe(rollouts !== undefined);
    expect(reach(queueManager, broker, 9093)).toBe(rollouts !== undefined);
    expect(reach(queueManager, elsewhere, apiPort)).toBe(false);
    expect(reach(queueManager, broker, 9091)).toBe(false);
    expect(reach(queueManager, internet, 443)).toBe(false);
    expect(reach(queueManager, operator, 8080)).toBe(false);
  });

  it("lets Kafka's nodes reach each other on the quorum and replication ports, and the API server only for rack awareness", () => {
    expect(reach(broker, controller, 9090)).toBe(true);
    expect(reach(controller, controller, 9090)).toBe(true);
    expect(reach(broker, broker, 9091)).toBe(true);
    expect(reach(broker, apiServer, apiPort)).toBe(config.kafka.rackTopologyKey !== undefined);
    expect(reach(broker, worker, 8080)).toBe(false);
    expect(reach(broker, internet, 443)).toBe(false);
    expect(reach(entityOperator, apiServer, apiPort)).toBe(true);
    expect(reach(entityOperator, broker, 9091)).toBe(true);
    expect(reach(entityOperator, broker, 9093)).toBe(false);
    expect(reach(entityOperator, internet, 443)).toBe(false);
    expect(reach(kafkaExporter, broker, 9091)).toBe(config.kafka.metrics.kafkaExporter);
    expect(reach(kafkaExporter, apiServer, apiPort)).toBe(false);
  });

  it("lets Strimzi's cluster operator reach the API server and Kafka's operator ports, where the stack installs it", () => {
    if (!config.strimzi.install) {
      // It runs elsewhere, under someone else's policies: nothing of ours names its namespace.
      expect(manifests.some((m) => m.kind === "NetworkPolicy" && m.metadata.namespace === config.strimzi.namespace)).toBe(false);
      return;
    }
    for (const port of [9090, 9091, 8443]) expect(reach(clusterOperator, broker, port)).toBe(true);
    expect(reach(clusterOperator, apiServer, apiPort)).toBe(true);
    expect(reach(clusterOperator, broker, 9093)).toBe(false);
    expect(reach(clusterOperator, worker, 8080)).toBe(false);
    expect(reach(clusterOperator, internet, 443)).toBe(false);
    expect(reach(stranger, clusterOperator, 8080)).toBe(false);
  });

  it("lets the Kafka CA syncer reach the API server only, where the stack runs it", () => {
    const caSync = pod(kafkaNs, { "app.kubernetes.io/name": CA_SYNC, "app.kubernetes.io/part-of": "streamforge" });
    const runs = manifests.some((m) => m.kind === "CronJob" && m.metadata.name === CA_SYNC);
    expect(runs).toBe(stack === "dev" || stack === "prod");
    expect(reach(caSync, apiServer, apiPort)).toBe(runs);
    for (const port of [9090, 9091, 9093]) expect(reach(caSync, broker, port)).toBe(false);
    expect(reach(caSync, internet, 443)).toBe(false);
    expect(reach(caSync, elsewhere, apiPort)).toBe(false);
  });

  it("lets the Argo Rollouts controller reach the API server and the analysis' Prometheus, where the stack installs it", () => {
    if (!rollouts?.controller.install) {
      expect(
        manifests.some((m) => m.kind === "NetworkPolicy" && m.metadata.namespace === (rollouts?.controller.namespace ?? "argo-rollouts")),
      ).toBe(false);
      return;
    }
    const [prometheus, port] = prometheusAt(rollouts.analysis.prometheusAddress);
    expect(reach(argo, apiServer, apiPort)).toBe(true);
    expect(reach(argo, prometheus, port)).toBe(true);
    expect(reach(argo, broker, 9093)).toBe(false);
    expect(reach(argo, internet, 443)).toBe(false);
    expect(reach(monitoring, argo, 8090)).toBe(config.observability.enabled);
    expect(reach(stranger, argo, 8090)).toBe(false);
  });

  it("lets the chaos pods reach the API server, the experiments Prometheus, and never Kafka or the apps", () => {
    if (!chaos) return;
    const [prometheus, port] = prometheusAt(chaos.prometheusAddress);
    expect(reach(runner, apiServer, apiPort)).toBe(true);
    expect(reach(experiment, apiServer, apiPort)).toBe(true);
    expect(reach(experiment, prometheus, port)).toBe(true);
    expect(reach(runner, prometheus, port)).toBe(false);
    for (const p of [runner, experiment]) {
      for (const kafkaPort of [9090, 9091, 9092, 9093]) expect(reach(p, broker, kafkaPort)).toBe(false);
      expect(reach(p, worker, 8080)).toBe(false);
      expect(reach(p, operator, 8080)).toBe(false);
      expect(reach(p, internet, 443)).toBe(false);
    }
    if (!chaos.operator.install) return; // the operator runs elsewhere, under someone else's policies
    expect(reach(litmus, apiServer, apiPort)).toBe(true);
    expect(reach(litmus, internet, 443)).toBe(false);
    expect(reach(litmus, broker, 9093)).toBe(false);
  });
});

describe("the network baseline's shapes", () => {
  it("allows DNS to kube-system's kube-dns only, both selectors in one peer, UDP and TCP 53", () => {
    expect(dnsEgressRule()).toEqual({
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });
  });

  it("turns an http(s) address into a peer a NetworkPolicy can name, or refuses it", () => {
    const ns = (n: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } });
    expect(httpEndpointEgressRule("http://prometheus-operated.monitoring:9090", "x")).toEqual({
      to: [ns("monitoring")],
      ports: [{ protocol: "TCP", port: 9090 }],
    });
    expect(httpEndpointEgressRule("https://prom.monitoring.svc.cluster.local", "x")).toEqual({
      to: [ns("monitoring")],
      ports: [{ protocol: "TCP", port: 443 }],
    });
    expect(httpEndpointEgressRule("http://prometheus:9090", "chaos")).toEqual({
      to: [ns("chaos")],
      ports: [{ protocol: "TCP", port: 9090 }],
    });
    expect(httpEndpointEgressRule("http://127.0.0.1:19090", "x")).toEqual({
      to: [{ ipBlock: { cidr: "127.0.0.1/32" } }],
      ports: [{ protocol: "TCP", port: 19090 }],
    });
    expect(httpEndpointEgressRule("https://prometheus.example.com", "x")).toBeUndefined();
    expect(httpEndpointEgressRule("not a url", "x")).toBeUndefined();
  });

  it("opens a configured worker egress (e.g. ArangoDB) to the worker Jobs only", () => {
    const raw = structuredClone(rawStack("dev")) as any;
    raw.apps = {
      ...raw.apps,
      workerEgress: [
        {
          name: "arangodb",
          ports: [8529],
          to: [{ cidr: "10.20.0.0/24" }, { namespace: "arangodb", podLabels: { arango_deployment: "db" } }],
        },
      ],
    };
    const plan = networkPlan(parsePlatformConfig(raw), { clientNamespaces: ["stf"], caSync: false });
    const policies = [...plan.denyIn.map(defaultDeny), ...plan.egress.map(allowEgress)] as unknown as NetworkPolicyObject[];
    const reach = (from: Endpoint, to: Endpoint, port: number) => canConnect(policies, [], from, to, port).allowed;
    const worker = pod("stf", { "batch.kubernetes.io/job-name": "arango-connector-1" });
    expect(reach(worker, { ip: "10.20.0.7" }, 8529)).toBe(true);
    expect(reach(worker, pod("arangodb", { arango_deployment: "db" }), 8529)).toBe(true);
    expect(reach(worker, pod("arangodb", { app: "other" }), 8529)).toBe(false);
    expect(reach(worker, { ip: "10.20.0.7" }, 22)).toBe(false);
    expect(reach(worker, { ip: "10.21.0.7" }, 8529)).toBe(false);
    expect(reach(pod("stf", { "app.kubernetes.io/name": "queue-manager" }), { ip: "10.20.0.7" }, 8529)).toBe(false);
  });

  it("opens the Gateway API plugin's download to the Argo controller only, on 443, and prod refuses a wide range", () => {
    const gateway = (raw: any, downloadFrom: string[]) =>
      (raw.rollouts.router = {
        type: "gateway-api",
        gateway: { name: "public", namespace: "gateway" },
        plugin: { version: "v0.15.0", location: "https://x/plugin", sha256: "a".repeat(64), downloadFrom },
      });
    const raw = structuredClone(rawStack("dev")) as any;
    gateway(raw, ["140.82.112.0/20"]);
    const config = parsePlatformConfig(raw);
    const plan = networkPlan(config, { clientNamespaces: ["stf"], caSync: false });
    const policies = [...plan.denyIn.map(defaultDeny), ...plan.egress.map(allowEgress)] as unknown as NetworkPolicyObject[];
    const reach = (from: Endpoint, to: Endpoint, port: number) => canConnect(policies, [], from, to, port).allowed;
    const controller = pod(config.rollouts!.controller.namespace, ARGO_ROLLOUTS_CONTROLLER_POD_LABELS);
    expect(reach(controller, { ip: "140.82.114.3" }, 443)).toBe(true);
    expect(reach(controller, { ip: "140.82.114.3" }, 80)).toBe(false);
    expect(reach(controller, { ip: "8.8.8.8" }, 443)).toBe(false);
    expect(reach(pod(config.rollouts!.controller.namespace, { app: "other" }), { ip: "140.82.114.3" }, 443)).toBe(false);
    expect(variantProblems("prod", (r) => gateway(r, ["140.0.0.0/8"]))).toEqual([
      'streamforge:rollouts.router.plugin.downloadFrom[0]: prod: expected an egress range of /16 or narrower (streamforge:network.minEgressPrefixLength); found "140.0.0.0/8"',
    ]);
  });
});
