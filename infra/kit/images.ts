/**
 * The third-party images a stack runs (Strimzi's, Argo's, Litmus'...), and how each is pinned by
 * digest. A tag can be moved by whoever controls the registry; a digest names the exact content
 * that was reviewed. Each area lists its images (infra/kit/area.ts `images`) with the config key
 * that pins its digest; the program warns at every prod preview about those pinned by tag only
 * (infra/platform.ts). Pure.
 */
import { z } from "zod";

/** `sha256:` and 64 hex digits: a manifest (or index) digest as registries report it. */
export const digestSchema = z.string().regex(/^sha256:[a-f0-9]{64}$/, "a digest such as sha256:<64 hex digits>");

/** A reference ending in a digest. */
export const BY_DIGEST = /@sha256:[a-f0-9]{64}$/;

/** A third-party image the stack deploys, and the key that pins it. */
export interface ThirdPartyImage {
  /** What runs it, for the warning: "Strimzi's cluster, topic and user operators". */
  readonly runs: string;
  /** The reference the stack deploys: `registry/name:tag`, with `@sha256:...` once pinned. */
  readonly ref: string;
  /** The full config key (`streamforge:...`) that pins its digest. */
  readonly digestKey: string;
}

/** `name:tag` with `@digest` when there is one. */
export function withDigest(ref: string, digest: string | undefined): string {
  return digest ? `${ref}@${digest}` : ref;
}

/** The images not pinned by digest. */
export function unpinnedImages(images: readonly ThirdPartyImage[]): ThirdPartyImage[] {
  return images.filter((image) => !BY_DIGEST.test(image.ref));
}

/**
 * The prod warning for images pinned by tag only, or undefined when every one has its digest. It
 * names each image and the key to set; `crane digest <ref>` (go-containerregistry) or `skopeo
 * inspect --format '{{.Digest}}' docker://<ref>` reads a digest, from a machine that reaches the registry.
 */
export function unpinnedImagesWarning(images: readonly ThirdPartyImage[]): string | undefined {
  const unpinned = unpinnedImages(images);
  if (unpinned.length === 0) return undefined;
  const lines = unpinned.map((i) => `  - ${i.ref} (${i.runs}): set ${i.digestKey}`);
  return [
    `prod: ${unpinned.length} third-party image(s) pinned by tag only, which whoever controls the registry can move:`,
    ...lines,
    "Read each digest with `crane digest <ref>` where the registry is reachable, and set it (docs/security.md, Images).",
  ].join("\n");
}
