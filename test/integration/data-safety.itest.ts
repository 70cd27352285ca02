/**
 * No edit loses data, with the real Pulumi CLI and engine against the real API server: the local
 * stack's config (in namespaces of its own, protection on) is deployed, then edited as a platform
 * team would. A topic removed without confirmation is refused at preview and at `up`, naming it
 * and the key, and its KafkaTopic stays; with the confirmation applied, "delete" deletes it and
 * "keep" leaves it in the cluster, out of the state; a change Strimzi cannot make is refused at
 * preview; `pulumi destroy` is refused by the engine on the destroy guard (infra/kit/confirmation-guard.ts)
 * before anything is deleted, even with `--skip-preview`, until the stack's confirmation is applied.
 * No Strimzi operator runs here: deleting a KafkaTopic is what would delete its data.
 */
import { UNSUPPORTED_CHANGES, type UnsupportedChangeId } from "../../infra/kafka/kafka-changes";
import { kubectl, localVariant, pulumi, requireEnv, selectStack } from "./local-platform";

const STACK = "data-safety";
const KAFKA_NS = "kafka-safety";

type Config = Record<string, any>;

/** The variant's config after `edit`: protection on (no `retire` unless `edit` sets one), no canary. */
function variant(edit: (c: Config) => void = () => {}): string {
  return localVariant(STACK, "safety", (c) => {
    delete c["streamforge:retire"];
    delete c["streamforge:rollouts"];
    edit(c);
  });
}

const withoutTopic = (topic: string) => (c: Config) => delete c["streamforge:catalogue"].topics[topic];
const retire = (retirements: object) => (c: Config) => (c["streamforge:retire"] = retirements);
const both =
  (...edits: ((c: Config) => void)[]) =>
  (c: Config) =>
    edits.forEach((e) => e(c));

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

describe("a change Strimzi cannot make", () => {
  // The config the tests before left (two topics retired), with one change Strimzi 1.2.0 cannot make.
  const changed = (edit: (c: Config) => void) =>
    variant(
      both(
        withoutTopic("market-klines"),
        withoutTopic("market-trades"),
        retire({ topics: { "market-klines": "delete", "market-trades": "keep" } }),
        edit,
      ),
    );
  const partitions = () =>
    kubectl("get", "kafkatopics.kafka.strimzi.io", "queue-events", "-n", KAFKA_NS, "-o", "jsonpath={.spec.partitions}");
  const topic = (c: Config) => c["streamforge:catalogue"].topics["queue-events"];
  const pool = (c: Config) => c["streamforge:kafka"].nodePools[0];
  // One of each kind the program reads live (a topic, a pool, the cluster's version), as a platform team would edit the stack file.
  const cases: [UnsupportedChangeId, string, (c: Config) => void][] = [
    [
      "partitionsDecreased",
      "streamforge:catalogue.topics.queue-events.partitions",
      (c) => (topic(c).partitions = Number(partitions()) - 1),
    ],
    ["replicasChanged", "streamforge:catalogue.topics.queue-events.replicas", (c) => (topic(c).replicas = 2)],
    [
      "storageTypeChanged",
      "streamforge:kafka.nodePools[0].storage",
      (c) => (pool(c).storage = { type: "persistent-claim", size: "10Gi", class: "standard", deleteClaim: false }),
    ],
    ["controllerQuorumChanged", "streamforge:kafka.nodePools[0].replicas", (c) => (pool(c).replicas = 5)],
    ["versionUnsupported", "streamforge:kafka.version", (c) => (c["streamforge:kafka"].version = "4.1.0")],
  ];

  it.each(cases)("%s: refused at preview, naming %s, the reason, its source and the procedure; nothing changes", (id, key, edit) => {
    const before = partitions();
    const rule = UNSUPPORTED_CHANGES[id];
    const result = preview(changed(edit));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`${key}: ${rule.change} is not a change Strimzi 1.2.0 can make`);
    expect(result.output).toContain(rule.source.split(",")[0]!.split(":")[0]!.split("/").pop()!);
    expect(result.output).toContain(rule.procedure.slice(0, 40));
    expect(partitions()).toBe(before);
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
