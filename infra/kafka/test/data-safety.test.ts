/**
 * Data safety, offline: which objects every stack protects, how a confirmation lets one go, and
 * which edits are refused against a live cluster (fixtures: the objects the local stack renders,
 * as the API server would hold them after its `up`). The real CLI and API server:
 * infra/kafka/test/data-safety.itest.ts.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { PlatformConfig } from "../../config";
import { aclEntries, aclImpact, impactReport } from "../impact";
import { brokerTruncations, topicTruncations } from "../truncation";
import { kafkaEditImpacts, kafkaEditProblems, versionProblems, UNSUPPORTED_CHANGES, type UnsupportedChangeId } from "../kafka-changes";
import { ignoredUsersPattern, nodePoolSpec } from "../cluster-spec";
import {
  CATALOGUE_OWNER_ANNOTATION,
  KAFKA_API_ACLS_ANNOTATION,
  decodeAclRecord,
  encodeAclRecord,
  type LiveKafka,
  type LiveObject,
  RETIRE_ANNOTATION,
  STACK_ANNOTATION,
  brokerConfigOf,
  stackIdentity,
} from "../data-safety";
import { clusterOwnership } from "../live";
import { type DeclaredResource, type KubernetesObject, knownStacks, renderStack } from "../../render/render";
import * as pulumi from "@pulumi/pulumi";
import { DESTROY_GUARD_NAME, remoteChildrenOf, resourcesIn, retireGuardName } from "../../kit/confirmation-guard";
import { urnTail } from "../../kit/moves";
import { ConfigError } from "../../kit/config-kit";
import { committedConfig, variantProblems } from "../../../test/helpers";

const STATEFUL_KINDS = ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"];

/** The stateful resources a stack declares: Kafka's CRs, the namespaces holding them, @pulumi/kafka's topics and credentials. */
function stateful(resources: DeclaredResource[], config: PlatformConfig): DeclaredResource[] {
  const dataNamespaces = [config.kafka.namespace, config.apps.namespace];
  return resources.filter(
    (r) =>
      STATEFUL_KINDS.includes(r.inputs.kind as string) ||
      (r.type === "kubernetes:core/v1:Namespace" && dataNamespaces.includes((r.inputs.metadata as { name: string }).name)) ||
      r.type === "kafka:index/topic:Topic" ||
      r.type === "kafka:index/userScramCredential:UserScramCredential",
  );
}

describe("stateful objects are protected by default", () => {
  it.each(knownStacks())("%s: the cluster, pools, topics, users and their namespaces", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await renderStack(stack);
    const kept = stateful(resources, config);
    // Every kind is there to be checked (namespaces only where the stack creates them).
    const kinds = new Set(kept.map((r) => (r.inputs.kind as string | undefined) ?? r.type));
    for (const kind of ["Kafka", "KafkaNodePool"]) expect(kinds).toContain(kind);
    expect(kept.length).toBeGreaterThan(config.kafka.nodePools.length + 1);
    for (const r of kept) expect([r.name, r.protect, r.retainOnDelete]).toEqual([r.name, true, true]);
    // ...and nothing else is protected but the confirmation guards: a stateless object can be replaced.
    const others = resources.filter((r) => !kept.includes(r) && r.protect === true);
    expect(others.filter((r) => r.type !== "streamforge:platform:ConfirmationGuard")).toEqual([]);
    expect(others.map((r) => r.name)).toContain(DESTROY_GUARD_NAME);
  });
});

describe("pulumi destroy meets the destroy guard first", () => {
  const guardOf = (resources: DeclaredResource[]) => {
    const guards = resources.filter((r) => r.type === "streamforge:platform:ConfirmationGuard" && r.name === DESTROY_GUARD_NAME);
    expect(guards.map((r) => r.name)).toEqual([DESTROY_GUARD_NAME]);
    return guards[0]!;
  };
  // The engine's refusal quotes the URN: the name says what to do (docs/data-safety.md).
  expect(DESTROY_GUARD_NAME).toContain("streamforge:retire.stack");

  it.each(knownStacks())("%s: protected, and waiting for every other resource, so the engine deletes it before any", async (stack) => {
    const { resources } = await renderStack(stack);
    const guard = guardOf(resources);
    expect(guard.protect).toBe(true);
    // What the SDK sends as its dependencies: every custom resource and remote component (a local
    // component stands for its children); the engine deletes a resource after all that depend on it.
    const waitedFor = new Set((guard.dependsOn ?? []).map((urn) => urnTail(urn).split("$").pop()));
    const local = (r: DeclaredResource) => r.type.startsWith("streamforge:");
    const notWaitedFor = resources.filter((r) => !local(r) && !waitedFor.has(`${r.type}::${r.name}`)).map((r) => `${r.type}::${r.name}`);
    expect(notWaitedFor).toEqual([]);
    expect(waitedFor.size).toBeGreaterThan(20);
  });

  it("waits for the children a provider's component registered (the Argo CRDs), which the engine would not skip after the refusal", () => {
    // What Resource.isInstance reads; the controller declares `implements WithRemoteChildren`.
    const resource = (extra: object) => ({ __pulumiResource: true, ...extra });
    const crds = pulumi.output([] as pulumi.Resource[]);
    const parts = { controller: resource({ remoteChildren: crds }), canary: resource({}), other: undefined };
    // As infra/platform.ts reads them: the resources among the areas' parts, then what they expose.
    const exposed = (p: object) => remoteChildrenOf(Object.values(p).flatMap(resourcesIn));
    expect(exposed(parts)).toEqual([crds]);
    expect(exposed({ canary: resource({ remoteChildren: "not an output" }) })).toEqual([]);
  });

  it("lets go once the stack's deletion is confirmed", async () => {
    for (const stack of ["delete", "keep"]) {
      const { resources } = await renderStack("local", { edit: (raw) => (raw.retire = { stack }) });
      expect([stack, guardOf(resources).protect]).toEqual([stack, false]);
    }
  });
});

