/**
 * The whole platform program: the namespaces every area asks for, then each area of infra/areas.ts
 * in order, every one given the stack's explicit Kubernetes provider and the parts of the areas
 * before it. What each area declares is in its own `area.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import { type ThirdPartyImage, unpinnedImagesWarning } from "./kit/images";
import { ConfirmationGuard, DESTROY_GUARD_NAME, remoteChildrenOf, resourcesIn } from "./kit/confirmation-guard";
import { PlatformNamespaces } from "./kit/namespaces";
import { type ResolvedCluster, clusterProvider } from "./kit/provider";
import type { AreaStack } from "./kit/area";
import { ConfigError } from "./kit/config-kit";
import { AREAS } from "./areas";
import { keepOptions } from "./kafka/data-safety";
import type { PlatformConfig } from "./config";
import { type StackOutputs, stackOutputs } from "./outputs";

/** Every third-party image the stack deploys, area by area. */
export function thirdPartyImages(config: PlatformConfig): ThirdPartyImage[] {
  return AREAS.flatMap((area) => area.images(config));
}

/**
 * Declares the stack. `cluster` is what the stack's kubeconfig says about its target (read by the
 * entry point); render, offline, has none and shows placeholders.
 */
export function createPlatform(
  config: PlatformConfig,
  cluster?: ResolvedCluster,
  observed: Readonly<Record<string, unknown>> = {},
): StackOutputs {
  if (!config.cluster) throw new Error("streamforge:cluster is required (checked by infra/cluster/config.ts)");
  // Before any resource: what the cluster holds that an edit may not lose or Strimzi cannot make.
  const refused = AREAS.flatMap((area) => area.refusals(config, observed));
  if (refused.length > 0) throw new ConfigError(refused);
  const providers = [clusterProvider("cluster", config.cluster)];
  const namespaces = new PlatformNamespaces(
    "streamforge",
    {
      namespaces: AREAS.flatMap((area) => area.namespaces(config)),
      create: config.namespaces.create,
      // Those holding Kafka's data or credentials stay unless the stack's deletion is confirmed.
      keepData: keepOptions(config.retire.stack),
    },
    { providers },
  );
  // A tag can be moved under a running prod cluster; say so at every preview until each is pinned.
  if (config.environment === "prod") {
    const warning = unpinnedImagesWarning(thirdPartyImages(config));
    if (warning) void pulumi.log.warn(warning);
  }
  const parts: Record<string, unknown> = {};
  const stack: AreaStack<PlatformConfig> = { config, providers, namespaces, cluster, parts, observed };
  const outputs = AREAS.map((area) => {
    const declared = area.declare(stack);
    parts[area.name] = declared.parts;
    return { area: area.name, outputs: declared.outputs };
  });
  // Last, after every other resource: `pulumi destroy` fails on it first, naming the confirmation.
  const areaResources = Object.values(parts).flatMap(resourcesIn);
  new ConfirmationGuard(DESTROY_GUARD_NAME, {
    guards: [...providers, namespaces, ...areaResources],
    remoteChildren: remoteChildrenOf(areaResources),
    refuse: keepOptions(config.retire.stack).protect,
  });
  return stackOutputs(outputs);
}
