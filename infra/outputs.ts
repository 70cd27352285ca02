/**
 * The stack outputs: the contract other teams read with `StackReference`. Flat, named, stable.
 * What each output is, its type and stability are declared in ./kit/outputs-contract.ts; each area
 * reads its values from its components (its `area.ts`), and this file joins them.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AREAS } from "./areas";
import type { Unresolved } from "./kit/area";
import { FIXED_OUTPUTS, type OutputValues, type PLATFORM_OUTPUTS, type PlatformOutputs } from "./kit/outputs-contract";

export { pascalCase, topicOutputKey, userOutputKey, userSecretOutputKey } from "./kit/outputs-contract";
export { FROM_KUBECONFIG_PLACEHOLDER } from "./kit/provider";

export type FixedOutputs = OutputValues<typeof PLATFORM_OUTPUTS>;
/** The outputs as the program returns them (Pulumi resolves each before it exports it). */
export type StackOutputs = Unresolved<PlatformOutputs> & Readonly<Record<string, pulumi.Input<string | string[]>>>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** What the areas' outputs add up to, typed from each area's descriptor. */
type AreasOutputs = UnionToIntersection<ReturnType<(typeof AREAS)[number]["declare"]>["outputs"]>;

/** Joins the areas' outputs; two areas claiming one key is a bug of the program, not of the stack. */
export function stackOutputs(byArea: readonly { readonly area: string; readonly outputs: object }[]): StackOutputs {
  const joined: Record<string, unknown> = {};
  const claimedBy = new Map<string, string>();
  for (const { area, outputs } of byArea)
    for (const [key, value] of Object.entries(outputs)) {
      const other = claimedBy.get(key);
      if (other !== undefined) throw new Error(`Output key "${key}" of the ${area} area collides with the ${other} area's; rename it`);
      claimedBy.set(key, area);
      joined[key] = value;
    }
  // The contract's order first (as docs/outputs.md lists them), then the outputs named after catalogue entries.
  const keys = [...Object.keys(FIXED_OUTPUTS).filter((k) => k in joined), ...Object.keys(joined).filter((k) => !(k in FIXED_OUTPUTS))];
  // Every output the contract fixes comes from some area: the areas' declared types add up to the contract's.
  const typed = Object.fromEntries(keys.map((k) => [k, joined[k]])) as AreasOutputs;
  const contract: StackOutputs = typed;
  return contract;
}
