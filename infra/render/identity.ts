/**
 * Every resource a stack declares, by the identity Pulumi keeps it under: its URN (stack, project,
 * the types of its parent chain, its name) with a digest of its inputs, its provider and the
 * options that decide replacement. A changed URN is a delete and a create on a real stack (for
 * Kafka, data lost), so a refactor must leave this list as it was, or record the move in
 * infra/moves.ts, which gives the resource its old URN as an alias (infra/kit/moves.ts).
 *
 * test/identity.test.ts holds every committed stack to test/identity/<stack>.json: a URN gone and
 * a URN new pass only where a recorded move carries one to the other, as the engine would; for
 * the others it names both URNs and the entry to add. After a change that is meant to change
 * resources, regenerate the files and review the diff:
 *   npm run identity -- --write
 * `npm run identity -- --stack dev` prints one stack's differences.
 *
 * Pulumi's mock monitor (runtime/mocks.js newUrn) qualifies a child's type with its parent's type
 * only, not the whole chain the engine uses; while recording, the chain is made whole. The mocks
 * do not run stack transforms, so the moves are applied here by the same rule the engine follows.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import { type Move, type Registered, childUrn, moveProblems, oldUrnsMatched, parseUrn, urnTail } from "../kit/moves";
import { MOVES } from "../moves";
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

/** What a program declares: each URN's digest, and the resources in registration order with their parents. */
export interface ProgramIdentity {
  readonly identity: StackIdentity;
  readonly registered: readonly Registered[];
}

/** Runs `run` (a program under Pulumi's mocks) and records each resource's URN with the digest of its declaration. */
export async function recordIdentity(run: () => Promise<unknown>): Promise<ProgramIdentity> {
  const proto = MockMonitor.prototype as unknown as MockMonitorInternals;
  const { newUrn, registerResource } = proto;
  const declared: Record<string, string> = {};
  const registered: Registered[] = [];
  const fullUrn = (parent: string, type: string, name: string): string =>
    childUrn(pulumi.getStack(), pulumi.getProject(), parent || undefined, type, name);
  proto.newUrn = fullUrn;
  proto.registerResource = function (req, callback) {
    const urn = fullUrn(req.getParent(), req.getType(), req.getName());
    if (urn in declared) throw new Error(`Two resources share the URN ${urn}`);
    registered.push({ urn, ...(req.getParent() ? { parent: req.getParent() } : {}) });
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
    await run();
  } finally {
    proto.newUrn = newUrn;
    proto.registerResource = registerResource;
  }
  const identity = Object.fromEntries(
    Object.keys(declared)
      .sort()
      .map((urn) => [urn, declared[urn]!]),
  );
  return { identity, registered };
}

/** Runs the stack's program under mocks and records what it declares. */
export const stackIdentity = (stack: string): Promise<ProgramIdentity> => recordIdentity(() => renderStack(stack));

export const identityFile = (stack: string): string => path.join(IDENTITY_DIR, `${stack}.json`);

export function readIdentity(stack: string): StackIdentity | undefined {
  const file = identityFile(stack);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StackIdentity) : undefined;
}

/** A URN gone and a URN new that look like one object moved, with the entry that would carry it. */
export interface SuggestedMove {
  readonly gone: string;
  readonly added: string;
  readonly entry: Move;
}

export interface IdentityChanges {
  /** Recorded URNs no resource is found under: deleted on the next `up`. */
  readonly gone: string[];
  /** URNs found under no recorded URN: created on the next `up`. */
  readonly added: string[];
  /** URNs (the new one, for a move) declared otherwise than recorded. */
  readonly changed: string[];
  /** Recorded URN -> new URN, carried by a recorded move. */
  readonly moved: { readonly from: string; readonly to: string }[];
  /** For pairs of `gone` and `added` that look like one object: the entry each needs, outermost first. */
  readonly suggested: SuggestedMove[];
  /** Recorded URN -> new URN of the children a suggested entry would carry along with their parent. */
  readonly carried: { readonly from: string; readonly to: string }[];
}

const lastType = (urn: string): string => parseUrn(urn).typeChain.split("$").pop()!;

/**
 * The one recorded URN left over that `added` most likely was: the same type and name (under
 * another parent), else the only one of its type with the same declaration, else the only one of
 * its type on both sides, else the only one with its name.
 */
function likelyOrigin(
  added: string,
  gone: readonly string[],
  news: readonly string[],
  recorded: StackIdentity,
  now: StackIdentity,
): string | undefined {
  const type = lastType(added);
  const name = parseUrn(added).name;
  const only = (urns: string[]): string | undefined => (urns.length === 1 ? urns[0] : undefined);
  const sameType = gone.filter((g) => lastType(g) === type);
  return (
    only(sameType.filter((g) => parseUrn(g).name === name)) ??
    only(sameType.filter((g) => recorded[g] === now[added])) ??
    (news.filter((n) => lastType(n) === type).length === 1 ? only(sameType) : undefined) ??
    only(gone.filter((g) => parseUrn(g).name === name))
  );
}

