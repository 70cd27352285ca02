/**
 * Every resource a stack declares, by the identity Pulumi keeps it under: its URN (stack, project,
 * the types of its parent chain, its name) with a digest of its inputs, its provider and the
 * options that decide replacement. A changed URN is a delete and a create on a real stack (for
 * Kafka, data lost), so a refactor must leave this list as it was, or add `aliases` and say so.
 *
 * test/identity.test.ts holds every committed stack to test/identity/<stack>.json. After a change
 * that is meant to change resources, regenerate them and review the diff:
 *   npm run identity -- --write
 * `npm run identity -- --stack dev` prints one stack's list.
 *
 * Pulumi's mock monitor (runtime/mocks.js newUrn) qualifies a child's type with its parent's type
 * only, not the whole chain the engine uses; while recording, the chain is made whole.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import { runIfMain } from "./cli";
import { PROJECT_ROOT, knownStacks, renderStack } from "./render";

/** Where the recorded identities live, one file per stack. */
export const IDENTITY_DIR = path.join(PROJECT_ROOT, "test", "identity");

/** URN -> digest of what the resource is declared with; sorted by URN. */
export type StackIdentity = Record<string, string>;

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getProvider(): string;
  getObject(): Parameters<typeof deserializeProperties>[0];
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAliasesList(): { toObject(): unknown }[];
}

interface MockMonitorInternals {
  newUrn: (this: MockMonitorInternals, parent: string, type: string, name: string) => string;
  registerResource: (
    this: MockMonitorInternals,
    req: RegisterRequest,
    callback: (err: unknown, response: unknown) => void,
  ) => Promise<void>;
}

/** Keys sorted at every level, Pulumi's secret wrapper unwrapped, undefined dropped: equal values, equal text. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if ("4dabf18193072939515e22adb298388d" in record) return { secret: canonical(record.value) };
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .filter((k) => record[k] !== undefined)
        .map((k) => [k, canonical(record[k])]),
    );
  }
  return value;
}

const digest = (value: unknown): string =>
  createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex")
    .slice(0, 16);

/** Runs the stack's program under mocks and returns each resource's URN with the digest of its declaration. */
export async function stackIdentity(stack: string): Promise<StackIdentity> {
  const proto = MockMonitor.prototype as unknown as MockMonitorInternals;
  const { newUrn, registerResource } = proto;
  const declared: Record<string, string> = {};
  // The engine's URN: the qualified type is the parent's qualified type, `$`, the resource's type.
  const fullUrn = (parent: string, type: string, name: string): string =>
    `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${parent ? `${parent.split("::")[2]}$${type}` : type}::${name}`;
  proto.newUrn = fullUrn;
  proto.registerResource = function (req, callback) {
    const urn = fullUrn(req.getParent(), req.getType(), req.getName());
    if (urn in declared) throw new Error(`Two resources share the URN ${urn}`);
    declared[urn] = digest({
      inputs: deserializeProperties(req.getObject()),
      // `urn::id` of the explicit provider: a resource moved to another provider is replaced.
      provider: req.getProvider(),
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      aliases: req.getAliasesList().map((a) => a.toObject()),
    });
    return registerResource.call(this, req, callback);
  };
  try {
    await renderStack(stack);
  } finally {
    proto.newUrn = newUrn;
    proto.registerResource = registerResource;
  }
  return Object.fromEntries(
    Object.keys(declared)
      .sort()
      .map((urn) => [urn, declared[urn]!]),
  );
}

export const identityFile = (stack: string): string => path.join(IDENTITY_DIR, `${stack}.json`);

export function readIdentity(stack: string): StackIdentity | undefined {
  const file = identityFile(stack);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StackIdentity) : undefined;
}

/** What differs between a recorded identity and the program's: URNs gone, URNs new, URNs declared otherwise. */
export function identityChanges(recorded: StackIdentity, now: StackIdentity): { gone: string[]; added: string[]; changed: string[] } {
  return {
    gone: Object.keys(recorded).filter((urn) => !(urn in now)),
    added: Object.keys(now).filter((urn) => !(urn in recorded)),
    changed: Object.keys(now).filter((urn) => urn in recorded && recorded[urn] !== now[urn]),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { stack: { type: "string" }, write: { type: "boolean" } }, strict: true });
  const stacks = values.stack ? [values.stack] : knownStacks();
  for (const stack of stacks) {
    const identity = await stackIdentity(stack);
    if (values.write) {
      fs.mkdirSync(IDENTITY_DIR, { recursive: true });
      fs.writeFileSync(identityFile(stack), `${JSON.stringify(identity, null, 2)}\n`);
      console.log(
        `identity: stack ${stack}: ${Object.keys(identity).length} resources, wrote ${path.relative(process.cwd(), identityFile(stack))}`,
      );
    } else {
      const recorded = readIdentity(stack) ?? {};
      const { gone, added, changed } = identityChanges(recorded, identity);
      console.log(
        `identity: stack ${stack}: ${Object.keys(identity).length} resources; ${gone.length} gone, ${added.length} new, ${changed.length} changed`,
      );
      for (const [label, urns] of [
        ["gone", gone],
        ["new", added],
        ["changed", changed],
      ] as const)
        urns.forEach((urn) => console.log(`  ${label} ${urn}`));
    }
  }
  return 0;
}

runIfMain(module, main);
