/** The real Pulumi CLI and kubectl against the local platform, for the integration tier. */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { PROJECT_ROOT } from "../../infra/render/render";

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `The integration tier needs ${name}: run it through scripts/test.sh, or \`npm run local -- up\` and eval "$(npm run --silent local -- env)"`,
    );
  return value;
}

/** Runs `pulumi <args>` in the project; stdout and stderr together in `output`. */
export function pulumi(args: string[], timeout = 600_000): { status: number | null; stdout: string; output: string } {
  const result = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: PROJECT_ROOT, encoding: "utf8", env: process.env, timeout });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}\n${result.stderr}` };
}

export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", args, { encoding: "utf8", env: process.env });
}

/** Selects a stack of the local backend, creating it when it does not exist yet. */
export function selectStack(stack: string): void {
  if (pulumi(["stack", "select", stack]).status !== 0) {
    const init = pulumi(["stack", "init", stack]);
    if (init.status !== 0) throw new Error(`pulumi stack init ${stack} failed:\n${init.output}`);
  }
}

/**
 * A stack config file written to a temporary folder (passed with `--config-file`), so a test
 * varies a stack without touching the committed Pulumi.<stack>.yaml.
 */
export function configFile(name: string, doc: { config: Record<string, unknown>; encryptionsalt?: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "streamforge-stack-"));
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return file;
}
