/**
 * Settings of the self-healing operator's deployment. Its detection policy is validated with the
 * operator's own schema (operator/src/contract.ts), so a typo fails `pulumi preview` naming the
 * full key instead of crash-looping the pod.
 */
import { z } from "zod";
import { policyOverrideSchema } from "../../operator/src/contract";
import { type AreaConfig, defineArea, dnsLabel, imageReference, problem, secretText } from "../kit/config-kit";
import { ENV_NAME, GUARD_DEFAULTS, IMAGE_PREFIX } from "./guard";

const imageSchema = z.union([
  z.strictObject({
    /** A prebuilt image reference, ideally by digest. */
    ref: imageReference,
    /** A private registry's login for pulling it; the password is streamforge:operatorRegistryPassword. */
    pullCredentials: z.strictObject({ registry: z.string().min(1), username: z.string().min(1) }).optional(),
  }),
  z.strictObject({
    /** Build operator/Dockerfile and push it here. */
    registry: z.string().min(1),
    repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "a lowercase repository path"),
    tag: z.string().regex(/^[\w][\w.-]{0,127}$/, "an image tag"),
    username: z.string().min(1).optional(),
  }),
]);

const operatorSchema = z.strictObject({
  enabled: z.boolean().default(true),
  image: imageSchema,
  replicas: z.int().min(1).max(5).default(2),
  dryRun: z.boolean().default(false),
  /** Jobs of this namespace are watched; defaults to streamforge:apps.namespace. */
  watchNamespace: dnsLabel.optional(),
  /** The catalogue user the operator reads queue-events as. */
  kafkaUser: dnsLabel.default("self-healing-operator"),
  groupId: z.string().min(1).default("streamforge-self-healing"),
  /** Overrides of the operator's detection policy, checked with the operator's own schema. */
  policy: policyOverrideSchema.default({}),
  /** Moved to streamforge:network.apiServerCidr (every workload's, not only the operator's); refused here with that name. */
  apiServerCidr: z.unknown().optional(),
  /**
   * The relaunch guard (infra/self-healing/relaunch-guard-spec.ts), always deployed with the
   * operator: in the cluster from the operator's image by default; `url` where it runs outside the
   * cluster (the local platform runs it beside the API server), which the stack then only trusts.
   */
  relaunchGuard: z
    .strictObject({
      url: z.url({ protocol: /^https$/, error: "an https URL (the API server calls webhooks over TLS)" }).optional(),
      /**
       * Its own namespace, where no person should hold `edit` (that would read its key); default
       * `<apps.namespace>-relaunch-guard`. Created with the others unless namespaces.create is false.
       */
      namespace: dnsLabel.optional(),
    })
    .default({}),
  /** The admission guard on the Jobs the operator's ServiceAccount creates (infra/self-healing/guard.ts). */
  guard: z
    .strictObject({
      /** ServiceAccounts a replacement Job's pods may run as; queue-manager's Jobs name none ("default"). */
      allowedServiceAccounts: z
        .array(dnsLabel)
        .min(1)
        .default([...GUARD_DEFAULTS.allowedServiceAccounts]),
      /** Every container image of a replacement Job starts with one of these (a registry and a path). */
      allowedImagePrefixes: z
        .array(z.string().regex(IMAGE_PREFIX, "an image prefix with a registry and a path, such as ghcr.io/org/"))
        .min(1)
        .default([...GUARD_DEFAULTS.allowedImagePrefixes]),
      /** Env names a replacement Job's containers may set (a trailing `_*`: a prefix): queue-manager's launcher's by default. */
      allowedEnv: z
        .array(z.string().regex(ENV_NAME, "an env name, or a prefix of names ending in _* (ARANGO_*)"))
        .min(1)
        .default([...GUARD_DEFAULTS.allowedEnv]),
    })
    .default({
      allowedServiceAccounts: [...GUARD_DEFAULTS.allowedServiceAccounts],
      allowedImagePrefixes: [...GUARD_DEFAULTS.allowedImagePrefixes],
      allowedEnv: [...GUARD_DEFAULTS.allowedEnv],
    }),
});

export const selfHealingArea = defineArea({
  keys: {
    operator: operatorSchema.optional(),
    /** Password of operator.image.username at operator.image.registry. */
    operatorRegistryPassword: secretText,
  },
  secrets: ["operatorRegistryPassword"],
  rules: ({ operator, operatorRegistryPassword }) => {
    if (operator?.apiServerCidr !== undefined)
      return [
        problem(
          "operator",
          ["apiServerCidr"],
          `moved: expected it as streamforge:network.apiServerCidr, where every workload that reaches the API server reads it; found ${JSON.stringify(operator.apiServerCidr)} here`,
        ),
      ];
    const image = operator?.enabled ? operator.image : undefined;
    const login = image && ("ref" in image ? image.pullCredentials?.username : image.username);
    if (login !== undefined && operatorRegistryPassword === undefined)
      return [problem("operatorRegistryPassword", [], `expected the secret password of registry user "${login}"; found nothing`)];
    if (login === undefined && operatorRegistryPassword !== undefined)
      return [
        problem(
          "operatorRegistryPassword",
          [],
          "expected a registry login to use it (streamforge:operator.image.username, or .pullCredentials); found none. Remove it or name the user",
        ),
      ];
    return [];
  },
});

/** The relaunch guard's namespace: streamforge:operator.relaunchGuard.namespace, or `<apps namespace>-relaunch-guard` (infra/config.ts checks either). */
export const relaunchGuardNamespace = (operator: Pick<OperatorConfig, "relaunchGuard">, appsNamespace: string): string =>
  operator.relaunchGuard.namespace ?? `${appsNamespace}-relaunch-guard`;

/** The registry login of the operator's image, when it has one: pods pull with it (and the build pushes with it). */
export function registryLogin(image: OperatorConfig["image"]): { registry: string; username: string } | undefined {
  if ("ref" in image) return image.pullCredentials;
  return image.username === undefined ? undefined : { registry: image.registry, username: image.username };
}

export type SelfHealingAreaConfig = AreaConfig<typeof selfHealingArea>;
export type OperatorConfig = z.output<typeof operatorSchema>;
