/** Reads the platform's stack outputs a program needs, checked against the platform's outputs contract. */
import * as pulumi from "@pulumi/pulumi";
// A real consumer takes this file from the platform's release (it has no imports of its own).
import { type OutputKey, type OutputValueOf, requiredOutputProblems } from "../../infra/kit/outputs-contract";

/** `wanted` maps the caller's field names to output keys; the result has those fields, typed from the contract. */
export type RequiredOutputs<M extends Readonly<Record<string, OutputKey>>> = { readonly [F in keyof M]: OutputValueOf<M[F]> };

/**
 * The outputs `wanted` names, from the platform's stack, as plain values. Before anything is declared it
 * fails naming every output that is missing, of another type than the contract declares, or a
 * secret where the contract declares a plain value, so a wrong stack name or an older platform
 * shows as one clear error instead of a ConfigMap with holes.
 */
export async function readPlatformOutputs<const M extends Readonly<Record<string, OutputKey>>>(
  platform: pulumi.StackReference,
  platformStack: string,
  wanted: M,
): Promise<RequiredOutputs<M>> {
  const fetched = Object.fromEntries(
    await Promise.all(
      Object.values(wanted).map(async (key) => {
        const details = await platform.getOutputDetails(key);
        if (details.secretValue !== undefined) return [key, { value: details.secretValue as unknown, secret: true }] as const;
        return [key, details.value === undefined ? undefined : { value: details.value as unknown, secret: false }] as const;
      }),
    ),
  );
  const problems = requiredOutputProblems(platformStack, fetched);
  if (problems.length > 0)
    // RunError: Pulumi prints the message alone, without a stack trace.
    throw new pulumi.RunError(
      `The platform's outputs are not what this program requires (see the platform's infra/kit/outputs-contract.ts):\n  - ${problems.join("\n  - ")}`,
    );
  return Object.fromEntries(Object.entries(wanted).map(([field, key]) => [field, fetched[key]!.value])) as RequiredOutputs<M>;
}
