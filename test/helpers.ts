import { type PlatformConfig, decodeRawConfig, parsePlatformConfig, withSecrets } from "../infra/config";
import { readStackConfig } from "../infra/render/render";

/** A committed stack's raw `streamforge:*` values, decoded as the Pulumi runtime hands them over. */
export function rawStack(stack: string): Record<string, unknown> {
  const { config, secretKeys } = readStackConfig(stack);
  return decodeRawConfig(config, secretKeys).raw;
}

/** A committed stack's validated config, secrets wrapped as the program sees them. */
export function committedConfig(stack: string): PlatformConfig {
  return withSecrets(parsePlatformConfig(rawStack(stack)));
}
