/**
 * The operator's own identity in the integration tier: the ServiceAccount, Roles and RoleBindings
 * exactly as `pulumi up --stack local` creates them (taken from `npm run render -- --stack local`,
 * the stack's own rendering), applied in a test namespace, and a kubeconfig holding a bound token
 * of that ServiceAccount (TokenRequest API) on the admin kubeconfig's server and CA. The operator
 * process or container is given that kubeconfig, so what the API server allows it is the Role.
 *
 * And what the API server saw it do: the local API server's audit log (local/kube.sh, level
 * Metadata, ServiceAccounts only), read per ServiceAccount user.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { REPO_ROOT, env, eventually, kubeClients } from "./platform.js";

/** The operator's Deployment, as the stack names it: its serviceAccountName is the identity tested. */
const OPERATOR_DEPLOYMENT = "streamforge-self-healing-operator";
const RENDER_DIR = join(REPO_ROOT, "out", "itest", "render-local");

export interface OperatorRbac {
  readonly serviceAccount: k8s.V1ServiceAccount;
  readonly roles: k8s.V1Role[];
  readonly bindings: k8s.V1RoleBinding[];
}

let rendered: k8s.KubernetesObject[] | undefined;

/** The local stack's Kubernetes objects, rendered once per test file from the current sources. */
function renderedLocalStack(): k8s.KubernetesObject[] {
  if (!rendered) {
    execFileSync("npm", ["run", "--silent", "render", "--", "--stack", "local", "--out", RENDER_DIR], {
      cwd: REPO_ROOT,
      stdio: "pipe",
      timeout: 120_000,
    });
    rendered = k8s.loadAllYaml(readFileSync(join(RENDER_DIR, "manifests.yaml"), "utf8")) as k8s.KubernetesObject[];
  }
  return rendered;
}

/** The rendered object of that kind, name and namespace. */
function renderedObject<T extends k8s.KubernetesObject>(
  kind: string,
  name: string | undefined,
  namespace: string | undefined,
): T | undefined {
  const found = renderedLocalStack().find((o) => o.kind === kind && o.metadata?.name === name && o.metadata?.namespace === namespace);
  return found as T | undefined;
}

/** The ServiceAccount the operator's Deployment runs as, and every Role bound to it, as the local stack renders them. */
export function renderedOperatorRbac(): OperatorRbac {
  const objects = renderedLocalStack();
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === OPERATOR_DEPLOYMENT);
  const podSpec = deployment && (deployment as k8s.V1Deployment).spec?.template.spec;
  const saName = podSpec?.serviceAccountName;
  const saNamespace = deployment?.metadata?.namespace;
  if (!saName || !saNamespace) throw new Error(`The local stack renders no Deployment ${OPERATOR_DEPLOYMENT} with a serviceAccountName`);
  const serviceAccount = renderedObject<k8s.V1ServiceAccount>("ServiceAccount", saName, saNamespace);
  if (!serviceAccount) throw new Error(`The local stack renders no ServiceAccount ${saNamespace}/${saName}`);
  const names = (s: k8s.RbacV1Subject) => s.kind === "ServiceAccount" && s.name === saName && s.namespace === saNamespace;
  const clusterWide = objects.filter((o) => o.kind === "ClusterRoleBinding" && (o as k8s.V1ClusterRoleBinding).subjects?.some(names));
  if (clusterWide.length > 0) throw new Error(`The operator has ClusterRoleBindings, which this test namespace cannot stand in for`);
  const bindings: k8s.V1RoleBinding[] = objects
    .filter((o) => o.kind === "RoleBinding")
    .map((o) => o as k8s.V1RoleBinding)
    .filter((b) => b.subjects?.some(names));
  const roles = bindings.map((b) => {
    if (b.roleRef.kind !== "Role") throw new Error(`RoleBinding ${b.metadata?.name} refers to a ${b.roleRef.kind}, not a Role`);
    const role = renderedObject<k8s.V1Role>("Role", b.roleRef.name, b.metadata?.namespace);
    if (!role) throw new Error(`RoleBinding ${b.metadata?.name} refers to Role ${b.roleRef.name}, which the stack does not render`);
    return role;
  });
  if (roles.length === 0) throw new Error(`The local stack binds no Role to ${saNamespace}/${saName}`);
  return { serviceAccount, roles, bindings };
}

/** `group/resource:verb` for every verb a Role grants (the core group is spelled "core"). */
export function grantedPairs(roles: readonly k8s.V1Role[]): string[] {
  const pairs = new Set<string>();
  for (const role of roles)
    for (const rule of role.rules ?? [])
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? []) for (const verb of rule.verbs) pairs.add(`${group || "core"}/${resource}:${verb}`);
  return [...pairs].sort();
}

export interface OperatorIdentity {
  /** A kubeconfig file: the admin kubeconfig's server and CA, the ServiceAccount's bound token. */
  readonly kubeconfig: string;
  /** As the API server names the ServiceAccount's requests (and the audit log records them). */
  readonly username: string;
  readonly namespace: string;
  /** The Roles as applied in the test namespace (after `editRole`). */
  readonly roles: k8s.V1Role[];
}

const copy = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

/**
 * Applies the operator's ServiceAccount, Roles and RoleBindings of the local stack in `namespace`
 * (only the namespaces change: names and rules are the stack's), waits until the API server's
 * authorizer grants them, requests a token for the ServiceAccount and writes a kubeconfig with it
 * under out/itest/. `editRole` changes a copy of each Role first (to take a verb away).
 */
