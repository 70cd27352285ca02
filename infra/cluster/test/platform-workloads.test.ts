/**
 * Who may write the platform's workloads in the apps namespaces (infra/cluster/platform-workloads-spec.ts):
 * every Deployment and Rollout the committed stacks declare there is admitted from their deployers
 * and refused from anyone else; each way a person with `edit` could make pods of the platform's
 * accounts or labels is refused, naming the field; scaling, pausing and the controllers' own writes
 * stay open. CEL evaluated locally (test/cel.ts); infra/cluster/test/attack.itest.ts tries the same
 * with a person's real token against the real API server.
 */
import { createPlatform } from "../../platform";
import { knownStacks, runUnderMocks } from "../../render/render";
import { DEPLOYMENT_CONTROLLER_USERS, platformTokenGuard, platformWorkloadsGuard } from "../platform-workloads-spec";
import { responderRole } from "../responders-spec";
import { admit } from "../../../test/cel";
import { committedConfig, variantProblems } from "../../../test/helpers";

const OPERATOR = "streamforge-self-healing-operator";
const ARGO = "system:serviceaccount:argo-rollouts:argo-rollouts";
const guard = platformWorkloadsGuard({
  namespaces: ["stf"],
  platformServiceAccounts: ["queue-manager", OPERATOR],
  deployers: { users: ["ci-deployer"], groups: ["streamforge-deployers"] },
  rolloutsController: ARGO,
  namePrefix: "streamforge-stf",
});
const ALICE = "system:serviceaccount:stf:alice";
const PLATFORM = `accounts queue-manager, ${OPERATOR}, or their labels`;
const DEPLOYERS = "apps.deployers: users ci-deployer; groups streamforge-deployers";

const workload = (kind: string, pod: object, labels: Record<string, string> = { app: "x" }, extra: object = {}) => ({
  apiVersion: kind === "Rollout" ? "argoproj.io/v1alpha1" : "apps/v1",
  kind,
  metadata: { name: "x", namespace: "stf" },
  spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod }, ...extra },
});
const asOperator = { serviceAccountName: OPERATOR, containers: [{ name: "c", image: "evil:1" }] };
const asWorker = { serviceAccountName: "loader", containers: [{ name: "c", image: "loader:1" }] };
const create = (object: any, username: string, groups: string[] = []) =>
  admit(guard.policy, { operation: "CREATE", object, kind: { kind: object.kind }, userInfo: { username, groups } });
const update = (oldObject: any, object: any, username: string) =>
  admit(guard.policy, { operation: "UPDATE", object, oldObject, kind: { kind: object.kind }, userInfo: { username, groups: [] } });

describe("the platform's Deployments and Rollouts", () => {
  it.each(["Deployment", "Rollout"])(
    "%s: a person's one running as the operator's account, or labelled as queue-manager, is refused",
    (kind) => {
      const expected = `spec: expected a ${kind} of the platform's pods (${PLATFORM}) to be written only by the deployers (${DEPLOYERS}), anyone else changing at most spec.replicas, spec.paused, spec.restartAt; found one created by ${ALICE}`;
      expect(create(workload(kind, asOperator), ALICE)).toBe(expected);
      expect(create(workload(kind, asWorker, { "app.kubernetes.io/name": "queue-manager" }), ALICE)).toBe(expected);
      // The deprecated alias names the account just as well.
      expect(create(workload(kind, { serviceAccount: OPERATOR, containers: [] }), ALICE)).toBe(expected);
    },
  );

  it("admits them from a deployer, by user or by group, and a person's worker Deployment", () => {
    expect(create(workload("Deployment", asOperator), "ci-deployer")).toBe("admitted");
    expect(create(workload("Rollout", asOperator), "someone", ["system:authenticated", "streamforge-deployers"])).toBe("admitted");
    expect(create(workload("Deployment", asWorker), ALICE)).toBe("admitted");
  });

  it("lets anyone with the verbs scale, pause and restart them, and nothing else", () => {
    const old = workload("Rollout", asOperator);
    const scaled = { ...old, spec: { ...old.spec, replicas: 0, paused: true, restartAt: "2026-12-06T00:00:00Z" } };
    expect(update(old, scaled, ALICE)).toBe("admitted");
    const swapped = { ...old, spec: { ...old.spec, template: { ...old.spec.template, spec: { ...asOperator, containers: [] } } } };
    expect(update(old, swapped, ALICE)).toBe(
      `spec.template: expected a Rollout of the platform's pods (${PLATFORM}) to be written only by the deployers (${DEPLOYERS}), anyone else changing at most spec.replicas, spec.paused, spec.restartAt; found a change by ${ALICE}`,
    );
    // Made a worker's: the old template was the platform's, so it is still theirs to change.
    const demoted = workload("Rollout", asWorker);
    expect(update(old, demoted, ALICE)).toContain("spec.template: expected a Rollout of the platform's pods");
    // A field removed counts as changed.
    const rest: Record<string, unknown> = { ...old.spec };
    delete rest.selector;
    expect(update(old, { ...old, spec: rest }, ALICE)).toContain("spec.selector: expected");
    // An owner that does not exist would have the garbage collector delete it: a delete by patch.
    const owned = {
      ...old,
      metadata: { ...old.metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "0" }] },
    };
    expect(update(old, owned, ALICE)).toContain("metadata.ownerReferences: expected a Rollout of the platform's pods");
    // Argo's controller updates the Rollout (its own guard holds it to its fields).
    expect(update(old, swapped, ARGO)).toBe("admitted");
    expect(update(workload("Deployment", asOperator), { ...swapped, kind: "Deployment" }, ARGO)).toContain("spec.template: expected");
  });

  it("a person's Rollout with a workloadRef (whose template is elsewhere) is refused", () => {
    const ref = { ...workload("Rollout", asWorker), spec: { workloadRef: { apiVersion: "apps/v1", kind: "Deployment", name: "op" } } };
    expect(create(ref, ALICE)).toContain("spec: expected a Rollout of the platform's pods");
  });
});

