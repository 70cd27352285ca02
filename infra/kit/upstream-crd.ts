/**
 * An upstream release's CRD, applied by the program from the release's own file: fetched at deploy
 * time, used only if its sha256 is the pinned one (./fetch-verified.ts), and applied as a CRD patch
 * (server-side apply, forced). The first `up` adopts a CRD an earlier chart install created (owned
 * by Helm's field manager), and removing it from the program, or destroying the stack, only gives up
 * its fields (pulumi-kubernetes provider/pkg/await/await.go: a patch resource's create is an apply,
 * L187-225, and its delete `ssa.Relinquish`, L837-839, at the module the local CLI runs,
 * v4.0.0-20260115033456-f47bc2d6f199; the same at tag v4.32.0, L190 and L958-961, for the 4.3x
 * plugins that create other kinds client-side). A CRD is never deleted by the program: that would
 * delete every object of its kinds in every namespace.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { fetchVerified } from "./fetch-verified";
import { yamlDocuments } from "./yaml-documents";

/** Names the file and sum a CRD was applied from, on the CRD itself. */
export const CRD_SOURCE_ANNOTATION = "streamforge.io/crd-source";

/** The one CRD a fetched file holds, checked to be the one expected; its `metadata` and `spec` for the patch. */
export function crdOfFile(text: string, expected: string, url: string): { labels: Record<string, string>; spec: Record<string, unknown> } {
  const docs = yamlDocuments(text, url);
  const crd = docs[0] as { kind?: unknown; metadata?: { name?: unknown; labels?: Record<string, string> }; spec?: unknown } | undefined;
  if (docs.length !== 1 || crd?.kind !== "CustomResourceDefinition" || crd.metadata?.name !== expected || typeof crd.spec !== "object")
    throw new Error(`${url}: expected one CustomResourceDefinition named ${expected}; found ${docs.length} document(s)`);
  return { labels: crd.metadata.labels ?? {}, spec: crd.spec as Record<string, unknown> };
}

export interface UpstreamCrd {
  /** The CRD's name (`<plural>.<group>`), checked against the file. */
  readonly name: string;
  /** Where the release publishes the file. */
  readonly url: string;
  /** The file's pinned sha256. */
  readonly sha256: string;
}

/**
 * The CRD patch of one upstream file. Offline (render, unit tests) nothing is fetched: the patch
 * holds only the name and the annotation naming the file and its sum, which `up` and `preview`
 * fetch and check.
 */
export function upstreamCrdPatch(resourceName: string, crd: UpstreamCrd, offline: boolean, opts: pulumi.CustomResourceOptions) {
  const fetched = offline
    ? undefined
    : pulumi.output(fetchVerified(crd.url, crd.sha256)).apply((text) => crdOfFile(text, crd.name, crd.url));
  return new k8s.apiextensions.v1.CustomResourceDefinitionPatch(
    resourceName,
    {
      metadata: {
        name: crd.name,
        ...(fetched ? { labels: fetched.labels } : {}),
        // Forced: a CRD an earlier chart install created is owned by Helm's field manager.
        annotations: { "pulumi.com/patchForce": "true", [CRD_SOURCE_ANNOTATION]: `${crd.url} sha256:${crd.sha256}` },
      },
      ...(fetched ? { spec: fetched.spec } : {}),
    },
    opts,
  );
}
