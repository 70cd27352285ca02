import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { declareGuard } from "../infra/kit/admission";
import type { WithRemoteChildren } from "../infra/kit/confirmation-guard";
import type { ClusterTarget } from "../infra/kit/provider";
import type { RolloutsConfig } from "./config";
import { stackControllerGuard } from "./controller-guard";
import { fetchVerified } from "../infra/kit/fetch-verified";
import { keepCrdsOnDelete } from "../infra/kit/keep-crds";
import { ROLLOUTS_CRDS, ROLLOUTS_CRD_SHA256, crdUrl } from "./crds";
import { RolloutOutcome } from "./outcome";
import {
  CANARY_SERVICE,
  STABLE_SERVICE,
  type QueueManagerContext,
  analysisTemplates,
  autoscaler,
  controllerChartValues,
  controllerRbac,
  networkPolicy,
  podMonitor,
  queueManagerRbac,
  rollout,
  routerManagedFields,
  routerObject,
  services,
} from "./spec";

export { ROLLOUTS_CRDS, crdUrl };

/**
 * The release name: the chart names the controller's ServiceAccount after it (argo-helm
 * argo-rollouts-2.41.0 templates/_helpers.tpl `argo-rollouts.fullname` and
 * `argo-rollouts.serviceAccountName`).
 */
export const ROLLOUTS_RELEASE = "argo-rollouts";

export interface ArgoRolloutsControllerArgs {
  /** The area's settings (`streamforge:rollouts`): the controller's chart, version and namespace, and the router its RBAC serves. */
  readonly rollouts: RolloutsConfig;
  /** Where queue-manager's Rollout lives: the only namespace, beside its own, the controller may write in. */
  readonly appsNamespace: string;
  /**
   * Offline (render, unit tests): the CRDs are not fetched; each group holds only a comment naming
   * the file and its pinned sha256, which `up` and `preview` fetch and check.
   */
  readonly offline?: boolean;
}

/**
 * The Argo Rollouts controller: its CRDs at the controller's version, applied server-side (they
 * are too large for a client-side apply's annotation), and the Helm chart with the image pinned.
 */
export class ArgoRolloutsController extends pulumi.ComponentResource implements WithRemoteChildren {
  readonly release: k8s.helm.v3.Release;
  /** The CRDs, registered by the provider beneath each ConfigGroup (the stack's destroy guard waits for them). */
  readonly remoteChildren: pulumi.Output<pulumi.Resource[]>;