describe("the platform's ReplicaSets and other workloads", () => {
  it("a ReplicaSet of the platform's pods is made only by its controllers or a deployer", () => {
    const rs = workload("ReplicaSet", asOperator);
    for (const maker of [...DEPLOYMENT_CONTROLLER_USERS, ARGO, "ci-deployer"])
      expect([maker, create(rs, maker)]).toEqual([maker, "admitted"]);
    expect(create(rs, ALICE)).toBe(
      `spec.template: expected a ReplicaSet of the platform's pods (${PLATFORM}) to be made only by its Deployment's or Rollout's controller (${[...DEPLOYMENT_CONTROLLER_USERS, ARGO].join(", ")}) or the deployers; found one created by ${ALICE}`,
    );
    // Scaling and metadata stay open (the garbage collector, `kubectl scale`); a new template does not.
    expect(update(rs, { ...rs, metadata: { ...rs.metadata, ownerReferences: [] }, spec: { ...rs.spec, replicas: 3 } }, ALICE)).toBe(
      "admitted",
    );
    const swapped = { ...rs, spec: { ...rs.spec, template: { ...rs.spec.template, spec: { ...asOperator, containers: [] } } } };
    expect(update(rs, swapped, ALICE)).toContain("found its template or labels changed by");
    expect(create(workload("ReplicaSet", asWorker), ALICE)).toBe("admitted");
    // Labelled as queue-manager's, it would be adopted by its Rollout as its stable version; so would one relabelled so.
    const adoptable = {
      ...workload("ReplicaSet", asWorker, { rv: "fake" }),
      metadata: {
        name: "x",
        namespace: "stf",
        labels: { "app.kubernetes.io/name": "queue-manager", "rollouts-pod-template-hash": "fff64b56b" },
      },
    };
    expect(create(adoptable, ALICE)).toContain("spec.template: expected a ReplicaSet of the platform's pods");
    const plain = workload("ReplicaSet", asWorker);
    expect(
      update(plain, { ...plain, metadata: { ...plain.metadata, labels: { "rollouts-pod-template-hash": "fff64b56b" } } }, ALICE),
    ).toContain("found its template or labels changed by");
  });

  it.each(["StatefulSet", "DaemonSet", "ReplicationController"])("%s: never with the platform's template, whoever asks", (kind) => {
    const expected = `spec.template: expected no ${kind} of the platform's pods (${PLATFORM}): the platform runs them only as Deployments and Rollouts; found one running as ${OPERATOR}`;
    expect(create(workload(kind, asOperator), "ci-deployer")).toBe(expected);
    expect(create(workload(kind, asWorker), ALICE)).toBe("admitted");
  });
});

