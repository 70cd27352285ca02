/**
 * No edit loses data, with the real Pulumi CLI and engine against the real API server: the local
 * stack's config (in namespaces of its own, protection on) is deployed, then edited as a platform
 * team would. A topic removed without confirmation is refused at preview and at `up`, naming it
 * and the key, and its KafkaTopic stays; with the confirmation applied, "delete" deletes it and
 * "keep" leaves it in the cluster, out of the state; each change Strimzi cannot make is refused at
 * preview, and the upgrade path goes one step at a time; `pulumi destroy` is refused by the engine on the destroy guard (infra/kit/confirmation-guard.ts)
 * before anything is deleted, even with `--skip-preview`, until the stack's confirmation is applied.
 * No Strimzi operator runs here: deleting a KafkaTopic is what would delete its data.
 */
import { UNSUPPORTED_CHANGES, type UnsupportedChangeId } from "../kafka-changes";
import { STACK_ANNOTATION, stackIdentity } from "../data-safety";
import {
  kubectl,
  kubectlWith,
  localStackFile,
  localVariant,
  pulumi,
  requireEnv,
  selectStack,
} from "../../../test/integration/local-platform";

const STACK = "data-safety";
const KAFKA_NS = "kafka-safety";

type Config = Record<string, any>;

/**
 * The variant's config after `edit`: protection on (no `retire` unless `edit` sets one), no canary,
 * and beside the local stack's dual-role pool a broker pool on persistent JBOD volumes, so that
 * the storage and scale-down rules have a live pool to read.
 */
function variant(edit: (c: Config) => void = () => {}): string {
  return localVariant(STACK, "safety", (c) => {
    delete c["streamforge:retire"];
    delete c["streamforge:rollouts"];
    const [dualRole] = c["streamforge:kafka"].nodePools;
    c["streamforge:kafka"].nodePools.push({
      ...dualRole,
      name: "brokers",
      roles: ["broker"],
      storage: { type: "persistent-claim", size: "10Gi", class: "standard", volumes: 2 },
    });
    edit(c);
  });
}

const withoutTopic = (topic: string) => (c: Config) => delete c["streamforge:catalogue"].topics[topic];
const retire = (retirements: object) => (c: Config) => (c["streamforge:retire"] = retirements);
const both =
  (...edits: ((c: Config) => void)[]) =>
  (c: Config) =>
    edits.forEach((e) => e(c));

const kafka = (c: Config) => c["streamforge:kafka"];
const up = (file: string) => pulumi(["up", "--stack", STACK, "--config-file", file, "--yes", "--skip-preview"]);
const preview = (file: string) => pulumi(["preview", "--stack", STACK, "--config-file", file, "--diff"]);
const topicObjects = (): string[] =>
  kubectl("get", "kafkatopics.kafka.strimzi.io", "-n", KAFKA_NS, "-o", "jsonpath={.items[*].metadata.name}").split(" ").filter(Boolean);
const stateHolds = (name: string): boolean => pulumi(["stack", "export", "--stack", STACK]).stdout.includes(`catalogue-topic-${name}`);

beforeAll(() => {
  requireEnv("KUBECONFIG");
  requireEnv("PULUMI_BACKEND_URL");
  selectStack(STACK);
  const first = up(variant());
  if (first.status !== 0) throw new Error(`the first pulumi up failed:\n${first.output.slice(-3000)}`);
}, 600_000);

afterAll(() => {
  // The documented way out (docs/runbook.md): confirm the stack's deletion, apply it, destroy. The
  // config is the one the tests left (two topics retired), so the confirming `up` changes nothing else.
  const last = variant(
    both(
      withoutTopic("market-klines"),
      withoutTopic("market-trades"),
      retire({ topics: { "market-klines": "delete", "market-trades": "keep" }, stack: "delete" }),
    ),
  );
  const confirmed = up(last);
  if (confirmed.status !== 0) console.log(`pulumi up --stack ${STACK} confirming its deletion failed:\n${confirmed.output.slice(-3000)}`);
  const destroyed = pulumi(["destroy", "--stack", STACK, "--config-file", last, "--yes", "--skip-preview"]);
  if (destroyed.status === 0) pulumi(["stack", "rm", STACK, "--yes", "--force"]);
  else console.log(`pulumi destroy --stack ${STACK} failed; its objects are left:\n${destroyed.output.slice(-2000)}`);
  // The released topic goes with its namespace, which the confirmed destroy deletes.
}, 600_000);

