/**
 * The stack outputs are a contract (infra/kit/outputs-contract.ts): other teams read them with
 * StackReference. The stable part is also written out by hand in test/outputs-baseline.json, so
 * removing or retyping a stable output takes a visible edit there; and every committed stack's
 * real outputs must be exactly what the contract declares.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  FIXED_OUTPUTS,
  type OutputSpec,
  type PascalCase,
  type PlatformOutputs,
  contractProblems,
  documentedOutputs,
  pascalCase,
  requiredOutputProblems,
  specOf,
  topicOutputKey,
  typeLabel,
  userSecretOutputKey,
} from "../infra/kit/outputs-contract";
import { knownStacks, renderStack } from "../infra/render/render";

const baseline = (JSON.parse(fs.readFileSync(path.join(__dirname, "outputs-baseline.json"), "utf8")) as { stable: Record<string, string> })
  .stable;

/** Where the contract's stable outputs depart from the baseline, one line per output. */
function baselineProblems(documented: readonly { name: string; spec: OutputSpec }[]): string[] {
  const byName = new Map(documented.map((d) => [d.name, d.spec]));
  const problems: string[] = [];
  for (const [name, type] of Object.entries(baseline)) {
    const spec = byName.get(name);
    if (!spec) problems.push(`${name}: stable in the baseline, gone from the contract`);
    else if (spec.stability !== "stable") problems.push(`${name}: stable in the baseline, ${spec.stability} in the contract`);
    else if (typeLabel(spec) !== type) problems.push(`${name}: ${type} in the baseline, ${typeLabel(spec)} in the contract`);
  }
  for (const { name, spec } of documented)
    if (spec.stability === "stable" && !(name in baseline))
      problems.push(`${name}: stable in the contract, not in the baseline (add "${name}": "${typeLabel(spec)}")`);
  return problems;
}

describe("the contract against its committed baseline", () => {
  it("keeps every stable output with its type, and baselines every stable output", () => {
    expect(baselineProblems(documentedOutputs())).toEqual([]);
  });

  it("notices a stable output removed, retyped, made experimental or added", () => {
    const documented = documentedOutputs().filter((d) => d.name !== "kafkaSaslMechanism");
    const edit = (name: string, change: Partial<OutputSpec>) =>
      documented.map((d) => (d.name === name ? { name, spec: { ...d.spec, ...change } } : d));
    expect(baselineProblems(documented)).toEqual(["kafkaSaslMechanism: stable in the baseline, gone from the contract"]);
    expect(baselineProblems(edit("kafkaTopicNames", { type: "string" })).slice(1)).toEqual([
      "kafkaTopicNames: string[] in the baseline, string in the contract",
    ]);
    expect(baselineProblems(edit("kafkaClusterCaSecret", { secret: true })).slice(1)).toEqual([
      "kafkaClusterCaSecret: string in the baseline, string (secret) in the contract",
    ]);
    expect(baselineProblems(edit("rolloutName", { stability: "experimental" })).slice(1)).toEqual([
      "rolloutName: stable in the baseline, experimental in the contract",
    ]);
    expect(baselineProblems(edit("chaosEngines", { stability: "stable" })).slice(1)).toEqual([
      'chaosEngines: stable in the contract, not in the baseline (add "chaosEngines": "string[]")',
    ]);
  });

  it("documents every output with a meaning, and an empty value with when it happens", () => {
    for (const { name, spec } of documentedOutputs()) {
      expect([name, spec.meaning.length > 10]).toEqual([name, true]);
      expect([name, spec.emptyWhen ?? "never empty"]).not.toEqual([name, ""]);
    }
  });
});

describe("contractProblems", () => {
  const conforming: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(FIXED_OUTPUTS).map(([k, s]) => [k, s.type === "string" ? `${k}-value` : [`${k}-value`]])),
    kafkaTopicNames: ["queue-events"],
    kafkaUserNames: ["queue-manager"],
    topicQueueEvents: "queue-events",
    kafkaUserQueueManager: "queue-manager",
    kafkaUserQueueManagerSecret: "queue-manager",
  };

  it("accepts outputs that are what the contract declares", () => {
    expect(contractProblems(conforming)).toEqual([]);
  });

  it("names each output that is missing, of another type, empty, secret, or undeclared", () => {
    const rest: Record<string, unknown> = { ...conforming };
    delete rest.kafkaNamespace;
    delete rest.topicQueueEvents;
    expect(
      contractProblems(
        {
          ...rest,
          kafkaTopicNames: "queue-events",
          kafkaBootstrapTls: "",
          kafkaBootstrapPlain: "",
          kafkaBootstrap: "x",
          topicGhost: "ghost",
        },
        new Set(["kafkaClusterName"]),
      ),
    ).toEqual([
      "kafkaClusterName: expected a plain value; found a secret",
      "kafkaNamespace: declared by the contract, missing from the stack's outputs",
      "kafkaBootstrapTls: expected a non-empty string; found it empty",
      "kafkaTopicNames: expected string[]; found string",
      "kafkaBootstrap: not declared by the contract (infra/kit/outputs-contract.ts)",
      "topicGhost: matches topic<Name>, but no name in kafkaTopicNames gives this key",
    ]);
  });

  it("wants the per-name outputs of every name the lists hold", () => {
    expect(contractProblems({ ...conforming, kafkaUserNames: ["queue-manager", "loaders"] })).toEqual([
      "kafkaUserLoaders: declared by the contract, missing from the stack's outputs",
      "kafkaUserLoadersSecret: declared by the contract, missing from the stack's outputs",
    ]);
  });
});

