/**
 * `npm run render -- --stack <name> --out <dir>`: writes what the stack declares, offline.
 *   <dir>/manifests.yaml      every Kubernetes object, multi-document YAML, stable order
 *   <dir>/helm-releases.yaml  Helm releases with chart, version and values
 *   <dir>/kafka-api.yaml      @pulumi/kafka resources (topics, ACLs, SCRAM users), secrets redacted
 *   <dir>/outputs.json        the stack outputs
 * Exit codes: 0 rendered, 2 bad usage, unknown stack or invalid config, 1 anything else.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { ConfigError } from "../config";
import { type RenderResult, UnknownStackError, renderStack } from "./render";

const USAGE = "usage: npm run render -- --stack <name> --out <dir> [--project <dir with Pulumi.yaml>]";

export function writeRender(result: RenderResult, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: Record<string, string> = {
    "manifests.yaml": result.manifests.map((m) => stringify(m, { blockQuote: "literal" })).join("---\n"),
    "helm-releases.yaml": stringify(result.helmReleases),
    "kafka-api.yaml": stringify(result.kafkaApi),
    "outputs.json": `${JSON.stringify(result.outputs, null, 2)}\n`,
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, name), text);
  return Object.keys(files).map((f) => path.join(outDir, f));
}

async function main(argv: string[]): Promise<number> {
  let values: { stack?: string; out?: string; project?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, out: { type: "string" }, project: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    console.error(`render: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.stack || !values.out) {
    console.error(`render: --stack and --out are required\n${USAGE}`);
    return 2;
  }
  try {
    const result = await renderStack(values.stack, values.project ? { root: path.resolve(values.project) } : {});
    const files = writeRender(result, path.resolve(values.out));
    console.log(
      `render: stack ${values.stack}: ${result.manifests.length} Kubernetes objects, ${result.helmReleases.length} Helm releases, ` +
        `${result.kafkaApi.length} Kafka admin-API resources, ${Object.keys(result.outputs).length} outputs`,
    );
    files.forEach((f) => console.log(`  wrote ${path.relative(process.cwd(), f)}`));
    result.warnings.forEach((w) => console.error(`render: stack ${values.stack}: warning: ${w}`));
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UnknownStackError) {
      console.error(`render: stack ${values.stack}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

/** Runs `main` with the command line when `mod` is the process's entry point; exits with its code (1 on a throw). */
export function runIfMain(mod: NodeModule, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== mod) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

runIfMain(module, main);
