/**
 * Every custom resource `render` writes for every committed stack validates against the
 * upstream CRDs (../shared/crds or $STREAMFORGE_CRDS_DIR), unknown fields included; and the
 * validator itself rejects what the API server would reject.
 */
import { knownStacks, renderStack, type RenderResult } from "../infra/render/render";
import { CrdCatalog, celPropertyName, rewriteIndexedHas } from "./validate/crd-schema";

const catalog = CrdCatalog.load();
const rendered = new Map<string, RenderResult>();

beforeAll(async () => {
  for (const stack of knownStacks()) rendered.set(stack, await renderStack(stack));
});

/** Every custom resource kind the program declares, by API group: each must validate against its upstream CRD. */
const DECLARED_KINDS: Record<string, string[]> = {
  "kafka.strimzi.io/v1": ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"],
  "argoproj.io/v1alpha1": ["Rollout", "AnalysisTemplate"],
  "networking.istio.io/v1": ["VirtualService"],
  "gateway.networking.k8s.io/v1": ["HTTPRoute"],
  "monitoring.coreos.com/v1": ["PodMonitor", "PrometheusRule"],
  "litmuschaos.io/v1alpha1": ["ChaosExperiment", "ChaosEngine"],
};

describe("rendered custom resources validate against the upstream CRDs", () => {
  it("loads the Strimzi, Argo Rollouts, Litmus, Istio, Gateway API and prometheus-operator CRDs", () => {
    expect(catalog.size).toBeGreaterThanOrEqual(18);
    for (const apiVersion of Object.keys(DECLARED_KINDS)) expect([apiVersion, catalog.coversGroup(apiVersion)]).toEqual([apiVersion, true]);
  });

  it.each(knownStacks())("stack %s", (stack) => {
    const result = rendered.get(stack)!;
    const custom = result.manifests.filter((m) => catalog.coversGroup(m.apiVersion));
    expect(custom.map((m) => m.kind)).toEqual(expect.arrayContaining(["Kafka", "KafkaNodePool"]));
    expect(custom.filter((m) => !DECLARED_KINDS[m.apiVersion]?.includes(m.kind))).toEqual([]);
    expect(custom.flatMap((m) => catalog.validate(m))).toEqual([]);
  });

  it("the canary's objects of every stack that has one validate, the Gateway API router's included", async () => {
    const withCanary = [...rendered.values()].filter((r) => r.manifests.some((m) => m.kind === "Rollout"));
    expect(withCanary.map((r) => r.stack).sort()).toEqual(["dev", "local", "prod"]);
    const gateway = await renderStack("dev", {
      edit: (raw) => {
        (raw.rollouts as any).router = {
          type: "gateway-api",
          gateway: { name: "public", namespace: "gateway" },
          hostnames: ["queue-manager.example"],
          plugin: { version: "v0.15.0", location: "file://plugin-bin/gatewayapi-plugin", sha256: "0".repeat(64) },
        };
      },
    });
    const route = gateway.manifests.filter((m) => m.kind === "HTTPRoute");
    expect(route).toHaveLength(1);
    expect(gateway.manifests.flatMap((m) => (catalog.coversGroup(m.apiVersion) ? catalog.validate(m) : []))).toEqual([]);
  });

  it("every committed stack declares a Kafka CR and at least one node pool", () => {
    for (const [stack, result] of rendered) {
      const kinds = new Set(result.manifests.map((m) => m.kind));
      expect([stack, kinds.has("Kafka"), kinds.has("KafkaNodePool")]).toEqual([stack, true, true]);
    }
  });
});