describe("names of per-name outputs", () => {
  it("finds the spec of a fixed key, a per-name key, and none for an unknown key", () => {
    expect(specOf("kafkaUserNames")?.name).toBe("kafkaUserNames");
    expect(specOf("kafkaUserQueueManagerSecret")?.name).toBe("kafkaUser<Name>Secret");
    expect(specOf("kafkaUserQueueManager")?.name).toBe("kafkaUser<Name>");
    expect(specOf("topicMarketTradesV1")?.name).toBe("topic<Name>");
    expect(specOf("topic")).toBeUndefined();
    expect(specOf("kafkaBootstrap")).toBeUndefined();
  });

  it("computes the same key at run time and in the type a consumer compiles against", () => {
    // Checked by `tsc` (test/ is in tsconfig.json): each line fails to compile if the types disagree.
    const exact = <A, B>(equal: [A] extends [B] ? ([B] extends [A] ? true : false) : false): boolean => equal;
    expect(exact<PascalCase<"market.trades_v1">, "MarketTradesV1">(true)).toBe(true);
    expect(pascalCase("market.trades_v1")).toBe("MarketTradesV1");
    const key: "topicQueueEvents" = topicOutputKey("queue-events");
    expect(key).toBe("topicQueueEvents");
    const secret: "kafkaUserSelfHealingOperatorSecret" = userSecretOutputKey("self-healing-operator");
    expect(secret).toBe("kafkaUserSelfHealingOperatorSecret");
    type Outputs = PlatformOutputs<"queue-events", "loaders">;
    expect(exact<Outputs["kafkaUserLoadersSecret"], string>(true) && exact<Outputs["kafkaTopicNames"], string[]>(true)).toBe(true);
  });
});

describe("requiredOutputProblems (what a consumer reports)", () => {
  const stack = "organization/streamforge/local";

  it("names a missing output, what it is and the stack", () => {
    expect(
      requiredOutputProblems(stack, { kafkaBootstrapTls: { value: "k3:9093", secret: false }, kafkaUserGhostSecret: undefined }),
    ).toEqual([
      `kafkaUserGhostSecret: stack ${stack} has no such output. kafkaUser<Name>Secret: ${specOf("kafkaUserGhostSecret")!.spec.meaning}`,
    ]);
  });

  it("names an output of another type, a secret where a plain value is declared, and a key no contract has", () => {
    expect(
      requiredOutputProblems(stack, {
        kafkaTopicNames: { value: "queue-events", secret: false },
        kafkaSaslMechanism: { value: "SCRAM-SHA-512", secret: true },
        kafkaBootstrap: { value: "x", secret: false },
      }),
    ).toEqual([
      `kafkaTopicNames: expected string[]; found string (stack ${stack})`,
      `kafkaSaslMechanism: expected a plain value; found a secret (stack ${stack})`,
      "kafkaBootstrap: not an output of the platform's contract (infra/kit/outputs-contract.ts)",
    ]);
  });
});

describe.each(knownStacks())("stack %s outputs", (stack) => {
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    outputs = (await renderStack(stack)).outputs;
  });

  it("are exactly what the contract declares: every output, with its type, nothing undeclared", () => {
    expect(contractProblems(outputs)).toEqual([]);
  });

  it("name the canary's objects where the stack has one", () => {
    if (stack === "local-kafka-api") expect(outputs.rolloutName).toBe("");
    else
      expect(outputs).toMatchObject({
        rolloutName: "queue-manager",
        rolloutNamespace: "stf",
        rolloutStableService: "queue-manager",
        rolloutCanaryService: "queue-manager-canary",
        rolloutRouter: "VirtualService/queue-manager",
        rolloutAnalysisTemplates: ["queue-manager-error-rate", "queue-manager-latency", "queue-manager-critical-errors"],
      });
  });

  it("keep the values services are configured with today", () => {
    expect(outputs).toMatchObject({
      kafkaClusterName: "k3",
      kafkaNamespace: "kafka",
      kafkaBootstrapTls: "k3-kafka-bootstrap.kafka:9093",
      kafkaSaslMechanism: "SCRAM-SHA-512",
      kafkaClusterCaSecret: "k3-cluster-ca-cert",
      topicQueueEvents: "queue-events",
      topicQueueControl: "queue-control",
      kafkaUserQueueManager: "queue-manager",
      kafkaUserQueueManagerSecret: "queue-manager",
      kafkaUserSelfHealingOperatorSecret: "self-healing-operator",
    });
  });

  it("give each per-name output the name it is named after", () => {
    for (const topic of outputs.kafkaTopicNames as string[]) expect([topic, outputs[topicOutputKey(topic)]]).toEqual([topic, topic]);
    for (const user of outputs.kafkaUserNames as string[]) expect([user, outputs[userSecretOutputKey(user)]]).toEqual([user, user]);
  });
});