describe("removing a topic", () => {
  it("without confirmation: refused at preview and at up, naming the topic and the key; the KafkaTopic stays", () => {
    expect(topicObjects()).toContain("market-klines");
    const file = variant(withoutTopic("market-klines"));
    for (const result of [preview(file), up(file)]) {
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('streamforge:catalogue.topics.market-klines: expected the topic "market-klines" to stay');
      expect(result.output).toContain("streamforge:retire.topics.market-klines");
    }
    expect(topicObjects()).toContain("market-klines");
    expect(stateHolds("market-klines")).toBe(true);
  });

  it("confirmed in the same change that removes it: refused until an up has applied the confirmation", () => {
    const result = preview(variant(both(withoutTopic("market-klines"), retire({ topics: { "market-klines": "delete" } }))));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('until its confirmation streamforge:retire.topics.market-klines ("delete") is applied');
    expect(topicObjects()).toContain("market-klines");
  });

  it('"delete", applied, then removed: the KafkaTopic is deleted', () => {
    const confirmed = up(variant(retire({ topics: { "market-klines": "delete" } })));
    expect([confirmed.status, confirmed.output.slice(-1500)]).toEqual([0, expect.any(String)]);
    expect(
      kubectl("get", "kafkatopics.kafka.strimzi.io", "market-klines", "-n", KAFKA_NS, "-o", "jsonpath={.metadata.annotations}"),
    ).toContain('"streamforge.io/retire":"delete"');
    const removed = up(variant(both(withoutTopic("market-klines"), retire({ topics: { "market-klines": "delete" } }))));
    expect([removed.status, removed.output.slice(-1500)]).toEqual([0, expect.stringContaining("deleted")]);
    // The update said what it does to the running cluster, destructive first.
    expect(removed.output).toContain("Kafka impact: 1 destructive");
    expect(removed.output).toContain("[destructive] KafkaTopic kafka-safety/market-klines: removed (retire: delete): data deleted");
    expect(topicObjects()).not.toContain("market-klines");
    // The others are all still there: only the confirmed topic went.
    expect(topicObjects()).toEqual(expect.arrayContaining(["market-orderbook", "market-trades", "queue-control", "queue-events"]));
  });

  it('"keep", applied, then removed: the KafkaTopic stays in the cluster, out of the stack', () => {
    const gone = both(withoutTopic("market-klines"), withoutTopic("market-trades"));
    const retirements = { topics: { "market-klines": "delete", "market-trades": "keep" } };
    expect(up(variant(both(withoutTopic("market-klines"), retire(retirements)))).status).toBe(0);
    const removed = up(variant(both(gone, retire(retirements))));
    expect([removed.status, removed.output.slice(-1500)]).toEqual([0, expect.any(String)]);
    expect(topicObjects()).toContain("market-trades");
    expect(stateHolds("market-trades")).toBe(false);
    // Released, it is no longer the stack's to keep: later changes go on without its confirmation.
    expect(preview(variant(gone)).status).toBe(0);
  });
});

// The config the tests of "removing a topic" leave (two topics retired), after `edit`.
const changed = (edit: (c: Config) => void) =>
  variant(
    both(
      withoutTopic("market-klines"),
      withoutTopic("market-trades"),
      retire({ topics: { "market-klines": "delete", "market-trades": "keep" } }),
      edit,
    ),
  );
// Every Strimzi object of the stack by its resourceVersion: any write to one changes it.
const strimziObjects = () =>
  kubectl(
    "get",
    "kafkas.kafka.strimzi.io,kafkanodepools.kafka.strimzi.io,kafkatopics.kafka.strimzi.io",
    "-n",
    KAFKA_NS,
    "-o",
    "jsonpath={range .items[*]}{.kind}/{.metadata.name}@{.metadata.resourceVersion} {end}",
  );

