/** The pull-request preview's pure half: render diff, policy events, the comment body. */
import { stringify } from "yaml";
import {
  MAX_COMMENT_CHARS,
  SECRET_CHANGED_SHOWN,
  SECRET_SHOWN,
  type CommentInput,
  diffFields,
  diffRenders,
  impactSection,
  marker,
  objectId,
  parseEventLog,
  parseRender,
  previewSummary,
  renderComment,
  tail,
  condensePreview,
  urnResource,
} from "../scripts/preview-comment";
import { type Impact, impactReport } from "../infra/kafka/impact";

const topic = (name: string, partitions = 3) => ({
  apiVersion: "kafka.strimzi.io/v1",
  kind: "KafkaTopic",
  metadata: { name, namespace: "kafka", labels: { "strimzi.io/cluster": "k3" } },
  spec: { partitions, replicas: 3 },
});

const deployment = (image: string, replicas = 2) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "op", namespace: "stf" },
  spec: {
    replicas,
    template: {
      spec: {
        containers: [
          { name: "sidecar", image: "s:1" },
          { name: "op", image },
        ],
      },
    },
  },
});

const secret = (password: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "creds", namespace: "stf" },
  stringData: { password },
  data: { token: Buffer.from(password).toString("base64") },
});

const manifests = (...objs: unknown[]) => objs.map((o) => stringify(o)).join("---\n");

describe("parseRender", () => {
  test("names Kubernetes objects by apiVersion, kind and namespace/name, Helm releases and Kafka API resources too", () => {
    const items = parseRender({
      manifests: manifests(topic("a"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "kafka" } }),
      helmReleases: stringify([{ name: "strimzi", namespace: "strimzi", chart: "c", version: "1.2.0", values: {} }]),
      kafkaApi: stringify([{ type: "kafka:index/topic:Topic", name: "t-a", inputs: {} }]),
    });
    expect(items.map((i) => i.id)).toEqual([
      "kafka.strimzi.io/v1 KafkaTopic kafka/a",
      "v1 Namespace kafka",
      "helm.sh/v3 Release strimzi/strimzi",
      "kafka:index/topic:Topic t-a",
    ]);
  });

  test("empty or missing files are no items; broken YAML is an error naming the file", () => {
    expect(parseRender({ manifests: "", helmReleases: "[]\n", kafkaApi: undefined })).toEqual([]);
    expect(() => parseRender({ manifests: "a: [1,\n" })).toThrow(/manifests\.yaml/);
  });

  test("objectId of a cluster-scoped object has no namespace part", () => {
    expect(objectId({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "r" } })).toBe(
      "rbac.authorization.k8s.io/v1 ClusterRole r",
    );
  });
});

describe("diffFields", () => {
  test("reports leaves that changed, appeared or went away, and nothing for equal values", () => {
    expect(diffFields({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } })).toEqual([]);
    expect(diffFields({ a: 1, b: { c: 2 }, gone: true }, { a: 2, b: { c: 2, d: [1] } })).toEqual([
      { path: "a", before: 1, after: 2 },
      { path: "b.d", after: [1] },
      { path: "gone", before: true },
    ]);
  });

  test("addresses list items by their unique name, by index otherwise", () => {
    expect(diffFields(deployment("op:1"), deployment("op:2", 3))).toEqual([
      { path: "spec.replicas", before: 2, after: 3 },
      { path: "spec.template.spec.containers[op].image", before: "op:1", after: "op:2" },
    ]);
    expect(diffFields({ l: [1, 2] }, { l: [1, 3, 4] })).toEqual([
      { path: "l[1]", before: 2, after: 3 },
      { path: "l[2]", after: 4 },
    ]);
  });
});

