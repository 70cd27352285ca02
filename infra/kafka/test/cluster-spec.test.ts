import type { KafkaConfig } from "../../config";
import { parse as parseYaml } from "yaml";
import {
  JMX_EXPORTER_CONFIG,
  bootstrapAddresses,
  brokerConfig,
  ignoredUsersPattern,
  kafkaSpec,
  listeners,
  nodePoolSpec,
  storageSpec,
} from "../cluster-spec";
import { committedConfig } from "../../../test/helpers";

const kafkaOf = (stack: string): KafkaConfig => committedConfig(stack).kafka;

const OPTS = { externallyManagedUsers: [], usersNamespace: "stf", clientNamespaces: ["stf"] };

describe("sizing per environment", () => {
  const dev = kafkaOf("dev");
  const prod = kafkaOf("prod");

  it("dev runs one dual-role node on ephemeral storage", () => {
    expect(dev.nodePools.map((p) => nodePoolSpec(p))).toEqual([
      expect.objectContaining({
        replicas: 1,
        roles: ["controller", "broker"],
        storage: { type: "jbod", volumes: [{ id: 0, type: "ephemeral", kraftMetadata: "shared", sizeLimit: "10Gi" }] },
      }),
    ]);
  });

  it("prod separates three controllers from three brokers on persistent JBOD", () => {
    const pools = prod.nodePools.map((p) => nodePoolSpec(p) as any);
    expect(pools.map((p) => [p.roles, p.replicas])).toEqual([
      [["controller"], 3],
      [["broker"], 3],
    ]);
    expect(pools[1].storage.volumes).toEqual([
      { id: 0, type: "persistent-claim", size: "500Gi", class: "ssd", deleteClaim: false, kraftMetadata: "shared" },
      { id: 1, type: "persistent-claim", size: "500Gi", class: "ssd", deleteClaim: false },
    ]);
  });

  it("prod replicates 3 ways with min.insync.replicas 2; dev keeps one copy", () => {
    expect(brokerConfig(prod)).toMatchObject({
      "default.replication.factor": 3,
      "min.insync.replicas": 2,
      "auto.create.topics.enable": false,
    });
    expect(brokerConfig(dev)).toMatchObject({ "default.replication.factor": 1, "min.insync.replicas": 1 });
  });

  it("prod has rack awareness and a PodDisruptionBudget; dev has neither", () => {
    const prodSpec = kafkaSpec(prod, OPTS) as any;
    const devSpec = kafkaSpec(dev, OPTS) as any;
    expect(prodSpec.kafka.rack).toEqual({ type: "topology-label", topologyKey: "topology.kubernetes.io/zone" });
    expect(prodSpec.kafka.template).toEqual({ podDisruptionBudget: { maxUnavailable: 1 } });
    expect(devSpec.kafka.rack).toBeUndefined();
    expect(devSpec.kafka.template).toBeUndefined();
  });

  it("requests and limits resources on every pool", () => {
    for (const pool of [...dev.nodePools, ...prod.nodePools]) {
      const spec = nodePoolSpec(pool) as any;
      expect(spec.resources.requests.memory).toBeDefined();
      expect(spec.resources.limits.memory).toBeDefined();
    }
  });
});

describe("listeners", () => {
  const dev = kafkaOf("dev");
  const prod = kafkaOf("prod");

  it("always has the TLS + SCRAM-SHA-512 listener on 9093 the services use", () => {
    for (const kafka of [dev, prod]) {
      expect(listeners(kafka, ["stf"])).toContainEqual({
        name: "tls",
        port: 9093,
        type: "internal",
        tls: true,
        authentication: { type: "scram-sha-512" },
        networkPolicyPeers: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "stf" } } }],
      });
      expect(bootstrapAddresses(kafka).tls).toBe("k3-kafka-bootstrap.kafka:9093");
    }
  });

  it("adds the plain listener only where configured, and makes it the dev superuser path", () => {
    expect(listeners(dev, ["stf"]).map((l: any) => l.name)).toEqual(["plain", "tls"]);
    expect((kafkaSpec(dev, OPTS) as any).kafka.authorization).toEqual({
      type: "simple",
      superUsers: ["ANONYMOUS"],
    });
    expect((kafkaSpec(prod, OPTS) as any).kafka.authorization).toEqual({ type: "simple" });
    expect(bootstrapAddresses(prod).plain).toBe("");
  });

  it("exposes the external listener with TLS and SCRAM, to its source ranges only", () => {
    const ranges = ["198.51.100.0/24", "203.0.113.0/24"];
    expect(listeners(prod, ["stf"])).toContainEqual({
      name: "external",
      port: 9094,
      type: "loadbalancer",
      tls: true,
      authentication: { type: "scram-sha-512" },
      networkPolicyPeers: ranges.map((cidr) => ({ ipBlock: { cidr } })),
      configuration: { loadBalancerSourceRanges: ranges },
    });
    expect(bootstrapAddresses(prod).external).toBe("k3-kafka-external-bootstrap.kafka:9094");
    expect(bootstrapAddresses(dev).external).toBe("");
  });
});