describe("the validator rejects what the API server rejects", () => {
  const kafkaOf = (stack: string) => structuredClone(rendered.get(stack)!.manifests.find((m) => m.kind === "Kafka")!) as any;
  const userOf = (stack: string) => structuredClone(rendered.get(stack)!.manifests.find((m) => m.kind === "KafkaUser")!) as any;

  it("an unknown field", () => {
    const kafka = kafkaOf("dev");
    kafka.spec.kafka.listeners[0].tlss = true;
    expect(catalog.validate(kafka)).toEqual([
      { object: "Kafka kafka/k3", path: "/spec/kafka/listeners/0", message: 'unknown field "tlss"' },
    ]);
  });

  it("the removed v1beta2 API", () => {
    const kafka = kafkaOf("dev");
    kafka.apiVersion = "kafka.strimzi.io/v1beta2";
    expect(catalog.validate(kafka)).toEqual([
      expect.objectContaining({
        path: "/apiVersion",
        message: expect.stringMatching(/v1beta2 is not served .* served: kafka\.strimzi\.io\/v1$/),
      }),
    ]);
  });

  it("the v1beta2 singular `operation` in a KafkaUser ACL", () => {
    const user = userOf("dev");
    user.spec.authorization.acls[0].operation = user.spec.authorization.acls[0].operations[0];
    delete user.spec.authorization.acls[0].operations;
    const messages = catalog.validate(user).map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "/spec/authorization/acls/0: must have required property 'operations'",
        '/spec/authorization/acls/0: unknown field "operation"',
      ]),
    );
  });

  it("a value outside an enum", () => {
    const kafka = kafkaOf("prod");
    kafka.spec.kafka.listeners[1].type = "ingresss";
    expect(catalog.validate(kafka).map((i) => i.path)).toEqual(["/spec/kafka/listeners/1/type"]);
  });

  it("a wrong type", () => {
    const pool = structuredClone(rendered.get("dev")!.manifests.find((m) => m.kind === "KafkaNodePool")!) as any;
    pool.spec.replicas = "1";
    expect(catalog.validate(pool)).toEqual([
      { object: "KafkaNodePool kafka/dual-role", path: "/spec/replicas", message: "must be integer" },
    ]);
  });

  it("a broken CEL rule (x-kubernetes-validations)", () => {
    const kafka = kafkaOf("prod");
    delete kafka.spec.kafka.metricsConfig.valueFrom;
    expect(catalog.validate(kafka)).toEqual([
      { object: "Kafka kafka/k3", path: "/spec/kafka/metricsConfig", message: "valueFrom property is required" },
    ]);
  });

  it("a namespaced object without a namespace, and a bad name", () => {
    const kafka = kafkaOf("dev");
    delete kafka.metadata.namespace;
    kafka.metadata.name = "K3_cluster";
    expect(catalog.validate(kafka).map((i) => i.path)).toEqual(["/metadata/name", "/metadata/namespace"]);
  });

  describe("rules that need the API server's defaulting and CEL's escaped names", () => {
    const route = (edit: (r: any) => void) => {
      const r: any = {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "queue-manager", namespace: "stf" },
        spec: { parentRefs: [{ name: "public", namespace: "gateway" }], rules: [{ backendRefs: [{ name: "queue-manager", port: 80 }] }] },
      };
      edit(r);
      return r;
    };

    it("a Service backend without a port (its group and kind are defaulted first)", () => {
      expect(catalog.validate(route(() => undefined))).toEqual([]);
      expect(catalog.validate(route((r) => delete r.spec.rules[0].backendRefs[0].port))).toEqual([
        { object: "HTTPRoute stf/queue-manager", path: "/spec/rules/0/backendRefs/0", message: "Must have port for Service reference" },
      ]);
    });

    it("two references to the same parent without sectionName (a rule reading `namespace` as __namespace__)", () => {
      expect(
        catalog.validate(route((r) => r.spec.parentRefs.push({ name: "public", namespace: "gateway", sectionName: "https" }))),
      ).toEqual([expect.objectContaining({ path: "/spec/parentRefs", message: expect.stringMatching(/^sectionName must be specified/) })]);
    });
  });

  it("a kind the group does not define", () => {
    expect(catalog.validate({ apiVersion: "kafka.strimzi.io/v1", kind: "KafkaCluster", metadata: { name: "x", namespace: "y" } })).toEqual([
      expect.objectContaining({ path: "/kind" }),
    ]);
  });
});

describe("CEL as Kubernetes evaluates it", () => {
  it("escapes property names the way the API server does", () => {
    expect(["namespace", "a-b", "x.y", "a__b", "a/b", "plain"].map(celPropertyName)).toEqual([
      "__namespace__",
      "a__dash__b",
      "x__dot__y",
      "a__underscores__b",
      "a__slash__b",
      "plain",
    ]);
  });

  it("turns has() on an indexed selection into a key test, and leaves the rest alone", () => {
    expect(rewriteIndexedHas("has(self.matches[0].path) && has(self.x) && !has(a[1].b.c)")).toBe(
      '("path" in self.matches[0]) && has(self.x) && !("c" in a[1].b)',
    );
    expect(rewriteIndexedHas("size(self) > 0 && xhas(self.a)")).toBe("size(self) > 0 && xhas(self.a)");
  });
});
