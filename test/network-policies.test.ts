/**
 * Who may reach whom, computed from the NetworkPolicies every committed stack renders plus the
 * one Strimzi generates from the Kafka CR's listeners (modelled in infra/validate/network-reach.ts):
 * the operator reaches Kafka's TLS listener, DNS and the API server and nothing else; the apps
 * reach Kafka; only the monitoring namespace reaches the operator, on its metrics port.
 */
import { knownStacks, renderStack, type KubernetesObject } from "../infra/render/render";
import {
  type Endpoint,
  type NamespaceInfo,
  type NetworkPolicyObject,
  type StrimziKafka,
  canConnect,
  strimziKafkaPodLabels,
  strimziListenerPolicies,
} from "../infra/validate/network-reach";

const pod = (namespace: string, labels: Record<string, string> = {}): Endpoint => ({ pod: { namespace, labels } });

describe.each(knownStacks())("stack %s: network reachability", (stack) => {
  let reach: (from: Endpoint, to: Endpoint, port: number, protocol?: "TCP" | "UDP") => boolean;
  let operator: Endpoint;
  let broker: Endpoint;
  let kafkaNs: string;
  const appJob = pod("stf"); // queue-manager's Jobs carry no labels
  const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
  const stranger = pod("default", { app: "curious" });
  const dns = pod("kube-system", { "k8s-app": "kube-dns" });
  const apiServer: Endpoint = { ip: "10.0.0.2" };

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
    expect(reach(operator, apiServer, 443)).toBe(true);
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