  constructor(name: string, args: ArgoRolloutsControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:rollouts:ArgoRolloutsController", name, {}, opts);
    const { controller } = args.rollouts;
    // The config only accepts a version whose sums are pinned (rollouts/config.ts).
    const sums = ROLLOUTS_CRD_SHA256[controller.version]!;
    // The provider applies server-side by default (enableServerSideApply). Kept on delete, as the
    // chart keeps them: turning the controller off or destroying the stack leaves every Rollout.
    const crds = ROLLOUTS_CRDS.map((crd) => {
      const url = crdUrl(controller.version, crd);
      const yaml = args.offline ? `# ${url} sha256:${sums[crd]}\n` : pulumi.output(fetchVerified(url, sums[crd]));
      return new k8s.yaml.v2.ConfigGroup(`${name}-crd-${crd}`, { yaml }, { parent: this, transforms: [keepCrdsOnDelete] });
    });
    // Its RBAC in place of the chart's ClusterRole: no Secrets outside its own namespace.
    const rbac = controllerRbac(args.rollouts, ROLLOUTS_RELEASE);
    const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-rbac`, rbac.clusterRole, { parent: this });
    const role = new k8s.rbac.v1.Role(`${name}-rbac-secrets`, rbac.role, { parent: this });
    const bindings = [
      new k8s.rbac.v1.ClusterRoleBinding(`${name}-rbac`, rbac.clusterRoleBinding, { parent: this, dependsOn: [clusterRole] }),
      new k8s.rbac.v1.RoleBinding(`${name}-rbac-secrets`, rbac.roleBinding, { parent: this, dependsOn: [role] }),
    ];
    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: ROLLOUTS_RELEASE,
        chart: "argo-rollouts",
        version: controller.chartVersion,
        repositoryOpts: { repo: "https://argoproj.github.io/argo-helm" },
        namespace: controller.namespace,
        values: controllerChartValues(args.rollouts),
        skipCrds: true,
        atomic: true,
        timeout: 600,
      },
      { parent: this, dependsOn: [...crds, ...bindings] },
    );
    // Its token writes only where it serves, and only queue-manager's template into ReplicaSets.
    const guard = stackControllerGuard(controller.namespace, ROLLOUTS_RELEASE, args.appsNamespace);
    for (const [part, pair] of Object.entries(guard)) declareGuard(this, pair, `${name}-guard-${part}`);
    this.remoteChildren = pulumi
      .all(crds.map((group) => group.resources))
      .apply((lists) => lists.flat().filter(Boolean) as pulumi.Resource[]);
    this.registerOutputs({ release: this.release });
  }
}

export interface QueueManagerCanaryArgs {
  /** The area's settings: queue-manager's image and resources, the router, steps and analysis. */
  readonly rollouts: RolloutsConfig;
  /** What queue-manager needs from the rest of the stack: its namespace, Kafka addresses and credentials, the monitoring namespace. */
  readonly context: QueueManagerContext;
  /** The stack's cluster, for waiting on the rollout's outcome. */
  readonly cluster: ClusterTarget;
}

/**
 * queue-manager as a canary Rollout with its Services, router object, AnalysisTemplates,
 * PodMonitor, autoscaler and RBAC. Where the stack awaits (`rollouts.await`), `pulumi up` waits
 * for the rollout's outcome (rollouts/outcome.ts), so an aborted canary fails the `up` that started it.
 */
export class QueueManagerCanary extends pulumi.ComponentResource {
  readonly rollout: k8s.apiextensions.CustomResource;
  /** The Rollout's name and namespace, and the names of what it uses, as declared. */
  readonly declared: {
    readonly rolloutName: string;
    readonly namespace: string;
    readonly stableService: string;
    readonly canaryService: string;
    /** The object whose weights the controller shifts, as Kind/name; "" with the replica-count router. */
    readonly router: string;
    readonly analysisTemplates: readonly string[];
  };

  constructor(name: string, args: QueueManagerCanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:rollouts:QueueManagerCanary", name, {}, opts);
    const { rollouts, context } = args;
    const ns = context.namespace;
    const child = { parent: this };

    const rbac = queueManagerRbac(ns);
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, rbac.serviceAccount, child);
    const role = new k8s.rbac.v1.Role(`${name}-role`, rbac.role, child);
    new k8s.rbac.v1.RoleBinding(`${name}-role`, rbac.roleBinding, { parent: this, dependsOn: [role, sa] });
    const svcs = services(ns).map((svc) => new k8s.core.v1.Service(`${name}-svc-${svc.metadata.name}`, svc, child));
    const templateBodies = analysisTemplates(rollouts.analysis, ns, rollouts.controller.instanceId);
    const templateNames = templateBodies.map((t) => t.metadata.name);
    const templates = templateBodies.map((t) => new k8s.apiextensions.CustomResource(`${name}-${t.metadata.name}`, t, child));
    const router = routerObject(rollouts.router, ns);
    const routerResource = router
      ? [
          new k8s.apiextensions.CustomResource(`${name}-router`, router, {
            parent: this,
            // The controller moves these weights during a canary; an `up` must not move them back.
            ignoreChanges: routerManagedFields(rollouts.router),
          }),
        ]
      : [];
    new k8s.apiextensions.CustomResource(
      `${name}-podmonitor`,
      podMonitor(ns, rollouts.analysis.scrapeInterval, context.monitorSelectorLabels),
      child,
    );
    new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, networkPolicy(rollouts, context), child);

    const body = rollout(rollouts, context);
    this.rollout = new k8s.apiextensions.CustomResource(
      `${name}-rollout`,
      // Pulumi's own await cannot follow a Rollout (see outcome.ts): RolloutOutcome does.
      { ...body, metadata: { ...body.metadata, annotations: { "pulumi.com/skipAwait": "true" } } },
      { parent: this, dependsOn: [sa, ...svcs, ...templates, ...routerResource] },
    );
    if (rollouts.await.enabled) {
      new RolloutOutcome(
        `${name}-outcome`,
        {
          namespace: ns,
          name: body.metadata.name,
          ...(args.cluster.kubeconfig !== undefined ? { kubeconfig: args.cluster.kubeconfig } : {}),
          ...(args.cluster.context !== undefined ? { context: args.cluster.context } : {}),
          specHash: createHash("sha256").update(JSON.stringify(body.spec)).digest("hex"),
          timeoutSeconds: rollouts.await.timeoutSeconds,
        },
        { parent: this, dependsOn: [this.rollout] },
      );
    }
    const hpa = autoscaler(rollouts, ns);
    if (hpa) new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, hpa, { parent: this, dependsOn: [this.rollout] });
    this.declared = {
      rolloutName: body.metadata.name,
      namespace: ns,
      stableService: STABLE_SERVICE,
      canaryService: CANARY_SERVICE,
      router: router ? `${router.kind}/${router.metadata.name}` : "",
      analysisTemplates: templateNames,
    };
    this.registerOutputs({ rollout: this.rollout, declared: this.declared });
  }
}
