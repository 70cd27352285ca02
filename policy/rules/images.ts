/**
 * Images are pinned: never `latest`, never untagged (both mean "whatever the registry has now").
 * In production a digest is preferred: a tag can be moved, a digest cannot.
 */
import { asString, containersOf, defineRule, describeContainer, isWorkload, podSpecOf, shown, type Subject } from "./common";

export interface ImageReference {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits `registry:5000/repo/name:tag@sha256:...` into repository, tag and digest. */
export function parseImage(ref: string): ImageReference {
  const at = ref.indexOf("@");
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const rest = at === -1 ? ref : ref.slice(0, at);
  const colon = rest.lastIndexOf(":");
  // A colon before the last slash is a registry port, not a tag.
  const tag = colon > rest.lastIndexOf("/") ? rest.slice(colon + 1) : undefined;
  const repository = tag === undefined ? rest : rest.slice(0, colon);
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Why a reference is not pinned, or undefined when it is (a well-formed digest, or a tag other than latest). */
export function unpinnedReason(ref: string): string | undefined {
  const image = parseImage(ref.trim());
  if (image.digest !== undefined) return DIGEST.test(image.digest) ? undefined : `a malformed digest "${image.digest}"`;
  if (image.tag === undefined || image.tag === "") return "no tag (the registry's latest)";
  if (image.tag === "latest") return 'the tag "latest"';
  return undefined;
}

const WORKLOADS = "Kubernetes workloads with a pod template";

function images(subject: Subject): { where: string; image: unknown }[] {
  const pod = podSpecOf(subject);
  if (!pod) return [];
  return containersOf(pod).map((c) => ({ where: describeContainer(subject, c), image: c.container.image }));
}

export const imagePinned = defineRule({
  name: "image-pinned",
  description: "No container image is `latest` or untagged: a version tag or a digest.",
  enforcementLevel: "mandatory",
  appliesTo: isWorkload,
  scope: WORKLOADS,
  check: (subject) =>
    images(subject).flatMap(({ where, image }) => {
      const ref = asString(image);
      if (ref === undefined || ref.trim() === "")
        return [`${where}: image: expected an image reference with a version tag or a digest; found ${shown(image)}`];
      const reason = unpinnedReason(ref);
      return reason ? [`${where}: image: expected a version tag or a sha256 digest; found "${ref}" with ${reason}`] : [];
    }),
});

export const imageDigestInProduction = defineRule({
  name: "image-digest-in-production",
  description: "In production, container images are referenced by digest (`name@sha256:...`), which cannot be moved.",
  enforcementLevel: "advisory",
  appliesTo: isWorkload,
  scope: WORKLOADS,
  productionOnly: true,
  check: (subject) =>
    images(subject).flatMap(({ where, image }) => {
      const ref = asString(image);
      if (ref === undefined || parseImage(ref).digest !== undefined) return [];
      return [`${where}: image: expected a digest reference (name@sha256:...) in production; found "${ref}"`];
    }),
});

export const imageRules = [imagePinned, imageDigestInProduction];
