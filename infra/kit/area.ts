/**
 * The one seam between an area and the program: each area exports one descriptor from its
 * `area.ts`, and the program lists the descriptors in one place (infra/areas.ts). The descriptor
 * carries the area's config schema, the namespaces it needs with their Pod Security level, its
 * component factory and the stack outputs it adds, so the program holds no area's knowledge.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConfigArea, ConfigProblem } from "./config-kit";
import type { ThirdPartyImage } from "./images";
import type { NamespaceSpec, PlatformNamespaces } from "./namespaces";
import type { ResolvedCluster } from "./provider";

/** What the program hands an area's factory. `Config` is the stack's settings, as far as the area reads them. */
export interface AreaStack<Config> {
  /** The stack's validated settings. */
  readonly config: Config;
  /** The stack's explicit Kubernetes provider: every component gets `{ providers }`. */
  readonly providers: pulumi.ProviderResource[];
  /** The namespaces every area asked for; `namespaces.dependencies(...)` before creating objects in them. */
  readonly namespaces: PlatformNamespaces;
  /** What the stack's kubeconfig says about its target (the entry point reads it); undefined offline (render). */
  readonly cluster: ResolvedCluster | undefined;
  /** What the areas created before this one expose, by area name (read with `partsOf`). */
  readonly parts: Readonly<Record<string, unknown>>;
  /**
   * What the entry point read from the cluster before anything was declared, by area name (the
   * Kafka area's live objects: infra/kafka/live.ts); empty offline (render).
   */
  readonly observed: Readonly<Record<string, unknown>>;
}

/** An area's config module, as `defineArea` (config-kit.ts) returns it. */
type AreaSchema = Pick<ConfigArea, "keys" | "secrets">;

/**
 * Stack outputs as the program returns them: each value of its contract type, or an Output of it
 * (the operator image's digest is known only after the push). Pulumi exports them resolved, so a
 * consumer reads the contract's plain types.
 */
export type Unresolved<Values> = { readonly [K in keyof Values]: pulumi.Input<Values[K]> };

/** What an area writes in its `area.ts`: `Config` is what it reads of the stack's settings. */
export interface AreaDescriptor<Schema extends AreaSchema, Config, Parts, Outputs extends object> {
  /** The area's name: where its parts are kept for the areas after it. */
  readonly name: string;
  /** Its top-level `streamforge:*` keys, their secrets and the rules between them (infra/kit/config-kit.ts). */
  readonly config: Schema;
  /** The namespaces it runs in this stack, each with the Pod Security level it needs; a name asked twice keeps its strictest level. */
  readonly namespaces?: (config: Config) => readonly NamespaceSpec[];
  /** The third-party images it deploys in this stack, each with the key that pins its digest (infra/kit/images.ts). */
  readonly images?: (config: Config) => readonly ThirdPartyImage[];
  /**
   * The edits it refuses given what the cluster holds (`observed`, read before anything is
   * declared): the program checks every area's before it declares a resource, so a refused edit
   * declares nothing.
   */
  readonly refusals?: (config: Config, observed: AreaStack<Config>["observed"]) => readonly ConfigProblem[];
  /** Declares its components; returns what the areas after it and its outputs need. */
  readonly create?: (stack: AreaStack<Config>) => Parts;
  /** The stack outputs it adds (each declared in infra/kit/outputs-contract.ts), read from what `create` returned. */
  readonly outputs?: (parts: Parts, stack: AreaStack<Config>) => Outputs;
}

/** One area, as the program runs it: its schema, its namespaces, and one call that declares it. */
export interface Area<Schema extends AreaSchema = AreaSchema, Config = never, Outputs extends object = object> {
  readonly name: string;
  readonly config: Schema;
  readonly namespaces: (config: Config) => readonly NamespaceSpec[];
  readonly images: (config: Config) => readonly ThirdPartyImage[];
  readonly refusals: (config: Config, observed: AreaStack<Config>["observed"]) => readonly ConfigProblem[];
  /** Creates the area's components and reads its outputs from them. */
  readonly declare: (stack: AreaStack<Config>) => { readonly parts: unknown; readonly outputs: Outputs };
}

/** Declares an area with its types inferred from its pieces. */
export function defineAreaDescriptor<Schema extends AreaSchema, Config, Parts = undefined, Outputs extends object = Record<never, never>>(
  area: AreaDescriptor<Schema, Config, Parts, Outputs>,
): Area<Schema, Config, Outputs> {
  return {
    name: area.name,
    config: area.config,
    namespaces: (config) => area.namespaces?.(config) ?? [],
    images: (config) => area.images?.(config) ?? [],
    refusals: (config, observed) => area.refusals?.(config, observed) ?? [],
    declare: (stack) => {
      const parts = area.create?.(stack) as Parts;
      return { parts, outputs: area.outputs?.(parts, stack) ?? ({} as Outputs) };
    },
  };
}

/**
 * How an area reads the parts another area's `create` returned: `partsOf<KafkaParts>("kafka")`,
 * exported by the area that makes them. Fails naming the area when the program lists it after one that reads it.
 */
export const partsOf =
  <Parts>(area: string) =>
  (stack: Pick<AreaStack<unknown>, "parts">): Parts => {
    if (!(area in stack.parts))
      throw new Error(`The ${area} area has not been created yet: list it before the areas that read its parts (infra/areas.ts)`);
    return stack.parts[area] as Parts;
  };