describe("in the stacks", () => {
  it.each(knownStacks())(
    "%s: every Deployment and Rollout declared in the apps namespace passes from its deployers only",
    async (stack) => {
      const config = committedConfig(stack);
      const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
      const inputs = resources.map((r) => r.inputs as any);
      const policy = inputs.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name.endsWith("-apps-platform-workloads"));
      const deployers = config.apps.deployers!;
      const deployer = { username: deployers.users[0] ?? "ci", groups: deployers.groups.slice(0, 1) };
      const declared = inputs.filter((o) => ["Deployment", "Rollout"].includes(o.kind) && o.metadata?.namespace === config.apps.namespace);
      for (const o of declared) {
        const request = { operation: "CREATE" as const, object: o, kind: { kind: o.kind } };
        expect([o.kind, admit(policy, { ...request, userInfo: deployer })]).toEqual([o.kind, "admitted"]);
        expect([o.kind, admit(policy, { ...request, userInfo: { username: ALICE } })]).toEqual([
          o.kind,
          expect.stringContaining("found one created by"),
        ]);
      }
      // The operator's Deployment and queue-manager's Rollout, where the stack has them (the relaunch guard runs in its own namespace).
      expect(declared.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
        [
          ...(config.operator?.enabled ? ["Deployment/streamforge-self-healing-operator"] : []),
          ...(config.rollouts?.enabled ? ["Rollout/queue-manager"] : []),
        ].sort(),
      );
    },
  );

  it("a stack that names no deployers, or empty lists, is refused, saying how to find them", () => {
    expect(variantProblems("dev", (raw) => delete raw.apps)).toEqual([
      expect.stringMatching(
        /^streamforge:apps\.deployers: expected the users or groups that run `pulumi up`; found nothing\. run `kubectl auth whoami`/,
      ),
    ]);
    expect(variantProblems("dev", (raw) => (raw.apps.deployers = { groups: [] }))).toEqual([
      expect.stringContaining("streamforge:apps.deployers: expected the users or groups that run `pulumi up`; found empty lists."),
    ]);
  });
});

describe("the people on call's Role", () => {
  // What `edit` has and the responders must not: the apps' Kafka passwords, sessions, pods of their own, tokens.
  const FORBIDDEN: [string, string, string][] = [
    ["", "secrets", "get"],
    ["", "secrets", "list"],
    ["", "pods", "create"],
    ["", "pods/exec", "create"],
    ["", "pods/attach", "create"],
    ["", "pods/portforward", "create"],
    ["", "pods/ephemeralcontainers", "patch"],
    ["", "serviceaccounts/token", "create"],
    ["batch", "jobs", "create"],
    ["apps", "deployments", "patch"],
    ["apps", "replicasets", "create"],
    ["rbac.authorization.k8s.io", "rolebindings", "create"],
  ];
  const allows = (group: string, resource: string, verb: string) =>
    responderRole("r", {}).rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it("grants none of what `edit` would give beyond the runbook", () => {
    expect(FORBIDDEN.filter(([g, r, v]) => allows(g, r, v))).toEqual([]);
  });

  it("grants each write the runbook's procedures make", () => {
    const needs: [string, string, string][] = [
      ["batch", "jobs", "patch"],
      ["apps", "deployments/scale", "patch"],
      ["argoproj.io", "rollouts/status", "patch"],
      ["argoproj.io", "rollouts", "patch"],
    ];
    for (const [g, r, v] of needs) expect([r, allows(g, r, v)]).toEqual([r, true]);
  });

  it.each(knownStacks())("%s: bound only where the stack names responders", async (stack) => {
    const config = committedConfig(stack);
    const { resources } = await runUnderMocks({ project: "streamforge", stack, config: {} }, () => void createPlatform(config));
    const bindings = resources
      .map((r) => r.inputs as any)
      .filter((o) => o.kind === "RoleBinding" && o.roleRef?.name?.endsWith("-apps-responder"));
    const named = config.apps.responders.users.length + config.apps.responders.groups.length;
    expect(bindings.length > 0).toBe(named > 0);
  });
});

describe("the platform's tokens", () => {
  const tokens = platformTokenGuard({
    namespaces: ["stf"],
    platformServiceAccounts: ["queue-manager", OPERATOR],
    deployers: { users: ["ci-deployer"], groups: ["streamforge-deployers"] },
    namePrefix: "streamforge-stf",
  });
  const request = (name: string, username: string, groups: string[] = []) =>
    admit(tokens.policy, { operation: "CREATE", name, object: { kind: "TokenRequest" }, userInfo: { username, groups } });

  it("are asked for only by the kubelet, for their pods, or by the deployers", () => {
    expect(request(OPERATOR, "system:node:worker-1")).toBe("admitted");
    expect(request("queue-manager", "someone", ["streamforge-deployers"])).toBe("admitted");
    expect(request(OPERATOR, ALICE)).toBe(
      `serviceaccounts/token: expected a token of the platform's accounts (queue-manager, ${OPERATOR}) only for their pods (the kubelet) or the deployers; found a request for ${OPERATOR} by ${ALICE}`,
    );
    // A worker's account holds no Role: its token is anyone's with the verb.
    expect(request("loader", ALICE)).toBe("admitted");
  });
});