export async function operatorIdentity(namespace: string, opts: { editRole?: (role: k8s.V1Role) => void } = {}): Promise<OperatorIdentity> {
  const rbac = renderedOperatorRbac();
  const saName = rbac.serviceAccount.metadata!.name!;
  const saNamespace = rbac.serviceAccount.metadata!.namespace!;
  const { kc, core } = kubeClients();
  const rbacApi = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);

  const serviceAccount = copy(rbac.serviceAccount);
  serviceAccount.metadata!.namespace = namespace;
  await core.createNamespacedServiceAccount({ namespace, body: serviceAccount });
  const roles = rbac.roles.map((r) => {
    const role = copy(r);
    role.metadata!.namespace = namespace;
    opts.editRole?.(role);
    return role;
  });
  for (const body of roles) await rbacApi.createNamespacedRole({ namespace, body });
  for (const b of rbac.bindings) {
    const binding = copy(b);
    binding.metadata!.namespace = namespace;
    binding.subjects = binding.subjects!.map((s) =>
      s.kind === "ServiceAccount" && s.name === saName && s.namespace === saNamespace ? { ...s, namespace } : s,
    );
    await rbacApi.createNamespacedRoleBinding({ namespace, body: binding });
  }

  const username = `system:serviceaccount:${namespace}:${saName}`;
  // The RBAC authorizer works from its informers: wait until it grants every verb applied (asked
  // as the admin, so the ServiceAccount's own record in the audit log holds only the operator's requests).
  const checks = roles.flatMap((role) =>
    (role.rules ?? []).flatMap((rule) =>
      rule.verbs.map((verb) => ({
        namespace,
        verb,
        group: rule.apiGroups?.[0] ?? "",
        resource: rule.resources?.[0] ?? "",
        ...(rule.resourceNames?.[0] ? { name: rule.resourceNames[0] } : {}),
      })),
    ),
  );
  await eventually(
    `the API server to grant ${username} its Roles`,
    async () => {
      for (const resourceAttributes of checks) {
        const review = await authz.createSubjectAccessReview({
          body: { spec: { user: username, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`], resourceAttributes } },
        });
        if (!review.status?.allowed) return undefined;
      }
      return true;
    },
    30_000,
  );

  const token = (
    await core.createNamespacedServiceAccountToken({
      name: saName,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    })
  ).status?.token;
  if (!token) throw new Error(`The TokenRequest for ${namespace}/${saName} returned no token`);
  const reviewed = await authn.createTokenReview({ body: { spec: { token } } });
  if (reviewed.status?.user?.username !== username) throw new Error(`The token is not ${username}'s: ${JSON.stringify(reviewed.status)}`);

  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`No current cluster in ${env.kubeconfig()}`);
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString("base64") : undefined);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: cluster.server, ...(caData ? { "certificate-authority-data": caData } : {}) } }],
    users: [{ name: saName, user: { token } }],
    contexts: [{ name: saName, context: { cluster: "local", user: saName, namespace } }],
    "current-context": saName,
  };
  const dir = join(REPO_ROOT, "out", "itest");
  mkdirSync(dir, { recursive: true });
  const kubeconfig = join(dir, `${namespace}.kubeconfig`);
  writeFileSync(kubeconfig, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { kubeconfig, username, namespace, roles };
}

export interface AuditedRequest {
  /** `group/resource[/subresource]`, the core group spelled "core". */
  readonly resource: string;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly code?: number;
  readonly stage: string;
}

/** The local API server's audit log (local/kube.sh writes it next to its other logs). */
export function auditLogPath(): string {
  return process.env.KUBE_AUDIT_LOG ?? join(dirname(env.kubeconfig()), "logs", "audit.log");
}

/** Every request of `username` the API server recorded (rotated files included), one per request. */
export function auditedRequests(username: string): AuditedRequest[] {
  const path = auditLogPath();
  if (!existsSync(path))
    throw new Error(
      `No audit log at ${path}: the local API server must run with audit logging (bash local/kube.sh stop && bash local/kube.sh start)`,
    );
  const base = basename(path, ".log");
  const files = readdirSync(dirname(path)).filter((f) => f.startsWith(base) && f.endsWith(".log"));
  const seen = new Map<string, AuditedRequest>();
  for (const file of files) {
    for (const line of readFileSync(join(dirname(path), file), "utf8").split("\n")) {
      if (!line.includes(username)) continue;
      const e = JSON.parse(line) as {
        auditID: string;
        stage: string;
        verb: string;
        user: { username: string };
        objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string; name?: string };
        responseStatus?: { code?: number };
      };
      if (e.user.username !== username || !e.objectRef?.resource) continue;
      const ref = e.objectRef;
      const request: AuditedRequest = {
        resource: `${ref.apiGroup || "core"}/${ref.resource}${ref.subresource ? `/${ref.subresource}` : ""}`,
        verb: e.verb,
        stage: e.stage,
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        ...(ref.name ? { name: ref.name } : {}),
        ...(e.responseStatus?.code !== undefined ? { code: e.responseStatus.code } : {}),
      };
      // A watch is recorded when its response starts and again when it ends: the last word counts.
      const previous = seen.get(e.auditID);
      if (!previous || e.stage === "ResponseComplete") seen.set(e.auditID, request);
    }
  }
  return [...seen.values()];
}

/** Authorized requests (not 401/403), as `group/resource:verb`. */
export function usedPairs(requests: readonly AuditedRequest[]): string[] {
  return [...new Set(requests.filter((r) => r.code !== 401 && r.code !== 403).map((r) => `${r.resource}:${r.verb}`))].sort();
}

/** Requests the authorizer refused (403), as `group/resource:verb`. */
export function refusedPairs(requests: readonly AuditedRequest[]): string[] {
  return [...new Set(requests.filter((r) => r.code === 403).map((r) => `${r.resource}:${r.verb}`))].sort();
}