describe("a change Strimzi cannot make", () => {
  const partitions = () =>
    kubectl("get", "kafkatopics.kafka.strimzi.io", "queue-events", "-n", KAFKA_NS, "-o", "jsonpath={.spec.partitions}");
  const topic = (c: Config) => c["streamforge:catalogue"].topics["queue-events"];
  const [dualRole, brokers] = [(c: Config) => kafka(c).nodePools[0], (c: Config) => kafka(c).nodePools[1]];
  // Each change the program reads live, and those it refuses from the config alone, as a platform team would edit the stack file.
  const cases: [UnsupportedChangeId, string, (c: Config) => void][] = [
    [
      "partitionsDecreased",
      "streamforge:catalogue.topics.queue-events.partitions",
      (c) => (topic(c).partitions = Number(partitions()) - 1),
    ],
    ["replicasChanged", "streamforge:catalogue.topics.queue-events.replicas", (c) => (topic(c).replicas = 2)],
    [
      // The Kafka name of the KafkaTopic market-orderbook changes (topicResourceName maps both to it).
      "topicNameChanged",
      "streamforge:catalogue.topics.market_orderbook",
      (c) => {
        const topics = c["streamforge:catalogue"].topics;
        topics["market_orderbook"] = topics["market-orderbook"];
        delete topics["market-orderbook"];
      },
    ],
    [
      "storageTypeChanged",
      "streamforge:kafka.nodePools[0].storage",
      (c) => (dualRole(c).storage = { type: "persistent-claim", size: "10Gi", class: "standard", deleteClaim: false }),
    ],
    ["storageFieldChanged", "streamforge:kafka.nodePools[0].storage", (c) => (dualRole(c).storage.sizeLimit = "5Gi")],
    ["storageShrunk", "streamforge:kafka.nodePools[1].storage", (c) => (brokers(c).storage.size = "5Gi")],
    ["storageClassChanged", "streamforge:kafka.nodePools[1].storage", (c) => (brokers(c).storage.class = "fast")],
    ["volumeRemoved", "streamforge:kafka.nodePools[1].storage", (c) => (brokers(c).storage.volumes = 1)],
    ["brokersScaledDown", "streamforge:kafka.nodePools[1].replicas", (c) => (brokers(c).replicas = 2)],
    ["brokerRoleRemoved", "streamforge:kafka.nodePools[0].roles", (c) => (dualRole(c).roles = ["controller"])],
    ["controllerQuorumChanged", "streamforge:kafka.nodePools[0].replicas", (c) => (dualRole(c).replicas = 5)],
    ["clusterRenamed", "streamforge:kafka.clusterName", (c) => (kafka(c).clusterName = "k4")],
    ["usersNamespaceChanged", "streamforge:apps.namespace", (c) => (c["streamforge:apps"].namespace = "stf-next")],
    [
      // The Kafka CR the first up wrote records owner strimzi; the admin connection is the local-kafka-api stack's.
      "catalogueOwnerChanged",
      "streamforge:catalogue.owner",
      (c) => {
        c["streamforge:catalogue"].owner = "kafka-api";
        c["streamforge:kafkaApi"] = localStackFile("Pulumi.local-kafka-api.yaml").config["streamforge:kafkaApi"];
      },
    ],
    ["versionUnsupported", "streamforge:kafka.version", (c) => (kafka(c).version = "4.1.0")],
    ["metadataAheadOfVersion", "streamforge:kafka.metadataVersion", (c) => (kafka(c).metadataVersion = "4.3-IV0")],
    [
      "metadataWithVersionChange",
      "streamforge:kafka.metadataVersion",
      (c) => Object.assign(kafka(c), { version: "4.3.0", metadataVersion: "4.3-IV0" }),
    ],
  ];

  it.each(cases)("%s: refused at preview, naming %s, the reason, its source and the procedure; nothing changes", (id, key, edit) => {
    const before = strimziObjects();
    expect(before).toContain("KafkaNodePool/brokers@");
    const rule = UNSUPPORTED_CHANGES[id];
    const result = preview(changed(edit));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`${key}: ${rule.change} is not a change Strimzi 1.2.0 can make`);
    expect(result.output).toContain(rule.source.split(",")[0]!.split(":")[0]!.split("/").pop()!);
    expect(result.output).toContain(rule.procedure.slice(0, 40));
    expect(strimziObjects()).toBe(before);
  });

  it("clusterRenamed beside another stack's cluster in the namespace: still refused, naming this stack's own former name", () => {
    const other = {
      apiVersion: "kafka.strimzi.io/v1",
      kind: "Kafka",
      metadata: {
        name: "k9",
        namespace: KAFKA_NS,
        labels: { "app.kubernetes.io/part-of": "streamforge" },
        annotations: { [STACK_ANNOTATION]: stackIdentity("organization", "streamforge", "another-team") },
      },
      spec: { kafka: { listeners: [{ name: "plain", port: 9092, type: "internal", tls: false }] } },
    };
    const applied = kubectlWith(undefined, other, "apply", "-f", "-");
    expect(applied).toEqual({ ok: true, output: "kafka.kafka.strimzi.io/k9 created" });
    try {
      const result = preview(changed((c) => (kafka(c).clusterName = "k4")));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`"k3" -> "k4" in namespace ${KAFKA_NS}`);
    } finally {
      kubectl("delete", "kafkas.kafka.strimzi.io", "k9", "-n", KAFKA_NS);
    }
  });

  it("a broker pool scaled down once the stack confirms its brokers were emptied: admitted, labelled disruptive", () => {
    const result = preview(
      changed((c) => {
        brokers(c).replicas = 2;
        c["streamforge:retire"].scaleDown = { brokers: 2 };
      }),
    );
    expect([result.status, result.output.slice(-2000)]).toEqual([0, expect.any(String)]);
    expect(result.output).toContain("[disruptive] KafkaNodePool kafka-safety/brokers: replicas 3 -> 2: its highest node IDs are removed");
  });
});

