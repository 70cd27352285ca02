/**
 * CustomResourceDefinitions are kept on delete. A CRD is cluster-wide: when it is deleted, the API
 * server deletes every object of its kinds in every namespace (for Argo Rollouts: every Rollout,
 * and with it its ReplicaSets and pods). Helm never deletes the CRDs of a chart's crds/ directory,
 * and the Argo Rollouts chart marks its templated ones `helm.sh/resource-policy: keep` by default
 * (argo-helm charts/argo-rollouts README.md, `keepCRDs: true`, "Keep CRD's on helm uninstall").
 *
 * `keepCrdsOnDelete` gives a component that declares CRDs (a `k8s.yaml.v2.ConfigGroup` of an upstream
 * release's file) the same rule: every CRD under it gets `retainOnDelete`, so removing the
 * component (turning the controller off, a destroy) removes it from the stack and leaves it in the
 * cluster. Pass it as the component's `transforms`: the engine runs a component's transforms on
 * every resource registered beneath it, including those a provider's component registers
 * (pulumi/pulumi pkg/resource/deploy/source_eval.go at v3.276.0, `RegisterResource` collecting the
 * parents' `resourceTransforms`). The engine reads `retainOnDelete` from the state of the last
 * `up` (pkg/resource/deploy/step.go, `DeleteStep.Apply`; a `SameStep` records the new value), so
 * one `up` with it must come before the component is removed.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The type token of a CRD as the Kubernetes provider registers it. */
export const CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

/** A resource transform: each CRD kept on delete; anything else unchanged. */
export function keepCrdsOnDelete(args: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
  if (args.type !== CRD_TYPE) return undefined;
  return { props: args.props, opts: { ...args.opts, retainOnDelete: true } };
}