describe("owner: kafka-api, where nothing is read live: a guard per topic and user names its key", () => {
  const guardsOf = async (retire: object = {}) => {
    const { resources } = await renderStack("local-kafka-api", { edit: (raw) => (raw.retire = retire) });
    const tail = (urn: string) => urnTail(urn).split("$").pop()!;
    const byName = new Map(resources.map((r) => [`${r.type}::${r.name}`, r]));
    return new Map(
      resources
        .filter((r) => r.type === "streamforge:platform:ConfirmationGuard" && r.name !== DESTROY_GUARD_NAME)
        .map((r) => [r.name, { protect: r.protect, waitsFor: (r.dependsOn ?? []).map((urn) => byName.get(tail(urn))!) }]),
    );
  };
  const config = committedConfig("local-kafka-api");

  it("each topic's guard waits for its topic; each user's for its credential, ACLs, Secret and password; all protected", async () => {
    const guards = await guardsOf();
    expect(guards.size).toBe(Object.keys(config.catalogue.topics).length + Object.keys(config.catalogue.users).length);
    for (const topic of Object.keys(config.catalogue.topics)) {
      const guard = guards.get(retireGuardName(`topics.${topic}`))!;
      expect(guard.protect).toBe(true);
      expect(guard.waitsFor.map((r) => [r.type, (r.inputs as { name: string }).name])).toEqual([["kafka:index/topic:Topic", topic]]);
    }
    for (const user of Object.keys(config.catalogue.users)) {
      const guard = guards.get(retireGuardName(`users.${user}`))!;
      expect(guard.protect).toBe(true);
      expect(new Set(guard.waitsFor.map((r) => r.type))).toEqual(
        new Set([
          "kafka:index/userScramCredential:UserScramCredential",
          "kafka:index/acl:Acl",
          "kubernetes:core/v1:Secret",
          "random:index/randomPassword:RandomPassword",
        ]),
      );
    }
  });

  it('"keep" keeps all of a user: its credential, ACLs and Secret are retained, and the User Operator leaves it alone once removed', async () => {
    const user = Object.keys(config.catalogue.users)[0]!;
    const render = async (edit: (raw: Record<string, any>) => void) => (await renderStack("local-kafka-api", { edit })).resources;
    const objectsOf = (resources: DeclaredResource[]) =>
      resources.filter(
        (r) =>
          (r.type === "kafka:index/acl:Acl" && (r.inputs as { aclPrincipal: string }).aclPrincipal === `User:${user}`) ||
          (r.type === "kafka:index/userScramCredential:UserScramCredential" && (r.inputs as { username: string }).username === user) ||
          (r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as { name: string }).name === user),
      );
    const ignored = (resources: DeclaredResource[]) =>
      JSON.stringify(resources.find((r) => r.inputs.kind === "Kafka")!.inputs).match(
        /STRIMZI_IGNORED_USERS_PATTERN","value":"([^"]+)"/,
      )![1];
    const kept = objectsOf(await render((raw) => (raw.retire = { users: { [user]: "keep" } })));
    expect(new Set(kept.map((r) => r.type)).size).toBe(3);
    for (const r of kept) expect([r.type, r.retainOnDelete]).toEqual([r.type, true]);
    // Protected, an ACL row is not retained: one that leaves the catalogue must be revoked.
    const protectedAcls = objectsOf(await render(() => {})).filter((r) => r.type === "kafka:index/acl:Acl");
    expect(protectedAcls.length).toBeGreaterThan(0);
    for (const r of protectedAcls) expect(r.retainOnDelete).toBeFalsy();
    // Removed after its "keep" was applied: the brokers' User Operator still ignores it.
    const removed = await render((raw) => {
      delete raw.catalogue.users[user];
      raw.retire = { users: { [user]: "keep" } };
    });
    expect(objectsOf(removed)).toEqual([]);
    expect(ignored(removed)).toContain(user);
    const deleted = await render((raw) => {
      delete raw.catalogue.users[user];
      raw.retire = { users: { [user]: "delete" } };
    });
    expect(ignored(deleted)).not.toContain(user);
  });

  it("a confirmation unprotects exactly its object's guard", async () => {
    const [topic, other] = Object.keys(config.catalogue.topics);
    const guards = await guardsOf({ topics: { [topic!]: "keep" } });
    expect(guards.get(retireGuardName(`topics.${topic}`))!.protect).toBe(false);
    expect(guards.get(retireGuardName(`topics.${other}`))!.protect).toBe(true);
  });
});

describe("a confirmation lets exactly its object go", () => {
  const declared = async (retire: object) => (await renderStack("local", { edit: (raw) => (raw.retire = retire) })).resources;
  const named = (resources: DeclaredResource[], kind: string, name: string) =>
    resources.find((r) => r.inputs.kind === kind && (r.inputs.metadata as { name: string }).name === name)!;
  const annotation = (r: DeclaredResource) =>
    (r.inputs.metadata as { annotations?: Record<string, string> }).annotations?.[RETIRE_ANNOTATION];

  it("delete: unprotected, deleted with the object; keep: unprotected, left in the cluster; both recorded on the object", async () => {
    const resources = await declared({ topics: { "market-klines": "delete" }, users: { loaders: "keep" } });
    const topic = named(resources, "KafkaTopic", "market-klines");
    const user = named(resources, "KafkaUser", "loaders");
    expect([topic.protect, topic.retainOnDelete, annotation(topic)]).toEqual([false, false, "delete"]);
    expect([user.protect, user.retainOnDelete, annotation(user)]).toEqual([false, true, "keep"]);
    const other = named(resources, "KafkaTopic", "market-trades");
    expect([other.protect, other.retainOnDelete, annotation(other)]).toEqual([true, true, undefined]);
  });

  it("the stack's confirmation covers every stateful object, before pulumi destroy", async () => {
    const resources = await declared({ stack: "delete" });
    const kept = stateful(resources, committedConfig("local"));
    expect(kept.length).toBeGreaterThan(5);
    for (const r of kept) expect([r.name, r.protect, r.retainOnDelete]).toEqual([r.name, false, false]);
  });

  it("refuses an unknown mode, naming the key", () => {
    expect(variantProblems("local", (raw) => (raw.retire = { topics: { "market-klines": "drop" } }))).toEqual([
      expect.stringContaining("streamforge:retire.topics.market-klines"),
    ]);
  });
});

/** What the API server holds after the local stack's `up`: its rendered Kafka objects. */
async function liveLocal(): Promise<LiveKafka> {
  const { manifests } = await renderStack("local");
  const live = (kind: LiveObject["kind"]) =>
    manifests
      .filter((m: KubernetesObject) => m.kind === kind)
      .map((m) => ({
        kind,
        name: m.metadata.name,
        namespace: m.metadata.namespace ?? "",
        spec: (m as unknown as { spec: object }).spec as Record<string, unknown>,
      }));
  return { cluster: live("Kafka")[0]!, nodePools: live("KafkaNodePool"), topics: live("KafkaTopic"), users: live("KafkaUser") };
}

/** The problems of the local stack's config after `edit`, against `live`. */
function problemsAfter(live: LiveKafka, edit: (config: PlatformConfig) => PlatformConfig): string[] {
  return kafkaEditProblems(edit(committedConfig("local")), live).map((p) => `${p.key}: ${p.message}`);
}

const withoutTopic = (c: PlatformConfig, topic: string): PlatformConfig => {
  const topics = Object.fromEntries(Object.entries(c.catalogue.topics).filter(([name]) => name !== topic));
  return { ...c, catalogue: { ...c.catalogue, topics } };
};
const retiring = (c: PlatformConfig, retire: Partial<PlatformConfig["retire"]>): PlatformConfig => ({
  ...c,
  retire: { ...c.retire, ...retire },
});

/** `live` as an owner kafka-api stack of `config` reads it: the cluster and its pools, no KafkaTopic or KafkaUser. */
const kafkaApiLive = (live: LiveKafka, config: PlatformConfig): LiveKafka => ({
  ...live,
  nodePools: config.kafka.nodePools.map((p) => ({ ...live.nodePools[0]!, name: p.name, spec: nodePoolSpec(p) })),
  topics: [],
  users: [],
  catalogueRead: false,
});

/** `live` with these top-level fields of its Kafka CR's spec replaced. */
const withClusterSpec = (live: LiveKafka, fields: Record<string, unknown>): LiveKafka => ({
  ...live,
  cluster: { ...live.cluster!, spec: { ...live.cluster!.spec, ...fields } },
});

/** `live` with a Kafka CR whose User Operator ignores `users`, as owner kafka-api declares it (cluster-spec.ts kafkaSpec). */
const ignoringUsers = (live: LiveKafka, users: readonly string[]): LiveKafka =>
  withClusterSpec(live, {
    entityOperator: {
      template: { userOperatorContainer: { env: [{ name: "STRIMZI_IGNORED_USERS_PATTERN", value: ignoredUsersPattern(users) }] } },
    },
  });

describe("nothing the cluster holds leaves unconfirmed", () => {
  let live: LiveKafka;
  beforeAll(async () => {
    live = await liveLocal();
  });

  it("an unchanged stack has no problem", () => {
    expect(problemsAfter(live, (c) => c)).toEqual([]);
  });

  it("a topic removed from the catalogue is refused, naming it and the confirmation", () => {
    expect(problemsAfter(live, (c) => withoutTopic(c, "market-klines"))).toEqual([
      expect.stringMatching(
        /^streamforge:catalogue\.topics\.market-klines: expected the topic "market-klines" to stay: KafkaTopic kafka\/market-klines is in the cluster.*streamforge:retire\.topics\.market-klines to "keep".*or "delete"/,
      ),
    ]);
  });

  it("confirmed but removed in the same change: refused until an up has applied the confirmation", () => {
    const problems = problemsAfter(live, (c) => retiring(withoutTopic(c, "market-klines"), { topics: { "market-klines": "delete" } }));
    expect(problems).toEqual([
      expect.stringContaining('until its confirmation streamforge:retire.topics.market-klines ("delete") is applied'),
    ]);
  });

  it("confirmed and applied (the object carries the confirmation): removal goes ahead", () => {
    const applied = { ...live, topics: live.topics.map((t) => (t.name === "market-klines" ? { ...t, retire: "delete" as const } : t)) };
    expect(problemsAfter(applied, (c) => retiring(withoutTopic(c, "market-klines"), { topics: { "market-klines": "delete" } }))).toEqual(
      [],
    );
    // The confirmation that was applied is the one that counts: "keep" applied does not allow a "delete".
    const kept = { ...live, topics: live.topics.map((t) => (t.name === "market-klines" ? { ...t, retire: "keep" as const } : t)) };
    expect(problemsAfter(kept, (c) => retiring(withoutTopic(c, "market-klines"), { topics: { "market-klines": "delete" } }))).toHaveLength(
      1,
    );
  });

  it("a confirmation for an object the cluster does not hold is refused: a new object of its name would start unprotected", () => {
    const topics = (c: PlatformConfig) => ({
      ...c,
      catalogue: { ...c.catalogue, topics: { ...c.catalogue.topics, "market-ticks": { partitions: 3, config: {} } } },
    });
    expect(problemsAfter(live, (c) => retiring(topics(c), { topics: { "market-ticks": "delete" } }))).toEqual([
      'streamforge:retire.topics.market-ticks: expected a confirmation for a topic the cluster holds; found "market-ticks" declared but not in the cluster: it would be created unprotected. A confirmation is for one object: remove it',
    ]);
    // Before the first up nothing is live, and a retired object no longer declared is not this rule's.
    expect(
      problemsAfter({ nodePools: [], topics: [], users: [] }, (c) => retiring(topics(c), { topics: { "market-ticks": "delete" } })),
    ).toEqual([]);
    expect(problemsAfter(live, (c) => retiring(c, { topics: { "market-ticks": "delete" } }))).toEqual([]);
  });

  it("users and node pools the same way", () => {
    const problems = problemsAfter(live, (c) => ({ ...c, catalogue: { ...c.catalogue, users: {} } }));
    expect(problems).toHaveLength(live.users.length);
    expect(problems[0]).toMatch(/^streamforge:catalogue\.users\.\S+: expected the user .* streamforge:retire\.users\./);
  });
});

describe("changes Strimzi cannot make are refused with the reason and the procedure", () => {
  let live: LiveKafka;
  beforeAll(async () => {
    live = await liveLocal();
  });
  const expectRule = (problems: string[], key: string, rule: UnsupportedChangeId) =>
    expect(problems).toContainEqual(
      expect.stringMatching(new RegExp(`^${key.replace(/[.[\]]/g, "\\$&")}: ${UNSUPPORTED_CHANGES[rule].change.replace(/[()<>-]/g, ".")}`)),
    );
  const topicEdit = (edit: (t: PlatformConfig["catalogue"]["topics"][string]) => object) => (c: PlatformConfig) => ({
    ...c,
    catalogue: {
      ...c.catalogue,
      topics: {
        ...c.catalogue.topics,
        "queue-events": { ...c.catalogue.topics["queue-events"]!, ...edit(c.catalogue.topics["queue-events"]!) },
      },
    },
  });
  const poolEdit = (edit: (p: PlatformConfig["kafka"]["nodePools"][number]) => object) => (c: PlatformConfig) => ({
    ...c,
    kafka: { ...c.kafka, nodePools: c.kafka.nodePools.map((p) => ({ ...p, ...edit(p) })) },
  });

  it("fewer partitions; other replicas", () => {
    expectRule(
      problemsAfter(
        live,
        topicEdit((t) => ({ partitions: t.partitions - 1 })),
      ),
      "streamforge:catalogue.topics.queue-events.partitions",
      "partitionsDecreased",
    );
    expect(
      problemsAfter(
        live,
        topicEdit((t) => ({ partitions: t.partitions + 1 })),
      ),
    ).toEqual([]);
    expectRule(
      problemsAfter(
        live,
        topicEdit(() => ({ replicas: 2 })),
      ),
      "streamforge:catalogue.topics.queue-events.replicas",
      "replicasChanged",
    );
  });

  it("the controller quorum: scaled, or a controller pool added", () => {
    expectRule(
      problemsAfter(
        live,
        poolEdit((p) => ({ replicas: p.replicas + 2 })),
      ),
      "streamforge:kafka.nodePools[0].replicas",
      "controllerQuorumChanged",
    );
    const added = (c: PlatformConfig) => ({
      ...c,
      kafka: { ...c.kafka, nodePools: [...c.kafka.nodePools, { ...c.kafka.nodePools[0]!, name: "more" }] },
    });
    expectRule(problemsAfter(live, added), "streamforge:kafka.nodePools[1]", "controllerQuorumChanged");
  });

  it("storage: type changed; from a persistent fixture, shrunk, class changed, a volume removed", () => {
    const persistent = { type: "persistent-claim", size: "100Gi", class: "fast", volumes: 2, deleteClaim: false } as const;
    expectRule(
      problemsAfter(
        live,
        poolEdit(() => ({ storage: persistent })),
      ),
      "streamforge:kafka.nodePools[0].storage",
      "storageTypeChanged",
    );
    // The live pool as a persistent one, and the stack's edits of it.
    const pool = committedConfig("local").kafka.nodePools[0]!;
    const against: LiveKafka = { ...live, nodePools: [{ ...live.nodePools[0]!, spec: nodePoolSpec({ ...pool, storage: persistent }) }] };
    const base = poolEdit(() => ({ storage: persistent }));
    expect(problemsAfter(against, base)).toEqual([]);
    expectRule(
      problemsAfter(
        against,
        poolEdit(() => ({ storage: { ...persistent, size: "50Gi" } })),
      ),
      "streamforge:kafka.nodePools[0].storage",
      "storageShrunk",
    );
    expectRule(
      problemsAfter(
        against,
        poolEdit(() => ({ storage: { ...persistent, class: "slow" } })),
      ),
      "streamforge:kafka.nodePools[0].storage",
      "storageClassChanged",
    );
    expectRule(
      problemsAfter(
        against,
        poolEdit(() => ({ storage: { ...persistent, volumes: 1 } })),
      ),
      "streamforge:kafka.nodePools[0].storage",
      "volumeRemoved",
    );
    // Growing a volume, adding one, and deleteClaim are changes Strimzi makes.
    expect(
      problemsAfter(
        against,
        poolEdit(() => ({ storage: { ...persistent, size: "200Gi", volumes: 3, deleteClaim: true } })),
      ),
    ).toEqual([]);
    // An ephemeral volume's sizeLimit is none of them (StorageDiff IGNORABLE_PATHS): the whole storage change is ignored.
    const bounded = { type: "ephemeral", sizeLimit: "10Gi" } as const;
    const ephemeral: LiveKafka = { ...live, nodePools: [{ ...live.nodePools[0]!, spec: nodePoolSpec({ ...pool, storage: bounded }) }] };
    expectRule(
      problemsAfter(
        ephemeral,
        poolEdit(() => ({ storage: { ...bounded, sizeLimit: "20Gi" } })),
      ),
      "streamforge:kafka.nodePools[0].storage",
      "storageFieldChanged",
    );
    expect(
      problemsAfter(
        ephemeral,
        poolEdit(() => ({ storage: { type: "ephemeral" } })),
      ),
    ).toEqual([expect.stringContaining('found pool "dual-role" volume 0: sizeLimit "10Gi" -> (unset)')]);
  });

  it("a broker pool scaled down: refused until the stack confirms its brokers were emptied", () => {
    const split: LiveKafka = {
      ...live,
      nodePools: [
        { ...live.nodePools[0]!, name: "controllers", spec: { ...live.nodePools[0]!.spec, roles: ["controller"] } },
        { ...live.nodePools[0]!, name: "brokers", spec: { ...live.nodePools[0]!.spec, roles: ["broker"], replicas: 3 } },
      ],
    };
    const pools = (brokers: number) => (c: PlatformConfig) => ({
      ...c,
      kafka: {
        ...c.kafka,
        nodePools: [
          { ...c.kafka.nodePools[0]!, name: "controllers", roles: ["controller" as const] },
          { ...c.kafka.nodePools[0]!, name: "brokers", roles: ["broker" as const], replicas: brokers },
        ],
      },
    });
    expect(problemsAfter(split, pools(3))).toEqual([]);
    expectRule(problemsAfter(split, pools(2)), "streamforge:kafka.nodePools[1].replicas", "brokersScaledDown");
    expect(problemsAfter(split, (c) => retiring(pools(2)(c), { scaleDown: { brokers: 2 } }))).toEqual([]);
    // The confirmation names the count: another count is not confirmed.
    expect(problemsAfter(split, (c) => retiring(pools(1)(c), { scaleDown: { brokers: 2 } }))).toEqual([
      expect.stringMatching(
        /^streamforge:retire\.scaleDown\.brokers: expected the confirmed count 2 to be pool "brokers"'s replicas; found 1\./,
      ),
      expect.stringMatching(/^streamforge:kafka\.nodePools\[1\]\.replicas: a broker pool scaled down/),
    ]);
    // Once applied the confirmation is harmless; when the pool grows again it is refused until removed,
    // so that the next scale-down to 2 needs a fresh one.
    const scaled = {
      ...split,
      nodePools: split.nodePools.map((p) => (p.name === "brokers" ? { ...p, spec: { ...p.spec, replicas: 2 } } : p)),
    };
    expect(problemsAfter(scaled, (c) => retiring(pools(2)(c), { scaleDown: { brokers: 2 } }))).toEqual([]);
    expect(problemsAfter(scaled, (c) => retiring(pools(3)(c), { scaleDown: { brokers: 2 } }))).toEqual([
      expect.stringContaining(
        'streamforge:retire.scaleDown.brokers: expected the confirmed count 2 to be pool "brokers"\'s replicas; found 3',
      ),
    ]);
  });

  it("owner kafka-api: a grant the last up recorded and the catalogue drops is a loss; one granted outside the stack is not", async () => {
    const config = committedConfig("local-kafka-api");
    const { manifests } = await renderStack("local-kafka-api");
    // The record the up writes on the Kafka CR, read back as the preview reads it.
    const kafkaCr = manifests.find((m: KubernetesObject) => m.kind === "Kafka")!;
    const recorded = decodeAclRecord((kafkaCr.metadata.annotations as Record<string, string> | undefined)?.[KAFKA_API_ACLS_ANNOTATION]);
    expect(recorded?.["queue-manager"]).toEqual([
      "allow Describe on topic queue-control",
      "allow Describe on topic queue-events",
      "allow Read on group queue-manager",
      "allow Read on topic queue-events",
      "allow Write on topic queue-control",
    ]);
    const outside = "allow Describe on topic audit";
    const inKafka = { ...recorded!, "queue-manager": [...recorded!["queue-manager"]!, outside] };
    const apiLive: LiveKafka = { ...kafkaApiLive(live, config), aclsInKafka: inKafka, aclsDeclared: recorded! };
    const aclImpacts = (c: PlatformConfig) =>
      kafkaEditImpacts(c, apiLive, live.cluster!.spec).map((i) => `[${i.level}] ${i.object}: ${i.effect}`);
    // As recorded, with a row added outside the stack: nothing to say.
    expect(aclImpacts(config)).toEqual([]);
    const users = config.catalogue.users;
    const withoutGroup = {
      ...config,
      catalogue: { ...config.catalogue, users: { ...users, "queue-manager": { ...users["queue-manager"]!, groups: [] } } },
    };
    expect(aclImpacts(withoutGroup)).toEqual([
      "[disruptive] Kafka ACLs of User:queue-manager: its clients lose Read on group queue-manager: those calls fail with an authorization error",
    ]);
    // A grant the catalogue adds that Kafka lacks: gained.
    const withGroup = {
      ...config,
      catalogue: {
        ...config.catalogue,
        users: { ...users, "queue-manager": { ...users["queue-manager"]!, groups: ["queue-manager", "audit-*"] } },
      },
    };
    expect(aclImpacts(withGroup)).toEqual(["[benign] Kafka ACLs of User:queue-manager: its clients gain Read on group audit-* (prefix)"]);
    // A record that is not the program's shape is no record.
    const asRecord = (text: string) => `gzip;base64,${gzipSync(text).toString("base64")}`;
    for (const value of [
      '{"u": []}',
      asRecord("not json"),
      asRecord("[]"),
      asRecord('{"u": "x"}'),
      asRecord('{"u": [1]}'),
      "gzip;base64,AAAA",
    ])
      expect(decodeAclRecord(value)).toBeUndefined();
    expect(decodeAclRecord(asRecord('{"u": ["allow Read on topic t"]}'))).toEqual({ u: ["allow Read on topic t"] });
    // Compressed, a catalogue of a hundred users with forty topics each fits; one past the limit is refused naming the key.
    const many = (users: number, topics: number) =>
      Object.fromEntries(
        Array.from({ length: users }, (_, u) => [
          `user-${u}`,
          Array.from({ length: topics }, (_, t) => `allow Read on topic team-${u}-topic-${t}`),
        ]),
      );
    expect(encodeAclRecord(many(100, 40)).length).toBeLessThan(64 * 1024);
    const random = Object.fromEntries(
      Array.from({ length: 400 }, () => [
        randomBytes(8).toString("hex"),
        Array.from({ length: 40 }, () => randomBytes(16).toString("hex")),
      ]),
    );
    expect(() => encodeAclRecord(random)).toThrow(ConfigError);
    expect(() => encodeAclRecord(random)).toThrow(
      /^Invalid stack configuration \(1 problem\):\n {2}- streamforge:catalogue\.users: expected the users' ACLs to fit the Kafka CR's record \(131072 bytes compressed\); found \d+/,
    );
  });

  it("owner kafka-api: the cluster and its pools are judged; the topics and users, not Strimzi objects there, are not", () => {
    const config = committedConfig("local-kafka-api");
    const apiLive = kafkaApiLive(live, config);
    const problems = (c: PlatformConfig) => kafkaEditProblems(c, apiLive).map((p) => `${p.key}: ${p.message}`);
    expect(problems(config)).toEqual([]);
    // A topic's confirmation is not taken for a stale one: no KafkaTopic was read.
    const topic = Object.keys(config.catalogue.topics)[0]!;
    expect(problems(retiring(config, { topics: { [topic]: "keep" } }))).toEqual([]);
    const quorum = {
      ...config,
      kafka: { ...config.kafka, nodePools: config.kafka.nodePools.map((p) => ({ ...p, replicas: p.replicas + 2 })) },
    };
    expectRule(problems(quorum), "streamforge:kafka.nodePools[0].replicas", "controllerQuorumChanged");
    // No topic or user is reported as created: their changes show in the preview's own diff.
    expect(kafkaEditImpacts(config, apiLive, live.cluster!.spec)).toEqual([]);
    // A user released with "keep" stays ignored by the User Operator only while its confirmation does.
    const users = [...Object.keys(config.catalogue.users), "old.user"];
    const released = ignoringUsers(apiLive, users);
    expect(problems(retiring(config, { users: { "old.user": "keep" } })).filter((p) => p.includes("old.user"))).toEqual([]);
    const dropped = kafkaEditProblems(config, released).map((p) => `${p.key}: ${p.message}`);
    expect(dropped).toEqual([
      expect.stringMatching(
        /^streamforge:retire\.users\.old\.user: expected the confirmation streamforge:retire\.users\.old\.user \("keep"\) to stay/,
      ),
    ]);
    expect(kafkaEditProblems(retiring(config, { users: { "old.user": "keep" } }), released)).toEqual([]);
    expect(kafkaEditProblems(retiring(config, { users: { "old.user": "delete" } }), released)).toEqual([]);
  });

  it("the cluster's identity: its name, its stack, and the namespace its User Operator watches", () => {
    const toK4 = (c: PlatformConfig) => ({ ...c, kafka: { ...c.kafka, clusterName: "k4" } });
    const gone: LiveKafka = { nodePools: [], topics: [], users: [] };
    // This stack's cluster under its former name, beside others: a rename, named.
    const renamed = problemsAfter({ ...gone, formerNames: ["k3"], unnamedClusters: ["a", "b"] }, toK4);
    expectRule(renamed, "streamforge:kafka.clusterName", "clusterRenamed");
    expect(renamed).toContainEqual(expect.stringContaining('found "k3" -> "k4" in namespace kafka'));
    // One cluster naming no stack (declared before the annotation): taken for this stack's.
    expectRule(problemsAfter({ ...gone, unnamedClusters: ["k3"] }, toK4), "streamforge:kafka.clusterName", "clusterRenamed");
    // Two: which one cannot be told, so the way to tell is asked for.
    expect(problemsAfter({ ...gone, unnamedClusters: ["a", "b"] }, toK4)).toEqual([
      expect.stringMatching(
        /^streamforge:kafka\.clusterName: expected to tell a new cluster from this stack's under a former name; found Kafka CRs a, b/,
      ),
    ]);
    // Only other stacks' clusters there (neither former nor unnamed): a new cluster.
    expect(problemsAfter(gone, toK4)).toEqual([]);
    // A cluster of this name that another stack declared is not this stack's to take over.
    expect(problemsAfter({ ...live, clusterOwner: "acme/streamforge/dev-2", stack: "acme/streamforge/dev" }, (c) => c)).toEqual([
      expect.stringMatching(
        /^streamforge:kafka\.clusterName: expected a Kafka cluster of this stack's; found "k3" in namespace kafka declared by stack acme\/streamforge\/dev-2/,
      ),
    ]);
    expectRule(
      problemsAfter(live, (c) => ({ ...c, apps: { ...c.apps, namespace: "stf-next" } })),
      "streamforge:apps.namespace",
      "usersNamespaceChanged",
    );
  });

  it("the catalogue's owner: kept on a running cluster, from the Kafka CR's record or from the KafkaTopics and KafkaUsers Strimzi still manages", () => {
    const apiConfig = committedConfig("local-kafka-api");
    const problems = (l: LiveKafka, c: PlatformConfig) => kafkaEditProblems(c, l).map((p) => `${p.key}: ${p.message}`);
    const apiLive = kafkaApiLive(live, apiConfig);
    // Recorded on the Kafka CR: either way is refused, naming both owners and the record.
    const toApi = problems({ ...apiLive, catalogueOwner: "strimzi" }, apiConfig);
    expectRule(toApi, "streamforge:catalogue.owner", "catalogueOwnerChanged");
    expect(toApi).toContainEqual(expect.stringContaining(`found strimzi -> kafka-api (the Kafka CR's ${CATALOGUE_OWNER_ANNOTATION})`));
    expect(toApi).toContainEqual(expect.stringContaining(`Instead: ${UNSUPPORTED_CHANGES.catalogueOwnerChanged.procedure}`));
    const toStrimzi = problemsAfter({ ...live, catalogueOwner: "kafka-api" }, (c) => c);
    expectRule(toStrimzi, "streamforge:catalogue.owner", "catalogueOwnerChanged");
    expect(toStrimzi).toContainEqual(expect.stringContaining("found kafka-api -> strimzi"));
    // The recorded owner, unchanged: nothing to refuse.
    expect(problemsAfter({ ...live, catalogueOwner: "strimzi" }, (c) => c)).toEqual([]);
    expect(problems({ ...apiLive, catalogueOwner: "kafka-api" }, apiConfig)).toEqual([]);
    // No record (applied before it was written): Strimzi's objects under the catalogue's names tell.
    const [topic] = Object.keys(apiConfig.catalogue.topics);
    const [user] = Object.keys(apiConfig.catalogue.users);
    const held = problems({ ...apiLive, strimziCatalogue: { topics: [topic!, "elsewhere"], users: [user!] } }, apiConfig);
    expectRule(held, "streamforge:catalogue.owner", "catalogueOwnerChanged");
    expect(held).toContainEqual(
      expect.stringContaining(
        `found strimzi -> kafka-api while Strimzi manages KafkaTopics ${topic} and KafkaUsers ${user} of the catalogue`,
      ),
    );
    // No record, the other way: the users the User Operator ignores are owner kafka-api's mark.
    const ignoring = ignoringUsers(live, ["loaders", "queue-manager"]);
    const unrecorded = problemsAfter(ignoring, (c) => c);
    expectRule(unrecorded, "streamforge:catalogue.owner", "catalogueOwnerChanged");
    expect(unrecorded).toContainEqual(
      expect.stringContaining("found kafka-api -> strimzi (the Kafka CR's User Operator ignores loaders, queue-manager"),
    );
    // Strimzi objects of other names are not the catalogue's; without a running cluster nothing is judged.
    expect(problems({ ...apiLive, strimziCatalogue: { topics: ["elsewhere"], users: [] } }, apiConfig)).toEqual([]);
    expect(problems({ nodePools: [], topics: [], users: [], catalogueOwner: "strimzi" }, apiConfig)).toEqual([]);
  });

  it("whose each Kafka CR of the namespace is, by its stack annotation", () => {
    const cr = (name: string, stack?: string) => ({
      metadata: { name, ...(stack !== undefined ? { annotations: { [STACK_ANNOTATION]: stack } } : {}) },
    });
    const mine = stackIdentity("acme", "streamforge", "dev");
    const theirs = stackIdentity("acme", "streamforge", "dev-2");
    expect(clusterOwnership([cr("k3", mine), cr("k9", theirs), cr("old"), cr("blank", ""), cr("k4", mine)], "k4", mine)).toEqual({
      formerNames: ["k3"],
      unnamedClusters: ["blank", "old"],
    });
    expect(clusterOwnership([cr("k9", theirs)], "k3", mine)).toEqual({});
    expect(clusterOwnership([cr("k3", theirs)], "k3", mine)).toEqual({ clusterOwner: theirs });
    // Two organizations' stacks of the same name are two stacks.
    expect(clusterOwnership([cr("k3", stackIdentity("other-org", "streamforge", "dev"))], "k3", mine)).toEqual({
      clusterOwner: "other-org/streamforge/dev",
    });
  });

  it("versions: metadataVersion may not move with version; a downgrade needs the metadata lowered first", () => {
    const at = (version: string, metadataVersion: string | undefined, current: string): LiveKafka => ({
      ...live,
      cluster: {
        ...live.cluster!,
        spec: { ...live.cluster!.spec, kafka: { version, ...(metadataVersion ? { metadataVersion } : {}) } },
        status: { kafkaMetadataVersion: current },
      },
    });
    const to = (version: string, metadataVersion?: string) => (c: PlatformConfig) => ({
      ...c,
      kafka: { ...c.kafka, version, metadataVersion },
    });
    expect(problemsAfter(at("4.2.0", "4.2-IV1", "4.2-IV1"), to("4.3.0", "4.2-IV1"))).toEqual([]);
    expectRule(
      problemsAfter(at("4.2.0", "4.2-IV1", "4.2-IV1"), to("4.3.0", "4.3-IV0")),
      "streamforge:kafka.metadataVersion",
      "metadataWithVersionChange",
    );
    expectRule(problemsAfter(at("4.3.0", undefined, "4.3-IV0"), to("4.2.0")), "streamforge:kafka.version", "downgradePastMetadata");
    expect(problemsAfter(at("4.3.0", undefined, "4.2-IV1"), to("4.2.0"))).toEqual([]);
  });

  it("versions the pinned Strimzi release does not support, or metadata ahead of the version (no cluster needed)", () => {
    const { kafka } = committedConfig("local");
    expect(versionProblems({ ...kafka, version: "4.1.0" }, "1.2.0")[0]?.message).toMatch(
      /^a Kafka version the pinned Strimzi release does not support.*supports 4\.2\.0, 4\.2\.1, 4\.3\.0, 4\.3\.1/,
    );
    expect(versionProblems({ ...kafka, version: "4.2.0", metadataVersion: "4.3-IV0" }, "1.2.0")[0]?.key).toBe(
      "streamforge:kafka.metadataVersion",
    );
    expect(versionProblems(kafka, "1.3.0")[0]?.key).toBe("streamforge:strimzi.chartVersion");
    expect(variantProblems("local", (raw) => (raw.kafka.version = "4.0.0"))).toEqual([
      expect.stringContaining("streamforge:kafka.version: a Kafka version"),
    ]);
  });
});

describe("config changes that delete records need a confirmation naming the new value", () => {
  let live: LiveKafka;
  beforeAll(async () => {
    live = await liveLocal();
  });
  type TopicConfig = PlatformConfig["catalogue"]["topics"][string]["config"];
  const topicConfig = (topic: string, edit: (config: TopicConfig) => TopicConfig) => (c: PlatformConfig) => ({
    ...c,
    catalogue: {
      ...c.catalogue,
      topics: { ...c.catalogue.topics, [topic]: { ...c.catalogue.topics[topic]!, config: edit(c.catalogue.topics[topic]!.config) } },
    },
  });
  const brokerConfig = (config: Record<string, string | number | boolean>) => (c: PlatformConfig) => ({
    ...c,
    kafka: { ...c.kafka, config: { ...c.kafka.config, ...config } },
  });
  const truncate = (truncate: Partial<PlatformConfig["retire"]["truncate"]>) => (c: PlatformConfig) =>
    retiring(c, { truncate: { topics: {}, brokers: {}, ...truncate } });
  const then =
    (...edits: ((c: PlatformConfig) => PlatformConfig)[]) =>
    (c: PlatformConfig) =>
      edits.reduce((acc, e) => e(acc), c);
  const shorter = topicConfig("queue-control", (config) => ({ ...config, "retention.ms": 1000 }));

  it("a shorter retention: refused naming the key, what it deletes and the confirmation; confirmed with its value, admitted", () => {
    expect(problemsAfter(live, shorter)).toEqual([
      'streamforge:catalogue.topics.queue-control.config.retention.ms: expected a confirmation for topic "queue-control"\'s retention time (retention.ms: 1000): ' +
        "records older than the new retention are deleted at the next log cleanup. " +
        'To go ahead, set streamforge:retire.truncate.topics.queue-control["retention.ms"] to "1000" in the same change; found none',
    ]);
    expect(problemsAfter(live, then(shorter, truncate({ topics: { "queue-control": { "retention.ms": 1000 } } })))).toEqual([]);
    // Another value than the one confirmed is not confirmed.
    expect(problemsAfter(live, then(shorter, truncate({ topics: { "queue-control": { "retention.ms": 500 } } })))).toEqual([
      expect.stringContaining("found 500"),
    ]);
  });

  it("what keeps more, or deletes nothing, needs none: a longer retention, a policy dropped, unlimited", () => {
    expect(
      problemsAfter(
        live,
        topicConfig("queue-control", (config) => ({ ...config, "retention.ms": 172800000 })),
      ),
    ).toEqual([]);
    expect(
      problemsAfter(
        live,
        topicConfig("queue-control", (config) => ({ ...config, "retention.ms": -1 })),
      ),
    ).toEqual([]);
    expect(
      problemsAfter(
        live,
        topicConfig("queue-control", (config) => ({ ...config, "min.insync.replicas": 1 })),
      ),
    ).toEqual([]);
  });

  it('a policy that starts compacting, and a key removed whose default keeps less: refused, the removal confirmed as "default"', () => {
    const compact = topicConfig("queue-control", (config) => ({ ...config, "cleanup.policy": "compact,delete" }));
    expect(problemsAfter(live, compact)).toEqual([
      expect.stringMatching(
        /^streamforge:catalogue\.topics\.queue-control\.config\.cleanup\.policy: .*cleanup policy \(cleanup\.policy: compact,delete\): compaction deletes/,
      ),
    ]);
    // market-klines keeps 30 days; without its own retention.ms it follows the brokers' 7 (log.retention.hours 168).
    const unset = topicConfig("market-klines", ({ "retention.ms": _, ...rest }) => rest);
    expect(problemsAfter(live, unset)).toEqual([
      expect.stringContaining('set streamforge:retire.truncate.topics.market-klines["retention.ms"] to "default"'),
    ]);
    expect(problemsAfter(live, then(unset, truncate({ topics: { "market-klines": { "retention.ms": "default" } } })))).toEqual([]);
  });

  it("the brokers' defaults the same way: retention, and consumer offsets that expire sooner", () => {
    expect(problemsAfter(live, brokerConfig({ "log.retention.hours": 24, "offsets.retention.minutes": 60 }))).toEqual([
      expect.stringMatching(
        /^streamforge:kafka\.config\.log\.retention\.hours: .*the brokers' default retention time .*every topic without its own retention\.ms/,
      ),
      expect.stringMatching(/^streamforge:kafka\.config\.offsets\.retention\.minutes: .*committed offsets of groups idle longer/),
    ]);
    const confirmed = truncate({ brokers: { "log.retention.hours": 24, "offsets.retention.minutes": 60 } });
    expect(problemsAfter(live, then(brokerConfig({ "log.retention.hours": 24, "offsets.retention.minutes": 60 }), confirmed))).toEqual([]);
    // A longer one needs none; ms wins over hours, as Kafka reads them.
    expect(problemsAfter(live, brokerConfig({ "log.retention.hours": 720 }))).toEqual([]);
    // Each key of a change that deletes is confirmed: both here.
    expect(problemsAfter(live, brokerConfig({ "log.retention.hours": 720, "log.retention.ms": 3600000 }))).toEqual([
      expect.stringMatching(
        /^streamforge:kafka\.config\.log\.retention\.ms: expected a confirmation for the brokers' default retention time \(log\.retention\.ms: 3600000, log\.retention\.hours: 720\)/,
      ),
      expect.stringContaining('set streamforge:retire.truncate.brokers["log.retention.hours"] to "720"'),
    ]);
  });

  it("a confirmation is for one change: once applied, or when its topic is gone, it is refused until removed", () => {
    const applied = {
      ...live,
      topics: live.topics.map((t) =>
        t.name === "queue-control" ? { ...t, spec: { ...t.spec, config: { ...(t.spec.config as object), "retention.ms": 1000 } } } : t,
      ),
    };
    const confirmation = truncate({ topics: { "queue-control": { "retention.ms": 1000 } } });
    const stale = expect.stringMatching(
      /^streamforge:catalogue\.topics\.queue-control\.config\.retention\.ms: expected streamforge:retire\.truncate\.topics\.queue-control\["retention\.ms"\] \(1000\) to confirm a pending change that deletes records; found none .* A confirmation is for one change: remove it once applied/,
    );
    // Applied: refused until removed, so that a drift back or a later change back cannot reuse it.
    expect(problemsAfter(applied, then(shorter, confirmation))).toEqual([stale]);
    expect(problemsAfter(applied, shorter)).toEqual([]);
    // Lengthened again with the old confirmation left: refused the same way.
    expect(problemsAfter(applied, confirmation)).toEqual([stale]);
    // Before the first up nothing is live, and nothing is judged stale.
    expect(problemsAfter({ nodePools: [], topics: [], users: [] }, then(shorter, confirmation))).toEqual([]);
    expect(problemsAfter(live, truncate({ topics: { "gone-topic": { "retention.ms": 1 } } }))).toEqual([
      expect.stringMatching(/^streamforge:retire\.truncate\.topics\.gone-topic: expected a topic of the catalogue/),
    ]);
  });

  it("a topic is judged against the brokers' defaults it followed and will follow; unknown values and unclean election are asked about", () => {
    // The topic followed the brokers' 720 h and gets its own 168 h while the brokers go to 24 h (confirmed): its own cut is asked about too.
    const brokersAt = (hours: number): LiveKafka => ({
      ...withClusterSpec(live, {
        kafka: { ...(live.cluster!.spec.kafka as object), config: { ...brokerConfigOf(live.cluster!.spec), "log.retention.hours": hours } },
      }),
      topics: live.topics.map((t) =>
        t.name === "queue-control" ? { ...t, spec: { ...t.spec, config: { "cleanup.policy": "delete" } } } : t,
      ),
    });
    const own = (ms: number) => topicConfig("queue-control", (config) => ({ ...config, "retention.ms": ms }));
    const brokers24 = then(brokerConfig({ "log.retention.hours": 24 }), truncate({ brokers: { "log.retention.hours": 24 } }));
    expect(problemsAfter(brokersAt(720), then(own(168 * 3_600_000), brokers24))).toEqual([
      expect.stringContaining('set streamforge:retire.truncate.topics.queue-control["retention.ms"] to "604800000"'),
    ]);
    // The reverse: a default that grows and an own value between the two keeps more than before.
    expect(problemsAfter(brokersAt(168), then(own(200 * 3_600_000), brokerConfig({ "log.retention.hours": 1000 })))).toEqual([]);
    // A live value that is not a number cannot be judged: the change is asked about.
    const garbled: LiveKafka = {
      ...live,
      topics: live.topics.map((t) =>
        t.name === "queue-control" ? { ...t, spec: { ...t.spec, config: { ...(t.spec.config as object), "retention.bytes": "1GiB" } } } : t,
      ),
    };
    expect(
      problemsAfter(
        garbled,
        topicConfig("queue-control", (config) => ({ ...config, "retention.bytes": 1000 })),
      ),
    ).toEqual([expect.stringContaining("retention size")]);
    // Unclean leader election truncates committed records: asked about on a topic and on the brokers.
    expect(
      problemsAfter(
        live,
        topicConfig("queue-control", (config) => ({ ...config, "unclean.leader.election.enable": true })),
      ),
    ).toEqual([
      expect.stringContaining("unclean leader election (unclean.leader.election.enable: true): a replica out of the ISR may become leader"),
    ]);
    expect(problemsAfter(live, brokerConfig({ "unclean.leader.election.enable": true }))).toEqual([
      expect.stringMatching(/^streamforge:kafka\.config\.unclean\.leader\.election\.enable: /),
    ]);
  });

  it("compaction sooner, or tombstones kept less long: asked about where the topic compacts, and for the brokers' defaults", () => {
    const compacted = { "cleanup.policy": "compact" };
    const brokers = { was: {}, now: {} };
    const what = (
      was: Record<string, unknown>,
      now: Record<string, unknown>,
      from: { was: Record<string, unknown>; now: Record<string, unknown> } = brokers,
    ) => topicTruncations(was, now, from).map((t) => [t.what, t.changed]);
    expect(what({ ...compacted, "min.compaction.lag.ms": 3600000 }, { ...compacted, "min.compaction.lag.ms": 60000 })).toEqual([
      ["minimum compaction lag", { "min.compaction.lag.ms": "60000" }],
    ]);
    // Unset, max.compaction.lag.ms is Long.MAX_VALUE and delete.retention.ms one day (LogConfig).
    expect(what(compacted, { ...compacted, "max.compaction.lag.ms": 86400000, "delete.retention.ms": 3600000 })).toEqual([
      ["maximum compaction lag", { "max.compaction.lag.ms": "86400000" }],
      ["tombstone retention", { "delete.retention.ms": "3600000" }],
    ]);
    // The brokers' default, followed by a topic without its own.
    expect(what(compacted, compacted, { was: {}, now: { "log.cleaner.delete.retention.ms": 60000 } })).toEqual([
      ["tombstone retention", {}],
    ]);
    // A topic that only deletes by retention has nothing to compact: no question; nor for a longer lag.
    expect(what({ "delete.retention.ms": 86400000 }, { "delete.retention.ms": 1000 })).toEqual([]);
    expect(what({ ...compacted, "min.compaction.lag.ms": 0 }, { ...compacted, "min.compaction.lag.ms": 60000 })).toEqual([]);
    expect(
      brokerTruncations({}, { "log.cleaner.min.compaction.lag.ms": 0, "log.cleaner.delete.retention.ms": 1000 }).map((t) => t.what),
    ).toEqual(["default tombstone retention"]);
  });

  it("the preview labels a truncation destructive, and a longer retention without effect", () => {
    const impacts = (edit: (c: PlatformConfig) => PlatformConfig) =>
      kafkaEditImpacts(edit(committedConfig("local")), live, live.cluster!.spec).map(
        (i) => `[${i.level}] ${i.object}: ${i.change}: ${i.effect}`,
      );
    expect(impacts(shorter)).toEqual([
      expect.stringMatching(
        /^\[destructive\] KafkaTopic kafka\/queue-control: config: retention\.ms: data deleted: retention time: records older/,
      ),
    ]);
    expect(impacts(topicConfig("queue-control", (config) => ({ ...config, "retention.ms": 172800000 })))).toEqual([
      "[benign] KafkaTopic kafka/queue-control: config: retention.ms: applied to the topic live; no restart",
    ]);
  });
});

describe("topic deletion on the brokers", () => {
  const brokerSetting = async (stack: string, edit?: (raw: any) => void) => {
    const { manifests } = await renderStack(stack, edit ? { edit } : {});
    return (manifests.find((m) => m.kind === "Kafka") as unknown as { spec: { kafka: { config: Record<string, unknown> } } }).spec.kafka
      .config["delete.topic.enable"];
  };

  it("is off in prod unless the stack opts in, on elsewhere", async () => {
    expect(await brokerSetting("prod")).toBe(false);
    expect(await brokerSetting("prod", (raw) => (raw.kafka.topicDeletion = true))).toBe(true);
    expect(await brokerSetting("dev")).toBe(true);
  });

  it("a delete confirmation where the brokers cannot delete is refused; the broker key itself is not the way", () => {
    expect(variantProblems("prod", (raw) => (raw.retire = { topics: { "queue-events": "delete" } }))).toEqual([
      expect.stringMatching(/^streamforge:retire\.topics\.queue-events: expected "keep": the brokers do not delete topics here/),
    ]);
    expect(variantProblems("dev", (raw) => (raw.kafka.config = { "delete.topic.enable": false }))).toEqual([
      expect.stringContaining("streamforge:kafka.config.delete.topic.enable: expected streamforge:kafka.topicDeletion instead"),
    ]);
  });
});

describe("every preview says what its changes do to the running cluster", () => {
  let live: LiveKafka;
  let clusterSpec: Readonly<Record<string, unknown>>;
  beforeAll(async () => {
    live = await liveLocal();
    clusterSpec = live.cluster!.spec;
  });
  const impactsAfter = (edit: (c: PlatformConfig) => PlatformConfig, spec = clusterSpec) =>
    kafkaEditImpacts(edit(committedConfig("local")), live, spec).map((i) => `[${i.level}] ${i.object}: ${i.change}: ${i.effect}`);

  it("an unchanged stack: no impact", () => {
    expect(impactsAfter((c) => c)).toEqual([]);
    expect(impactReport([])).toMatch(/^Kafka impact: none/);
  });

  it("labels a set of fixture changes, destructive first", () => {
    const retired = { ...live, topics: live.topics.map((t) => (t.name === "market-klines" ? { ...t, retire: "delete" as const } : t)) };
    const edit = (c: PlatformConfig): PlatformConfig => {
      const topics = Object.fromEntries(Object.entries(c.catalogue.topics).filter(([n]) => n !== "market-klines"));
      topics["queue-events"] = { ...topics["queue-events"]!, partitions: topics["queue-events"]!.partitions + 3 };
      topics["queue-control"] = { ...topics["queue-control"]!, config: { ...topics["queue-control"]!.config, "retention.ms": 1000 } };
      const pools = c.kafka.nodePools.map((p) => ({
        ...p,
        resources: { ...p.resources, limits: { ...p.resources.limits, memory: "1Gi" } },
      }));
      return { ...c, catalogue: { ...c.catalogue, topics }, kafka: { ...c.kafka, nodePools: pools } };
    };
    const spec = { ...clusterSpec, kafka: { ...(clusterSpec.kafka as object), version: "4.3.0" } };
    const impacts = kafkaEditImpacts(edit(committedConfig("local")), retired, spec);
    expect(impacts.map((i) => [i.level, i.object, i.change])).toEqual([
      ["destructive", "KafkaTopic kafka/market-klines", "removed (retire: delete)"],
      ["destructive", "KafkaTopic kafka/queue-control", "config: retention.ms"],
      ["disruptive", "Kafka kafka/k3", "spec.kafka.version 4.2.0 -> 4.3.0"],
      ["disruptive", "KafkaNodePool kafka/dual-role", "resources"],
      ["disruptive", "KafkaTopic kafka/queue-events", "partitions 3 -> 6"],
    ]);
    expect(impactReport(impacts)).toMatch(
      /^Kafka impact: 2 destructive, 3 disruptive, 0 without effect on clients\n {2}\[destructive\] KafkaTopic kafka\/market-klines: removed \(retire: delete\): data deleted/,
    );
    expect(impacts[2]!.effect).toMatch(
      /^upgrade, step 1 of 2 \(version, then metadataVersion\): rolling restart of every node \(pools dual-role\)/,
    );
    // The second step, and a downgrade's first.
    const withMetadata = (v: string) => ({ ...clusterSpec, kafka: { ...(clusterSpec.kafka as object), metadataVersion: v } });
    const metadata = (was: string, now: string) =>
      kafkaEditImpacts(
        committedConfig("local"),
        { ...live, cluster: { ...live.cluster!, spec: withMetadata(was) } },
        withMetadata(now),
      ).map((i) => i.effect);
    expect(metadata("4.2-IV0", "4.2-IV1")).toEqual([expect.stringMatching(/^upgrade, step 2 of 2/)]);
    expect(metadata("4.2-IV1", "4.1-IV0")).toEqual([expect.stringMatching(/^downgrade, step 1 of 2 \(metadataVersion, then version\)/)]);
    // Unset in the spec, the cluster runs its version's default, which its status reports: the step is read against that.
    const fromDefault = (running: string | undefined) =>
      kafkaEditImpacts(
        committedConfig("local"),
        { ...live, cluster: { ...live.cluster!, ...(running ? { status: { kafkaMetadataVersion: running } } : {}) } },
        withMetadata("4.2-IV0"),
      ).map((i) => i.effect);
    expect(fromDefault("4.2-IV1")).toEqual([expect.stringMatching(/^downgrade, step 1 of 2 \(metadataVersion, then version\)/)]);
    expect(fromDefault(undefined)).toEqual([expect.stringMatching(/^metadataVersion change: /)]);
    // A metadata downgrade says Kafka may refuse it (a SAFE_DOWNGRADE); an upgrade does not.
    expect(fromDefault("4.2-IV1")[0]).toContain("else the status keeps the current one with a MetadataUpdateFailed warning");
    expect(metadata("4.2-IV0", "4.2-IV1")[0]).not.toContain("MetadataUpdateFailed");
  });

  it("a listener removed cuts its clients off; an ACL change is labelled, a new topic is benign", () => {
    const kafka = clusterSpec.kafka as { listeners: { name: string }[] };
    const spec = { ...clusterSpec, kafka: { ...kafka, listeners: kafka.listeners.slice(1) } };
    expect(impactsAfter((c) => c, spec)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\[destructive\\] Kafka kafka/k3: spec.kafka.listeners: .*clients of listener ${kafka.listeners[0]!.name} are cut off`,
        ),
      ),
    ]);
    const more = impactsAfter((c) => ({
      ...c,
      catalogue: {
        ...c.catalogue,
        topics: { ...c.catalogue.topics, "market-ticks": { partitions: 3, config: {} } },
        users: { ...c.catalogue.users, loaders: { ...c.catalogue.users.loaders!, consume: ["queue-control", "queue-events"] } },
      },
    }));
    expect(more).toEqual([
      "[benign] KafkaTopic kafka/market-ticks: created: topic market-ticks is created",
      "[benign] KafkaUser stf/loaders: authorization: its clients gain Read on topic queue-events",
    ]);
    // A grant taken away cuts the client off from what it used: disruptive, and named.
    const fewer = impactsAfter((c) => ({
      ...c,
      catalogue: { ...c.catalogue, users: { ...c.catalogue.users, loaders: { ...c.catalogue.users.loaders!, consume: [], groups: [] } } },
    }));
    expect(fewer).toEqual([
      expect.stringMatching(
        /^\[disruptive\] KafkaUser stf\/loaders: authorization: its clients lose Describe on topic queue-control, Read on group loader-\* \(prefix\), Read on topic queue-control: those calls fail with an authorization error$/,
      ),
    ]);
  });

  it("reads ACL changes as the User Operator applies them: per operation, allow and * by default, none without simple authorization", () => {
    const rule = (operations: string[], extra: object = {}) => ({ resource: { type: "topic", name: "orders" }, operations, ...extra });
    const simple = (...acls: object[]) => ({ type: "simple", acls });
    expect([...aclEntries(simple(rule(["Read", "Describe"])))]).toEqual(["allow Read on topic orders", "allow Describe on topic orders"]);
    // The same grants written differently are no change.
    expect(
      aclImpact(aclEntries(simple(rule(["Read", "Describe"]))), aclEntries(simple(rule(["Describe"]), rule(["Read"], { host: "*" })))),
    ).toBe(undefined);
    // The cluster resource is kafka-cluster whatever its name; a literal name ending in "*" is not a prefix.
    const cluster = (name?: string) => ({ resource: { type: "cluster", ...(name ? { name } : {}) }, operations: ["IdempotentWrite"] });
    expect(aclImpact(aclEntries(simple(cluster())), aclEntries(simple(cluster("kafka-cluster"))))).toBe(undefined);
    const group = (patternType: string) => ({ resource: { type: "group", name: "app", patternType }, operations: ["Read"] });
    const literalStar = { resource: { type: "group", name: "app*", patternType: "literal" }, operations: ["Read"] };
    expect(aclImpact(aclEntries(simple(group("prefix"))), aclEntries(simple(literalStar)))?.level).toBe("disruptive");
    // No simple authorization: the User Operator deletes the user's ACLs.
    expect(aclImpact(aclEntries(simple(rule(["Read"]))), aclEntries(undefined))?.level).toBe("disruptive");
    // A deny added refuses calls; a deny removed and a prefix grant only add.
    expect(
      aclImpact(aclEntries(simple(rule(["Read"]))), aclEntries(simple(rule(["Read"]), rule(["Read"], { type: "deny", host: "10.0.0.1" })))),
    ).toEqual({
      level: "disruptive",
      effect: "its clients lose Read on topic orders from 10.0.0.1 (denied): those calls fail with an authorization error",
    });
    const prefixed = { resource: { type: "topic", name: "orders-", patternType: "prefix" }, operations: ["Write"] };
    expect(aclImpact(aclEntries(simple(rule(["Read"], { type: "deny" }))), aclEntries(simple(prefixed)))).toEqual({
      level: "benign",
      effect: "its clients gain Write on topic orders-* (prefix), Read on topic orders (no longer denied)",
    });
  });
});
