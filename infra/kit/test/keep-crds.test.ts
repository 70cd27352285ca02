/**
 * The kit's keepCrdsOnDelete transform as a function (infra/kit/keep-crds.ts); what the engine does
 * with it is infra/kit/test/kept-crds.itest.ts.
 */
import { CRD_TYPE, keepCrdsOnDelete } from "../keep-crds";

const args = (type: string) => ({
  custom: true,
  type,
  name: "crds:apiextensions.k8s.io/v1/CustomResourceDefinition::rollouts.argoproj.io",
  props: { metadata: { name: "rollouts.argoproj.io" } },
  opts: { protect: false, ignoreChanges: ["metadata.annotations"] },
});

describe("keepCrdsOnDelete", () => {
  it("keeps a CRD on delete, its properties and other options unchanged", () => {
    const input = args(CRD_TYPE);
    expect(keepCrdsOnDelete(input)).toEqual({ props: input.props, opts: { ...input.opts, retainOnDelete: true } });
  });

  it("leaves everything else to the engine as declared", () => {
    for (const type of ["kubernetes:yaml/v2:ConfigGroup", "kubernetes:core/v1:Namespace", "kubernetes:argoproj.io/v1alpha1:Rollout"])
      expect(keepCrdsOnDelete(args(type))).toBeUndefined();
  });
});