describe("diffRenders", () => {
  test("sorts objects into added, removed, changed and unchanged", () => {
    const base = parseRender({ manifests: manifests(topic("a"), topic("b"), deployment("op:1")) });
    const head = parseRender({ manifests: manifests(topic("a"), topic("c"), deployment("op:2")) });
    const d = diffRenders(base, head);
    expect(d.added.map((i) => i.id)).toEqual(["kafka.strimzi.io/v1 KafkaTopic kafka/c"]);
    expect(d.removed.map((i) => i.id)).toEqual(["kafka.strimzi.io/v1 KafkaTopic kafka/b"]);
    expect(d.changed).toEqual([
      {
        id: "apps/v1 Deployment stf/op",
        fields: [{ path: "spec.template.spec.containers[op].image", before: "op:1", after: "op:2" }],
      },
    ]);
    expect(d.unchanged).toBe(1);
  });

  test("never carries a Secret's values: a changed one shows as changed, an added one as placeholders", () => {
    const d = diffRenders(
      parseRender({ manifests: manifests(secret("hunter2")) }),
      parseRender({ manifests: manifests(secret("s3cr3t!")) }),
    );
    const text = JSON.stringify(d);
    expect(text).not.toMatch(/hunter2|s3cr3t|aHVudGVyMg|czNjcjN0IQ/);
    expect(d.changed[0]?.fields).toEqual([
      { path: "data.token", before: SECRET_SHOWN, after: SECRET_CHANGED_SHOWN },
      { path: "stringData.password", before: SECRET_SHOWN, after: SECRET_CHANGED_SHOWN },
    ]);
    const added = diffRenders([], parseRender({ manifests: manifests(secret("hunter2")) }));
    expect(JSON.stringify(added)).not.toContain("hunter2");
    expect(
      diffRenders(parseRender({ manifests: manifests(secret("x")) }), parseRender({ manifests: manifests(secret("x")) })).unchanged,
    ).toBe(1);
  });
});

describe("parseEventLog", () => {
  const urn =
    "urn:pulumi:local::streamforge::streamforge:rollouts:QueueManagerCanary$kubernetes:argoproj.io/v1alpha1:Rollout::queue-manager-rollout";
  const log = [
    JSON.stringify({ sequence: 1, preludeEvent: { config: {} } }),
    JSON.stringify({ sequence: 2, policyAnalyzeSummaryEvent: { resourceUrn: urn, policyPackName: "streamforge", passed: ["a"] } }),
    JSON.stringify({
      sequence: 3,
      policyEvent: {
        resourceUrn: urn,
        message: "No latest.\nfound x\n",
        policyName: "image-pinned",
        policyPackName: "streamforge",
        enforcementLevel: "mandatory",
      },
    }),
    JSON.stringify({
      sequence: 4,
      policyEvent: { message: "stack-wide", policyName: "s", policyPackName: "streamforge", enforcementLevel: "advisory" },
    }),
    "",
  ].join("\n");

  test("reads each violation's level, rule, resource and message, and counts the analyzed resources", () => {
    expect(parseEventLog(log)).toEqual({
      analyzed: 1,
      violations: [
        {
          level: "mandatory",
          rule: "image-pinned",
          pack: "streamforge",
          resource: "kubernetes:argoproj.io/v1alpha1:Rollout queue-manager-rollout",
          message: "No latest.\nfound x",
        },
        { level: "advisory", rule: "s", pack: "streamforge", resource: "stack", message: "stack-wide" },
      ],
    });
    expect(parseEventLog("")).toEqual({ analyzed: 0, violations: [] });
  });

  test("reads the program's Kafka impact report from its diagnostic, as the engine's raw sink writes it", () => {
    const impacts: Impact[] = [
      {
        level: "destructive",
        object: "KafkaTopic kafka/a",
        change: "removed (retire: delete)",
        effect: "topic a and its data are deleted",
      },
      { level: "benign", object: "KafkaTopic kafka/b", change: "created", effect: "topic b is created" },
    ];
    // diag/sink.go Stringify: the note colour, the message, a reset and a newline.
    const diagnostic = { message: `<{%fg 12%}>${impactReport(impacts)}<{%reset%}>\n`, severity: "warning", color: "raw" };
    const events = [log, JSON.stringify({ sequence: 5, diagnosticEvent: { message: "unrelated\n", severity: "info" } })];
    events.push(JSON.stringify({ sequence: 6, diagnosticEvent: diagnostic }));
    expect(parseEventLog(events.join("\n")).kafkaImpact).toEqual([
      { level: "destructive", text: "KafkaTopic kafka/a: removed (retire: delete): topic a and its data are deleted" },
      { level: "benign", text: "KafkaTopic kafka/b: created: topic b is created" },
    ]);
    expect(parseEventLog(JSON.stringify({ diagnosticEvent: { message: impactReport([]) } })).kafkaImpact).toEqual([]);
    // No report (no live read, or the program failed first): nothing to show, rather than "no change".
    expect(parseEventLog(log)).not.toHaveProperty("kafkaImpact");
  });

  test("urnResource keeps the type (not its parents) and the name", () => {
    expect(urnResource("urn:pulumi:s::p::a:b:C$k:v1:Kind::name")).toBe("k:v1:Kind name");
  });
});

