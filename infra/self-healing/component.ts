import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { declareGuard } from "../kit/admission";
import { defaultAccountWithoutToken } from "../kit/namespaces";
import type { PodsOf } from "../kit/network-spec";
import type { Deployers } from "../cluster/platform-workloads-spec";
import { grantRole } from "../kit/rbac";
import { GUARD_DEFAULTS, type OperatorGuardArgs, operatorGuard } from "./guard";
import {
  OPERATOR_NAME,
  type OperatorSpec,
  PULL_SECRET_NAME,
  deployment,
  disruptionBudget,
  dockerConfigJson,
  jobsRole,
  leaseRole,
  networkPolicy,
  roleBinding,
  serviceAccount,
} from "./manifests";
import {
  RELAUNCH_GUARD_PULL_SECRET,
  relaunchGuardCaOnly,
  relaunchGuardClientConfig,
  relaunchGuardRbac,
  relaunchGuardWebhook,
  relaunchGuardWorkload,
} from "./relaunch-guard-spec";

export interface RegistryLogin {
  /** The registry's host (`ghcr.io`), as image references name it. */
  readonly registry: string;
  /** The user the build pushes and the pods pull as. */
  readonly username: string;
  /** Its password or token: a Pulumi secret. */
  readonly password: pulumi.Input<string>;
}

export interface SelfHealingOperatorArgs {
  /** The operator's Deployment as the program plans it (namespaces, replicas, Kafka, policy, API server); the image comes from `image`. */
  readonly spec: Omit<OperatorSpec, "image" | "imagePullSecret">;
  /** A prebuilt image reference, or a registry to build and push `operator/Dockerfile` to. */
  readonly image: { readonly ref: pulumi.Input<string> } | { readonly registry: string; readonly repository: string; readonly tag: string };
  /** The private registry's login: the build pushes with it, the pods pull with it. */
  readonly login?: RegistryLogin;
  /** What the admission guard lets the operator's replacement Jobs run (streamforge:operator.guard); GUARD_DEFAULTS when absent. */
  readonly guard?: Pick<OperatorGuardArgs, "allowedServiceAccounts" | "allowedImagePrefixes" | "allowedEnv">;
  /** The relaunch guard's own namespace (streamforge:operator.relaunchGuard.namespace). */
  readonly relaunchGuardNamespace: string;
  /** Who runs `pulumi up` (streamforge:apps.deployers): the only ones who may change the relaunch guard's configuration beyond its CA. */
  readonly deployers: Deployers;
  /** The pods the API server's calls to the relaunch guard come through, besides its address (streamforge:network.apiServerTunnel). */
  readonly apiServerTunnel: readonly PodsOf[];
  /** Where the relaunch guard runs: in the cluster (absent), or outside it at this https URL (streamforge:operator.relaunchGuard.url). */
  readonly relaunchGuardUrl?: string;
}

/** The self-healing operator: its image (built or given), RBAC, admission guard, Deployment, NetworkPolicy and PDB. */
export class SelfHealingOperator extends pulumi.ComponentResource {
  readonly image: pulumi.Output<string>;
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: SelfHealingOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:operator:SelfHealingOperator", name, {}, opts);
    const child = { parent: this };
    const { login } = args;
    if ("ref" in args.image) {
      this.image = pulumi.output(args.image.ref);
    } else {
      const { registry, repository, tag } = args.image;
      const built = new dockerBuild.Image(
        `${name}-image`,
        {
          context: { location: "." },
          dockerfile: { location: "operator/Dockerfile" },
          platforms: ["linux/amd64"],
          push: true,
          // A preview builds nothing (docker-build's default is to build, pushing nothing): it shows the
          // deploy's digest as unknown, and the pipeline's previews use the image the stack runs instead.
          buildOnPreview: false,
          tags: [`${registry}/${repository}:${tag}`],
          ...(login ? { registries: [{ address: login.registry, username: login.username, password: login.password }] } : {}),
        },
        child,
      );
      // Deploy by digest, so a moved tag never changes what runs.
      this.image = built.ref;
    }