/**
 * What differs between a recorded identity and the program's, with `moves` applied as the engine
 * applies aliases (infra/kit/moves.ts `oldUrnsMatched`). Leftover pairs that look like a move get
 * the entry that would carry them, the outermost first (its children then follow it).
 */
export function identityChanges(recorded: StackIdentity, now: ProgramIdentity, moves: readonly Move[] = MOVES): IdentityChanges {
  const olds = new Set(Object.keys(recorded));
  const leftovers = (table: readonly Move[]) => {
    const matched = oldUrnsMatched(olds, now.registered, table);
    const carried = new Set(matched.values());
    return {
      matched,
      gone: Object.keys(recorded).filter((urn) => !(urn in now.identity) && !carried.has(urn)),
      // In registration order: a parent before its children.
      added: now.registered.map((r) => r.urn).filter((urn) => !olds.has(urn) && !matched.has(urn)),
    };
  };
  const { matched, gone, added } = leftovers(moves);
  const suggested: SuggestedMove[] = [];
  for (;;) {
    const left = leftovers([...moves, ...suggested.map((s) => s.entry)]);
    const pair = left.added
      .map((n) => ({ n, g: likelyOrigin(n, left.gone, left.added, recorded, now.identity) }))
      .find((p) => p.g !== undefined);
    if (!pair) break;
    suggested.push({ gone: pair.g!, added: pair.n, entry: { from: urnTail(pair.g!), to: urnTail(pair.n) } });
  }
  const withSuggested = leftovers([...moves, ...suggested.map((s) => s.entry)]).matched;
  const suggestedNew = new Set(suggested.map((s) => s.added));
  const recordedOf = (urn: string) => recorded[matched.get(urn) ?? urn];
  return {
    gone,
    added,
    changed: Object.keys(now.identity).filter((urn) => recordedOf(urn) !== undefined && recordedOf(urn) !== now.identity[urn]),
    moved: [...matched].map(([to, from]) => ({ from, to })).sort((a, b) => a.from.localeCompare(b.from)),
    suggested,
    carried: added.filter((urn) => withSuggested.has(urn) && !suggestedNew.has(urn)).map((to) => ({ from: withSuggested.get(to)!, to })),
  };
}

/** The lines that explain `changes`, each naming its URNs; the suggested entries first. */
export function identityReport(changes: IdentityChanges): string[] {
  const explained = new Set([...changes.suggested.flatMap((s) => [s.gone, s.added]), ...changes.carried.flatMap((c) => [c.from, c.to])]);
  return [
    ...changes.suggested.map(
      (s) =>
        `moved? ${s.gone} is gone and ${s.added} is new: if it is the same object, add to infra/moves.ts ` +
        `${JSON.stringify(s.entry)} (else the next up deletes the one and creates the other)`,
    ),
    ...changes.carried.map((c) => `moved? ${c.from} -> ${c.to}: carried along by its parent's entry above`),
    ...changes.gone.filter((urn) => !explained.has(urn)).map((urn) => `gone ${urn}`),
    ...changes.added.filter((urn) => !explained.has(urn)).map((urn) => `new ${urn}`),
    ...changes.changed.map((urn) => `changed ${urn}`),
  ];
}

/** Problems of the moves table against the committed stacks: malformed entries, and entries whose new place no stack declares. */
export function movesTableProblems(moves: readonly Move[], declared: ReadonlySet<string>): string[] {
  return [
    ...moveProblems(moves),
    ...moves
      .filter((m) => !declared.has(m.to))
      .map((m) => `infra/moves.ts: expected a resource at "${m.to}" (the entry from "${m.from}"); no committed stack declares one`),
  ];
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { stack: { type: "string" }, write: { type: "boolean" } }, strict: true });
  const stacks = values.stack ? [values.stack] : knownStacks();
  for (const stack of stacks) {
    const identity = await stackIdentity(stack);
    if (values.write) {
      fs.mkdirSync(IDENTITY_DIR, { recursive: true });
      fs.writeFileSync(identityFile(stack), `${JSON.stringify(identity.identity, null, 2)}\n`);
      console.log(
        `identity: stack ${stack}: ${Object.keys(identity.identity).length} resources, wrote ${path.relative(process.cwd(), identityFile(stack))}`,
      );
    } else {
      const recorded = readIdentity(stack) ?? {};
      const changes = identityChanges(recorded, identity);
      console.log(
        `identity: stack ${stack}: ${Object.keys(identity.identity).length} resources; ${changes.gone.length} gone, ` +
          `${changes.added.length} new, ${changes.changed.length} changed, ${changes.moved.length} moved by infra/moves.ts`,
      );
      for (const { from, to } of changes.moved) console.log(`  moved ${from} -> ${to}`);
      for (const line of identityReport(changes)) console.log(`  ${line}`);
    }
  }
  return 0;
}

runIfMain(module, main);