describe("renderComment", () => {
  const base: Omit<CommentInput, "preview"> = {
    stack: "local",
    base: { ref: "main", sha: "1111111aaaa" },
    head: { ref: "HEAD", sha: "2222222bbbb" },
    diff: diffRenders(
      parseRender({ manifests: manifests(topic("a"), deployment("op:1")) }),
      parseRender({ manifests: manifests(topic("a"), topic("new-topic"), deployment("op:2")) }),
    ),
  };
  const pulumiOutput = [
    "Previewing update (local):",
    "  ~ kubernetes:apps/v1:Deployment op update [diff: ~spec]",
    "Policies:",
    "    ❌ streamforge@v0.1.0 (local: policy)",
    "",
    "Resources:",
    "    + 1 to create",
    "    ~ 1 to update",
    "    70 unchanged",
    "",
  ].join("\n");

  test("render only: marker first, summary, render diff; no policy or preview section", () => {
    const body = renderComment(base);
    expect(body.split("\n")[0]).toBe(marker("local"));
    expect(marker("local")).toBe("<!-- streamforge-preview:local -->");
    expect(body).toContain("`main` (1111111) → head `HEAD` (2222222)");
    expect(body).toContain("**Render:** 1 added, 0 removed, 1 changed, 1 unchanged.");
    expect(body).toContain("- `kafka.strimzi.io/v1 KafkaTopic kafka/new-topic`");
    expect(body).toContain('- spec.template.spec.containers[op].image: "op:1"\n+ spec.template.spec.containers[op].image: "op:2"');
    expect(body).toContain("not run here (render only)");
    expect(body).not.toContain("### Policy violations");
    expect(body).not.toContain("<details>");
  });

  test("with a preview: violations table (mandatory first), the preview's summary, its output collapsed", () => {
    const body = renderComment({
      ...base,
      preview: {
        status: 1,
        output: pulumiOutput,
        policyPack: true,
        analyzed: 72,
        violations: [
          { level: "advisory", rule: "container-cpu-limit", pack: "streamforge", resource: "k:Rollout r", message: "a | b\nc" },
          { level: "mandatory", rule: "image-pinned", pack: "streamforge", resource: "k:Rollout r", message: "latest" },
        ],
      },
    });
    expect(body).toContain("**Policy:** ❌ 1 mandatory, 1 advisory (72 resources checked by the head's pack).");
    expect(body).toContain("**Pulumi preview:** failed (exit 1): + 1 to create, ~ 1 to update, 70 unchanged.");
    const table = body.slice(body.indexOf("| Level |"));
    expect(table.indexOf("image-pinned")).toBeLessThan(table.indexOf("container-cpu-limit"));
    expect(body).toContain("| advisory | `container-cpu-limit` | `k:Rollout r` | a \\| b<br>c |");
    expect(body).toMatch(
      /<details><summary><code>pulumi preview --diff --policy-pack policy<\/code><\/summary>\n\n```diff\nPreviewing update/,
    );
    expect(body.indexOf("### Pulumi preview")).toBeLessThan(body.indexOf("### Render diff"));
  });

  test("leads with the Kafka impact: destructive and disruptive listed before everything else, the rest folded", () => {
    const kafkaImpact = [
      { level: "destructive" as const, text: "KafkaTopic kafka/a: removed (retire: delete): data deleted" },
      { level: "disruptive" as const, text: "KafkaNodePool kafka/brokers: storage: rolling restart" },
      { level: "benign" as const, text: "KafkaTopic kafka/b: created: topic b is created" },
    ];
    const body = renderComment({
      ...base,
      preview: { status: 0, output: pulumiOutput, policyPack: true, analyzed: 1, violations: [], kafkaImpact },
    });
    const lines = body.split("\n");
    expect(lines.slice(0, 12)).toEqual([
      marker("local"),
      "## Preview of stack `local`",
      "",
      "Base `main` (1111111) → head `HEAD` (2222222).",
      "",
      "### What this does to the running Kafka cluster",
      "",
      "⚠️ **1 destructive, 1 disruptive**, 1 without effect on clients.",
      "",
      "- ⛔ **destructive**: KafkaTopic kafka/a: removed (retire: delete): data deleted",
      "- ⚠️ **disruptive**: KafkaNodePool kafka/brokers: storage: rolling restart",
      "",
    ]);
    expect(body).toContain(
      "<details><summary>1 without effect on clients</summary>\n\n- KafkaTopic kafka/b: created: topic b is created\n",
    );
    expect(body.indexOf("KafkaTopic kafka/b")).toBeLessThan(body.indexOf("**Render:**"));
    expect(impactSection([])).toEqual([
      "### What this does to the running Kafka cluster",
      "",
      "No change to the Kafka cluster, its pools, topics or users.",
      "",
    ]);
    // Without a report the comment claims nothing about the cluster.
    expect(renderComment({ ...base, preview: { status: 0, output: "", policyPack: true, analyzed: 1, violations: [] } })).not.toContain(
      "running Kafka cluster",
    );
  });

  test("the base's pack names the modules it ran with: its own locked @pulumi/policy, or the pull request's where the base has no lock", () => {
    const ran = { status: 0, output: "", policyPack: true, analyzed: 3, violations: [] };
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const locked = renderComment({ ...base, policyFrom: { ref: "main", sha, lockedPolicy: "1.21.0" }, preview: ran });
    expect(locked).toContain("(3 resources checked by the base's pack, `main` (0123456), with its own locked @pulumi/policy 1.21.0)");
    const unlocked = renderComment({ ...base, policyFrom: { ref: "main", sha }, preview: ran });
    expect(unlocked).toContain(
      "(3 resources checked by the base's pack, `main` (0123456), with the pull request's modules: the base has no policy/package-lock.json)",
    );
  });

  test("a pack that did not run is not reported as passing", () => {
    const body = renderComment({
      ...base,
      preview: { status: 1, output: "error: policy pack failed", policyPack: true, analyzed: 0, violations: [] },
    });
    expect(body).toContain("❌ the policy pack did not run");
    expect(body).not.toContain("✅");
  });

  test("a comment stays under GitHub's size limit, and long preview output keeps its end", () => {
    const huge = `${"x\n".repeat(100_000)}Resources:\n    + 1 to create\n`;
    const body = renderComment({ ...base, preview: { status: 0, output: huge, policyPack: true, analyzed: 1, violations: [] } });
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(body).toContain("+ 1 to create");
    expect(tail("a\nb\nc\nd", 3)).toMatch(/^… \(\d+ earlier characters cut\)\n/);
    expect(previewSummary(pulumiOutput)).toEqual(["+ 1 to create", "~ 1 to update", "70 unchanged"]);
  });

  test("long preview output loses property details first, never a resource step", () => {
    const step = (op: string, type: string, name: string, fields: number) =>
      [
        `    ${op} ${type}: (${op === "+" ? "create" : "update"})`,
        `        [urn=urn:pulumi:local::streamforge::${type}::${name}]`,
        ...Array.from({ length: fields }, (_, i) => `        data${i}: "${"v".repeat(60)}"`),
      ].join("\n");
    const output = [
      "Previewing update (local):",
      step("+", "kubernetes:core/v1:ConfigMap", "dashboard", 2000),
      step("~", "kubernetes:apps/v1:Deployment", "operator", 5),
      step("+", "kubernetes:kafka.strimzi.io/v1:KafkaTopic", "catalogue-topic-market-ticks", 3),
      "Policy Packs run:",
      "    Name                     Version",
      "    streamforge|local|policy 0.1.0",
      "Resources:",
      "    + 2 to create",
    ].join("\n");
    const condensed = condensePreview(output, 5000);
    expect(condensed.length).toBeLessThanOrEqual(5100);
    expect(condensed).toMatch(
      /\+ kubernetes:kafka\.strimzi\.io\/v1:KafkaTopic: \(create\)\n\s+\[urn=urn:pulumi:local::\S+::catalogue-topic-market-ticks\]/,
    );
    expect(condensed).toContain("~ kubernetes:apps/v1:Deployment: (update)");
    expect(condensed).toContain("+ kubernetes:core/v1:ConfigMap: (create)");
    expect(condensed).toContain("Policy Packs run:\n    Name                     Version\n    streamforge|local|policy 0.1.0");
    expect(condensed).toContain("    + 2 to create");
    expect(condensed).not.toContain("data0:");
    expect(condensePreview("short", 100)).toBe("short");
  });

  test("output with backticks cannot close the code fence early", () => {
    const body = renderComment({ ...base, preview: { status: 0, output: "a ``` b", policyPack: true, analyzed: 1, violations: [] } });
    expect(body).toContain("````diff\na ``` b\n````");
  });
});