describe("a config change that deletes records", () => {
  const events = (c: Config) => c["streamforge:catalogue"].topics["queue-events"];
  const retention = () =>
    kubectl("get", "kafkatopics.kafka.strimzi.io", "queue-events", "-n", KAFKA_NS, "-o", "jsonpath={.spec.config.retention\\.ms}");
  const shorter = (c: Config) => (events(c).config["retention.ms"] = 3600000);
  const confirmed = (c: Config) => (c["streamforge:retire"].truncate = { topics: { "queue-events": { "retention.ms": 3600000 } } });

  it("a shorter retention: refused at preview naming the key and the confirmation; confirmed, applied and labelled destructive", () => {
    const before = retention();
    expect(Number(before)).toBeGreaterThan(3600000);
    const refused = preview(changed(shorter));
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain(
      'streamforge:catalogue.topics.queue-events.config.retention.ms: expected a confirmation for topic "queue-events"\'s retention time',
    );
    expect(refused.output).toContain('set streamforge:retire.truncate.topics.queue-events["retention.ms"] to "3600000"');
    expect(retention()).toBe(before);
    const applied = up(changed(both(shorter, confirmed)));
    expect([applied.status, applied.output.slice(-2000)]).toEqual([0, expect.any(String)]);
    expect(applied.output).toContain(
      "[destructive] KafkaTopic kafka-safety/queue-events: config: retention.ms: data deleted: retention time",
    );
    expect(retention()).toBe("3600000");
    // Applied, the confirmation left behind is refused, so that it cannot pass a later shortening unreviewed.
    const stale = preview(changed(confirmed));
    expect(stale.status).not.toBe(0);
    expect(stale.output).toContain(
      'streamforge:retire.truncate.topics.queue-events["retention.ms"] (3600000) to confirm a pending change that deletes records',
    );
    const restored = up(changed(() => {}));
    expect([restored.status, restored.output.slice(-2000)]).toEqual([0, expect.any(String)]);
    expect(retention()).toBe(before);
  });

  it("a confirmation for a topic the cluster does not hold: refused, the topic would start unprotected", () => {
    const result = preview(
      changed((c) => {
        c["streamforge:catalogue"].topics["market-ticks"] = { partitions: 3, config: {} };
        c["streamforge:retire"].topics["market-ticks"] = "delete";
      }),
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("streamforge:retire.topics.market-ticks: expected a confirmation for a topic the cluster holds");
  });
});

describe("the upgrade path", () => {
  const at = (version: string, metadataVersion?: string) =>
    changed((c) => Object.assign(kafka(c), { version }, metadataVersion ? { metadataVersion } : {}));
  // What Strimzi's Cluster Operator reports once it has moved the cluster's metadata version (Kafka CR status).
  const metadataRunning = (version: string) =>
    kubectl(
      "patch",
      "kafkas.kafka.strimzi.io",
      "k3",
      "-n",
      KAFKA_NS,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { kafkaMetadataVersion: version } }),
    );
  const specVersions = () =>
    kubectl(
      "get",
      "kafkas.kafka.strimzi.io",
      "k3",
      "-n",
      KAFKA_NS,
      "-o",
      "jsonpath={.spec.kafka.version} {.spec.kafka.metadataVersion}",
    ).trim();
  const applied = (file: string) => {
    const result = up(file);
    expect([result.status, result.output.slice(-2000)]).toEqual([0, expect.any(String)]);
    return result.output;
  };

  it("up 4.2.0 -> 4.3.0, then down again, one reviewed step at a time; a downgrade past the running metadata is refused", () => {
    metadataRunning("4.2-IV1");
    // Upgrade, step 1: the version alone. Strimzi then moves an unset metadataVersion to 4.3.0's default.
    expect(applied(at("4.3.0"))).toContain("upgrade, step 1 of 2 (version, then metadataVersion)");
    expect(specVersions()).toBe("4.3.0");
    metadataRunning("4.3-IV0");
    // Back to 4.2.1 while the cluster's metadata is 4.3's: Strimzi's reconcile would fail.
    const before = strimziObjects();
    const refused = preview(at("4.2.1"));
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain(
      `streamforge:kafka.version: ${UNSUPPORTED_CHANGES.downgradePastMetadata.change} is not a change Strimzi 1.2.0 can make`,
    );
    expect(refused.output).toContain("4.3.0 -> 4.2.1 while the cluster's metadata version is 4.3-IV0 (above 4.2-IV1)");
    expect(strimziObjects()).toBe(before);
    // Downgrade, step 1: the metadata version alone, read against the one the cluster runs.
    expect(applied(at("4.3.0", "4.2-IV1"))).toContain("downgrade, step 1 of 2 (metadataVersion, then version)");
    metadataRunning("4.2-IV1");
    // Step 2: the version, the metadata version as it is.
    expect(applied(at("4.2.0", "4.2-IV1"))).toContain("downgrade, step 2 of 2 (metadataVersion, then version)");
    expect(specVersions()).toBe("4.2.0 4.2-IV1");
    // Back to the stack's own config (the default metadata version of 4.2.0, which the cluster runs).
    applied(at("4.2.0"));
    expect(specVersions()).toBe("4.2.0");
  });
});