describe("user ownership", () => {
  it("keeps the User Operator off users the Kafka API owns", () => {
    const spec = kafkaSpec(kafkaOf("local-kafka-api"), { ...OPTS, externallyManagedUsers: ["loaders", "a.b"] }) as any;
    expect(spec.entityOperator.template.userOperatorContainer.env).toEqual([
      { name: "STRIMZI_IGNORED_USERS_PATTERN", value: "^(loaders|a\\.b)$" },
    ]);
    expect(new RegExp(ignoredUsersPattern(["loaders"])).test("loaders-2")).toBe(false);
  });

  it("has the User Operator watch the apps namespace, where the users and their Secrets live", () => {
    expect((kafkaSpec(kafkaOf("dev"), OPTS) as any).entityOperator).toEqual({
      topicOperator: {},
      userOperator: { watchedNamespace: "stf" },
    });
  });
});

describe("storageSpec", () => {
  it("puts KRaft metadata on exactly one volume", () => {
    const spec = storageSpec({ type: "persistent-claim", size: "1Gi", class: "std", volumes: 3, deleteClaim: true }) as any;
    expect(spec.volumes.filter((v: any) => v.kraftMetadata === "shared")).toHaveLength(1);
    expect(spec.volumes.map((v: any) => v.id)).toEqual([0, 1, 2]);
  });
});

describe("the JMX exporter config", () => {
  const cfg = parseYaml(JMX_EXPORTER_CONFIG) as { lowercaseOutputName: boolean; rules: { pattern: string; name: string }[] };
  const patterns = cfg.rules.map((r) => r.pattern);
  const at = (pattern: string) => {
    const i = patterns.indexOf(pattern);
    if (i < 0) throw new Error(`no rule ${pattern}`);
    return i;
  };

  it("is Strimzi 1.2.0's example: 29 named rules, lower-case names, the patterns' backslashes intact", () => {
    expect(cfg.lowercaseOutputName).toBe(true);
    expect(cfg.rules).toHaveLength(29);
    expect(cfg.rules.every((r) => r.pattern.length > 0 && r.name.startsWith("kafka_"))).toBe(true);
    expect(patterns).toContain(String.raw`kafka.(\w+)<type=(.+), name=(.+)PerSec\w*, (.+)=(.+)><>Count`);
  });

  it("puts the rules with key/value pairs after name= before the generic ones, which would swallow them", () => {
    const perSec = (pairs: number) => String.raw`kafka.(\w+)<type=(.+), name=(.+)PerSec\w*` + ", (.+)=(.+)".repeat(pairs) + "><>Count";
    const gauge = (pairs: number) => String.raw`kafka.(\w+)<type=(.+), name=(.+)` + ", (.+)=(.+)".repeat(pairs) + "><>Value";
    expect(at(perSec(2))).toBeLessThan(at(perSec(1)));
    expect(at(perSec(1))).toBeLessThan(at(perSec(0)));
    expect(at(gauge(2))).toBeLessThan(at(gauge(1)));
    expect(at(gauge(1))).toBeLessThan(at(gauge(0)));
    // No catch-all kafka.server rule of the old config ahead of everything.
    expect(patterns).not.toContain("kafka.server<type=(.+), name=(.+)><>(Count|Value)");
  });
});
