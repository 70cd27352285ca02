/** The Kafka CA syncer in the stacks: where it runs, what its account may touch, and the copy `up` no longer rewrites. */
import { createPlatform } from "../../platform";
import { runUnderMocks } from "../../render/render";
import { CA_SYNC, caSyncGuard, caSyncGuardName } from "../ca-sync-spec";
import { CA_BUNDLE_KEY, caBundle, caCopyData } from "../../../operator/src/core/ca-copy";
import { admit } from "../../../test/cel";
import { caCopyOptions } from "../cluster";
import { committedConfig } from "../../../test/helpers";

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
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const pem = (body: string) => b64(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
  const DATED = "ca-2027-01-05T10-00-00Z.crt";
  const certs = { "ca.crt": pem("TkVX"), [DATED]: pem("T0xE") };
  const FORGED = pem("the attacker's CA");
  const params = { data: { ...certs, "ca.p12": "cDEy", "ca.password": "cHc=" } };
  const write = (data: Record<string, string>, username = `system:serviceaccount:kafka:${CA_SYNC}`, source: object = params) =>
    admit(policy, {
      operation: "UPDATE",
      object: { metadata: { name: "k3-cluster-ca-cert" }, data },
      oldObject: { metadata: { name: "k3-cluster-ca-cert" }, data: {} },
      userInfo: { username },
      params: source,
    });
  const expected = `data: expected exactly the certificates of kafka/k3-cluster-ca-cert (${DATED}, ca.crt) and their bundle ${CA_BUNDLE_KEY}; found `;
  const synced = caCopyData(params.data);

  it("admits from the syncer exactly the source's certificates and their bundle, and nothing else", () => {
    expect(write(synced)).toBe("admitted");
    expect(write({ ...synced, "ca.crt": FORGED })).toBe(`${expected}ca.crt (not the source's)`);
    expect(write({ ...synced, [DATED]: undefined } as unknown as Record<string, string>)).toBe(`${expected}${DATED} missing`);
    expect(write({ ...synced, "ca.password": "cHc=" })).toBe(`${expected}ca.password (not the source's)`);
  });

  it("admits only the bundle of exactly the source's certificates: none foreign, none left out, none twice", () => {
    const withBundle = (bundle: string) => write({ ...certs, [CA_BUNDLE_KEY]: bundle });
    const notTheSources = `${expected}${CA_BUNDLE_KEY} (not the source's)`;
    expect(withBundle(caBundle({ ...certs, "x.crt": FORGED }))).toBe(notTheSources);
    expect(withBundle(caBundle({ "ca.crt": FORGED, [DATED]: certs[DATED] }))).toBe(notTheSources);
    expect(withBundle(caBundle({ "ca.crt": certs["ca.crt"] }))).toBe(notTheSources);
    expect(withBundle(caBundle({ ...certs, "z.crt": certs["ca.crt"] }))).toBe(notTheSources);
    // Another order holds the same certificates, but is not the one the policy recomputes.
    expect(withBundle(caBundle({ a: certs["ca.crt"], b: certs[DATED] }))).toBe(notTheSources);
    expect(write(certs)).toBe(`${expected}${CA_BUNDLE_KEY} missing`);
  });

  it("recomputes the bundle the syncer writes whatever each certificate's length, one to three of them", () => {
    // Lengths modulo 3 decide how each part is padded: every remainder, alone and together.
    const bodies = ["QQ", "QUI", "QUJD", "QUJDRA", "QUJDREU"];
    const sources = [
      ...bodies.map((b) => ({ "ca.crt": pem(b) })),
      ...bodies.map((b, i) => ({ "ca.crt": pem(b), [DATED]: pem(bodies[(i + 1) % bodies.length] ?? "") })),
      {
        "ca.crt": pem("QQ"),
        [DATED]: pem("QUI"),
        "ca-2026-02-01T00-00-00Z.crt": b64("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----"),
      },
    ];
    const remainders = (data: Record<string, string>) => Object.values(data).map((v) => Buffer.from(v, "base64").length % 3);
    for (const data of sources)
      expect({ remainders: remainders(data), verdict: write(caCopyData(data), undefined, { data }) }).toEqual({
        remainders: remainders(data),
        verdict: "admitted",
      });
    expect(new Set(sources.flatMap(remainders))).toEqual(new Set([0, 1, 2]));
  });

  it("leaves every other writer to RBAC (Pulumi creates the copy)", () => {
    expect(write({ "ca.crt": FORGED }, "kubernetes-admin")).toBe("not checked");
  });
});
