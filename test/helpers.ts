import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ConfigError, type PlatformConfig, parsePlatformConfig } from "../infra/config";
import { parseCommittedStack, readStackValues } from "../infra/render/render";

/** A committed stack's raw `streamforge:*` values, decoded as the Pulumi runtime hands them over. */
export function rawStack(stack: string): Record<string, unknown> {
  return readStackValues(stack).raw;
}

/** The keys a committed stack holds as `secure:` values, without the namespace. */
export function stackSecretKeys(stack: string): Set<string> {
  return readStackValues(stack).secretKeys;
}

/** A committed stack's validated config, secrets wrapped as the program sees them. */
export function committedConfig(stack: string): PlatformConfig {
  return parseCommittedStack(stack);
}

/** The problems a committed stack's config has once `change` is applied to its raw values; empty when it parses. */
export function variantProblems(stack: string, change: (raw: any) => void): string[] {
  const raw = structuredClone(rawStack(stack));
  change(raw);
  try {
    parsePlatformConfig(raw, stackSecretKeys(stack));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.key}: ${p.message}`);
  }
  return [];
}

/** The Secret and key a container reads at `file`, through its Secret volumes' mounts and items (as the kubelet lays them out). */
export function mountedSecretKey(pod: any, container: any, file: string): { secretName: string; key: string } | undefined {
  for (const mount of container.volumeMounts ?? []) {
    if (!file.startsWith(`${mount.mountPath}/`)) continue;
    const secret = (pod.volumes ?? []).find((v: any) => v.name === mount.name)?.secret;
    const item = secret?.items?.find((i: any) => i.path === file.slice(mount.mountPath.length + 1));
    if (item) return { secretName: secret.secretName, key: item.key };
  }
  return undefined;
}

/** A self-signed CA certificate (PEM) of its own, valid for a day, made by openssl (an EC P-256 key). */
export function selfSignedCertificate(commonName = "streamforge-test-ca"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-ca-"));
  try {
    const [key, cert] = [path.join(dir, "ca.key"), path.join(dir, "ca.crt")];
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"];
    execFileSync("openssl", [...args, "-subj", `/CN=${commonName}`, "-keyout", key, "-out", cert], { stdio: ["ignore", "ignore", "pipe"] });
    return fs.readFileSync(cert, "utf8");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
