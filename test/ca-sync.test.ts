/** The Kafka CA syncer in the stacks: where it runs, what its account may touch, and the copy `up` no longer rewrites. */
import { createPlatform } from "../infra/platform";
import { runUnderMocks } from "../infra/render/render";
import { CA_SYNC, caSyncGuard, caSyncGuardName } from "../infra/kafka/ca-sync-spec";
import { admit } from "./cel";
import { caCopyOptions } from "../infra/kafka/cluster";
import { committedConfig } from "./helpers";

async function declared(stack: string) {
  const config = committedConfig(stack);
  const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
  return { config, resources, inputs: resources.map((r) => r.inputs as any) };
}

describe.each(["dev", "prod"])("%s", (stack) => {
  it("runs the syncer in the Kafka namespace from the operator's image, reading one Secret and writing its copy", async () => {
    const { config, inputs } = await declared(stack);
    const ca = `${config.kafka.clusterName}-cluster-ca-cert`;
    const cron = inputs.find((o) => o.kind === "CronJob" && o.metadata.name === CA_SYNC);
    expect(cron.metadata.namespace).toBe(config.kafka.namespace);
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.args).toEqual(["dist/ca-sync.js"]);
    expect(container.env).toEqual([
      { name: "CA_SOURCE", value: `${config.kafka.namespace}/${ca}` },
      { name: "CA_TARGET", value: `${config.apps.namespace}/${ca}` },
    ]);
    const roles = inputs.filter((o) => o.kind === "Role" && o.metadata.name === CA_SYNC);
    expect(roles.map((r) => [r.metadata.namespace, r.rules])).toEqual([
      [config.kafka.namespace, [{ apiGroups: [""], resources: ["secrets"], resourceNames: [ca], verbs: ["get"] }]],
      [config.apps.namespace, [{ apiGroups: [""], resources: ["secrets"], resourceNames: [ca], verbs: ["get", "update"] }]],
    ]);
    // Its guard takes the source Secret as its parameter, in the apps namespace, for the syncer's token only.
    const binding = inputs.find(
      (o) =>
        o.kind === "ValidatingAdmissionPolicyBinding" &&
        o.metadata.name === caSyncGuardName({ source: { namespace: config.kafka.namespace, name: ca } }),
    );
    expect(binding.spec).toMatchObject({
      paramRef: { name: ca, namespace: config.kafka.namespace, parameterNotFoundAction: "Deny" },
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": config.apps.namespace } } },
    });
  });
});

it("leaves the copy's certificates to the syncer where it runs: up creates the copy and ignores their changes", () => {
  expect(caCopyOptions(true)).toEqual({ ignoreChanges: ["data"] });
  expect(caCopyOptions(false)).toEqual({});
});

it("has no syncer where no operator runs or Strimzi's CA is not awaited (local): each up refreshes the copy", async () => {
  const { inputs } = await declared("local");
  expect(inputs.filter((o) => o.metadata?.name === CA_SYNC)).toEqual([]);
});

describe("the copy's guard, its CEL evaluated locally", () => {
  const spec = { source: { namespace: "kafka", name: "k3-cluster-ca-cert" }, target: { namespace: "stf", name: "k3-cluster-ca-cert" } };
  const { policy } = caSyncGuard(spec);
  const params = { data: { "ca.crt": "TkVX", "ca-2027-01-05T10-00-00Z.crt": "T0xE", "ca.p12": "cDEy", "ca.password": "cHc=" } };
  const write = (data: Record<string, string>, username = `system:serviceaccount:kafka:${CA_SYNC}`) =>
    admit(policy, {
      operation: "UPDATE",
      object: { metadata: { name: "k3-cluster-ca-cert" }, data },
      oldObject: { metadata: { name: "k3-cluster-ca-cert" }, data: {} },
      userInfo: { username },
      params,
    });
  const expected = "data: expected exactly the certificates of kafka/k3-cluster-ca-cert (ca.crt, ca-2027-01-05T10-00-00Z.crt); found ";

  it("admits from the syncer exactly the source's certificates, and nothing else", () => {
    expect(write({ "ca.crt": "TkVX", "ca-2027-01-05T10-00-00Z.crt": "T0xE" })).toBe("admitted");
    expect(write({ "ca.crt": "RVZJTA==", "ca-2027-01-05T10-00-00Z.crt": "T0xE" })).toBe(`${expected}ca.crt (not the source's)`);
    expect(write({ "ca.crt": "TkVX" })).toBe(`${expected}ca-2027-01-05T10-00-00Z.crt missing`);
    expect(write({ "ca.crt": "TkVX", "ca-2027-01-05T10-00-00Z.crt": "T0xE", "ca.password": "cHc=" })).toBe(
      `${expected}ca.password (not the source's)`,
    );
  });

  it("leaves every other writer to RBAC (Pulumi creates the copy)", () => {
    expect(write({ "ca.crt": "RVZJTA==" }, "kubernetes-admin")).toBe("not checked");
  });
});