describe("pulumi destroy", () => {
  const destroyEdit = both(
    withoutTopic("market-klines"),
    withoutTopic("market-trades"),
    retire({ topics: { "market-klines": "delete", "market-trades": "keep" } }),
  );
  const stateUrns = (): string[] =>
    (JSON.parse(pulumi(["stack", "export", "--stack", STACK]).stdout) as { deployment: { resources?: { urn: string }[] } }).deployment
      .resources!.map((r) => r.urn)
      .sort();
  const policies = () => kubectl("get", "networkpolicies", "-n", KAFKA_NS, "-o", "jsonpath={.items[*].metadata.uid}");

  it.each([
    ["after its preview", []],
    ["with --skip-preview", ["--skip-preview"]],
  ])("%s: refused on the destroy guard first, which names the confirmation; nothing is deleted", (_, flags) => {
    const urns = stateUrns();
    const objects = topicObjects();
    const stateless = policies();
    expect(urns.length).toBeGreaterThan(20);
    expect(stateless).not.toBe("");
    const destroyed = pulumi(["destroy", "--stack", STACK, "--config-file", variant(destroyEdit), "--yes", ...flags]);
    expect(destroyed.status).not.toBe(0);
    expect(destroyed.output).toMatch(
      /ConfirmationGuard::set-streamforge:retire\.stack-and-up-before-destroy"? cannot be deleted\s+because it is protected/,
    );
    // The stateless objects that sort before the protected ones are still there, in the state and the cluster.
    expect(stateUrns()).toEqual(urns);
    expect(policies()).toBe(stateless);
    expect(topicObjects()).toEqual(objects);
    expect(kubectl("get", "kafkas.kafka.strimzi.io", "-n", KAFKA_NS, "-o", "jsonpath={.items[*].metadata.name}")).toBe("k3");
  });

  it("--exclude-protected: destroys nothing, every resource being a dependency of the protected guard", () => {
    const urns = stateUrns();
    const stateless = policies();
    const destroyed = pulumi([
      "destroy",
      "--stack",
      STACK,
      "--config-file",
      variant(destroyEdit),
      "--yes",
      "--skip-preview",
      "--exclude-protected",
    ]);
    expect(destroyed.output).not.toMatch(/deleted \(/);
    expect(stateUrns()).toEqual(urns);
    expect(policies()).toBe(stateless);
  });
});
