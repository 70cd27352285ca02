/** The Kafka CA syncer in the stacks: where it runs, what its account may touch, and the copy `up` no longer rewrites. */
import { createPlatform } from "../infra/platform";
import { runUnderMocks } from "../infra/render/render";
import { CA_SYNC } from "../infra/kafka/ca-sync-spec";
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
