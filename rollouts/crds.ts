/**
 * The Argo Rollouts CRDs the controller needs, fetched at deploy time from the controller's
 * release and applied only if each file's sha256 is the one pinned here for that version: a
 * moved tag, a proxy or a tampered download fails `pulumi up` instead of changing the cluster's
 * schemas (infra/kit/fetch-verified.ts). The sums are of the files at tag v1.10.2 (manifests/crds/, as the Go module zip of that
 * tag carries them; ../shared/crds/argo-rollouts-1.10.2 holds the same bytes, and
 * rollouts/test/crds.test.ts checks the two agree).
 */

export const ROLLOUTS_CRDS = ["rollout", "analysis-template", "cluster-analysis-template", "analysis-run", "experiment"] as const;
export type RolloutsCrd = (typeof ROLLOUTS_CRDS)[number];

export const ROLLOUTS_CRD_SHA256: Readonly<Record<string, Readonly<Record<RolloutsCrd, string>>>> = {
  "v1.10.2": {
    rollout: "1562decc7b3720c31cbe382eeb62b6fbfd236f8e81a1f98644a9774d1e7d7933",
    "analysis-template": "bb41aa62329355c5ffb38031822b4515cc2f60c5a94fcae5df6099ddbf8c5a08",
    "cluster-analysis-template": "e9689a6f2566acca3c4580c8756963535289ca5092f9fd92727b5770ea0fea68",
    "analysis-run": "bd5fc4bdabe5fb4e7655bdd5e670244bad5d1757aa52f729a193a5fa6e6a729a",
    experiment: "a5dcd79b08bcfdd0c134cf8ca2ccd2e347a13864256c3e3a4748407ac0ad4b4d",
  },
};

export const crdUrl = (version: string, crd: string): string =>
  `https://raw.githubusercontent.com/argoproj/argo-rollouts/${version}/manifests/crds/${crd}-crd.yaml`;