    const spec = { ...args.spec, image: this.image, ...(login ? { imagePullSecret: PULL_SECRET_NAME } : {}) };
    const pullSecret = login
      ? [
          registryPullSecret(
            `${name}-pull`,
            { name: PULL_SECRET_NAME, namespace: spec.namespace, labels: serviceAccount(spec).metadata.labels },
            login,
            child,
          ),
        ]
      : [];
    // Admission limits what the operator's token may do to Jobs (guard.ts); in place before the operator runs.
    const guard = operatorGuard({
      operatorNamespace: spec.namespace,
      serviceAccount: OPERATOR_NAME,
      watchNamespace: spec.watchNamespace,
      ...(args.guard ?? GUARD_DEFAULTS),
    });
    const guardBinding = declareGuard(this, guard, `${name}-guard`);
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, serviceAccount(spec), child);
    const grant = (key: string, role: ReturnType<typeof jobsRole>) =>
      grantRole(`${name}-${key}`, { role, binding: roleBinding(role, spec) }, this, [sa]).binding;
    const roles = [grant("jobs", jobsRole(spec)), grant("leader-election", leaseRole(spec))];
    // The relaunch guard judges every Job the operator creates: trusted before the operator runs.
    const relaunchGuard = this.relaunchGuard(name, spec, args, login);
    this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, deployment(spec), {
      parent: this,
      dependsOn: [sa, ...roles, ...pullSecret, guardBinding, relaunchGuard],
    });
    new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, networkPolicy(spec), child);
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, disruptionBudget(spec), child);
    this.registerOutputs({ image: this.image, deployment: this.deployment });
  }

  /**
   * The relaunch guard's account, grants and certificate Secret, its Deployment, Service,
   * NetworkPolicy and PDB; then its webhook configuration, once the guard is ready to write its CA
   * there (the configuration fails closed until it does). With `url`, the API server calls that
   * address instead of the Service (the local platform runs the guard on its host).
   */
  private relaunchGuard(
    name: string,
    spec: OperatorSpec<pulumi.Output<string>>,
    args: Pick<SelfHealingOperatorArgs, "relaunchGuardNamespace" | "relaunchGuardUrl" | "apiServerTunnel" | "deployers">,
    login: RegistryLogin | undefined,
  ): k8s.admissionregistration.v1.ValidatingWebhookConfiguration {
    const child = { parent: this };
    const { relaunchGuardNamespace: guardNamespace, relaunchGuardUrl: url } = args;
    const at = { operatorNamespace: spec.namespace, guardNamespace, watchNamespace: spec.watchNamespace };
    const rbac = relaunchGuardRbac(at);
    const sa = new k8s.core.v1.ServiceAccount(`${name}-relaunch-guard-sa`, rbac.serviceAccount, child);
    const granted: pulumi.Resource[] = rbac.roles.map(
      (grant) => grantRole(`${name}-relaunch-guard-${grant.key}`, grant, this, [sa]).binding,
    );
    const configRole = new k8s.rbac.v1.ClusterRole(`${name}-relaunch-guard-configuration`, rbac.clusterRole.role, child);
    // Its patch on its configuration is granted only once the policy that limits it to the CA is in force.
    const caOnly = declareGuard(this, relaunchGuardCaOnly({ ...at, deployers: args.deployers }), `${name}-relaunch-guard-ca-only`);
    granted.push(
      new k8s.rbac.v1.ClusterRoleBinding(`${name}-relaunch-guard-configuration`, rbac.clusterRole.binding, {
        parent: this,
        dependsOn: [configRole, sa, caOnly],
      }),
    );
    // Only the guard's pods need a token in its namespace.
    defaultAccountWithoutToken(`${name}-relaunch-guard-default-sa`, guardNamespace, child);
    // Created empty: the guard fills it (its data is the guard's, which the stack never sets).
    const certSecret = new k8s.core.v1.Secret(`${name}-relaunch-guard-tls`, rbac.certSecret, child);
    const workload = relaunchGuardWorkload({
      ...at,
      serviceAccount: OPERATOR_NAME,
      image: spec.image,
      ...(login ? { imagePullSecret: RELAUNCH_GUARD_PULL_SECRET } : {}),
      apiServer: spec.apiServer,
      apiServerTunnel: args.apiServerTunnel,
      ...(url === undefined ? {} : { url }),
    });
    const pull = login
      ? [
          registryPullSecret(
            `${name}-relaunch-guard-pull`,
            { name: RELAUNCH_GUARD_PULL_SECRET, namespace: guardNamespace, labels: rbac.serviceAccount.metadata.labels },
            login,
            child,
          ),
        ]
      : [];
    const guard = new k8s.apps.v1.Deployment(`${name}-relaunch-guard`, workload.deployment, {
      parent: this,
      dependsOn: [...granted, certSecret, ...pull],
    });
    const service = new k8s.core.v1.Service(`${name}-relaunch-guard`, workload.service, child);
    const netpol = new k8s.networking.v1.NetworkPolicy(`${name}-relaunch-guard`, workload.networkPolicy, child);
    new k8s.policy.v1.PodDisruptionBudget(`${name}-relaunch-guard`, workload.disruptionBudget, child);
    return new k8s.admissionregistration.v1.ValidatingWebhookConfiguration(
      `${name}-relaunch-guard`,
      relaunchGuardWebhook({
        ...at,
        serviceAccount: OPERATOR_NAME,
        clientConfig: url === undefined ? relaunchGuardClientConfig(guardNamespace) : { url },
      }),
      { parent: this, dependsOn: [guard, service, netpol] },
    );
  }
}

/** A `kubernetes.io/dockerconfigjson` Secret holding `login`, its password kept a Pulumi secret. */
export function registryPullSecret(
  resourceName: string,
  metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> },
  login: RegistryLogin,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    resourceName,
    {
      metadata,
      type: "kubernetes.io/dockerconfigjson",
      stringData: {
        ".dockerconfigjson": pulumi.secret(pulumi.output(login.password).apply((p) => dockerConfigJson(login.registry, login.username, p))),
      },
    },
    opts,
  );
}
