/**
 * Moves and renames that keep the object. Pulumi knows a resource by its URN: the stack, the
 * project, the types of its parent chain and its name. A refactor that gives a resource another
 * parent or another name changes its URN, and the engine would delete the old object and create a
 * new one (for a protected KafkaTopic or Namespace: the preview fails; unprotected: data lost).
 * A recorded move tells the engine the old URN is the same object: each entry adds the old URN to
 * the new resource's `aliases` through one stack transform, and the engine carries the state over.
 *
 * Entries name a resource by its URN without the stack and project (`<type chain>::<name>`, as
 * `npm run identity` prints it), so one entry serves every stack. The engine does the rest, as it
 * does for any alias (pulumi/pulumi pkg/resource/deploy/step_generator.go at v3.276.0, the pinned
 * CLI, which test/integration/moves.itest.ts runs):
 *   - `getOldResource` (lines 721-779) looks up the resource's own URN first, then each alias;
 *   - `generateAliases` (674-706) gives the children of a resource found through an alias the
 *     parent's old type chain, and `inheritedChildAlias` (643-672) swaps the parent's old name
 *     into a child name that starts with the new one: moving or renaming a component carries its
 *     children without entries of their own.
 * `oldUrnsMatched` below is that rule as a pure function, which the identity check uses.
 */
import * as pulumi from "@pulumi/pulumi";

/** One recorded move: the resource once known as `from` is now `to`. */
export interface Move {
  /** Its old URN tail: `<type chain>::<name>`. */
  readonly from: string;
  /** Its URN tail now. */
  readonly to: string;
}

/** The root stack resource's type: the engine leaves it out of its children's type chains. */
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** A URN's parts (`urn:pulumi:<stack>::<project>::<type chain>::<name>`). */
export function parseUrn(urn: string): { stack: string; project: string; typeChain: string; name: string } {
  const m = /^urn:pulumi:([^:]+)::([^:]+)::([^:]+(?::[^:]+)*)::(.+)$/.exec(urn);
  if (!m) throw new Error(`expected a Pulumi URN (urn:pulumi:<stack>::<project>::<type chain>::<name>); found "${urn}"`);
  return { stack: m[1]!, project: m[2]!, typeChain: m[3]!, name: m[4]! };
}

/** A URN without its stack and project: what a move names. */
export function urnTail(urn: string): string {
  const { typeChain, name } = parseUrn(urn);
  return `${typeChain}::${name}`;
}

export function fullUrn(stack: string, project: string, tail: string): string {
  return `urn:pulumi:${stack}::${project}::${tail}`;
}

/** The engine's URN of a resource: its parent's type chain (none under the root stack), `$`, its type. */
export function childUrn(stack: string, project: string, parent: string | undefined, type: string, name: string): string {
  const parentChain = parent ? parseUrn(parent).typeChain : "";
  const chain = parentChain && parentChain !== ROOT_STACK_TYPE ? `${parentChain}$${type}` : type;
  return fullUrn(stack, project, `${chain}::${name}`);
}

// A type token is `pkg:module:Type` (module may hold `/` and `.`); a chain joins them with `$`.
const TYPE = String.raw`[A-Za-z0-9_.-]+:[A-Za-z0-9_./-]*:[A-Za-z0-9_.-]+`;
const TAIL = new RegExp(String.raw`^${TYPE}(?:\$${TYPE})*::\S.*$`);

/**
 * What is wrong with a table of moves, one message per problem, naming the entry. A move out of a
 * place another entry moves into is a chain: the stacks not yet updated still hold the first URN,
 * so the entry must say where it is now.
 */
export function moveProblems(moves: readonly Move[], where = "infra/moves.ts"): string[] {
  const problems: string[] = [];
  const tailForm = "<type chain>::<name>, as npm run identity prints it without urn:pulumi:<stack>::<project>::";
  moves.forEach((move, i) => {
    for (const key of ["from", "to"] as const) {
      const value: unknown = move[key];
      if (typeof value !== "string" || !TAIL.test(value))
        problems.push(`${where} entry ${i} .${key}: expected ${tailForm}; found ${JSON.stringify(value)}`);
    }
    if (move.from === move.to) problems.push(`${where} entry ${i}: expected .from and .to to differ; both are "${move.from}"`);
    const twice = moves.findIndex((m) => m.from === move.from);
    if (twice < i)
      problems.push(`${where} entry ${i} .from: "${move.from}" is already moved by entry ${twice}; one object has one new place`);
    const next = moves.findIndex((m, j) => j !== i && m.from === move.to);
    if (next >= 0)
      problems.push(
        `${where} entry ${i}: "${move.to}" moved again by entry ${next}; expected entry ${i} to go straight to "${moves[next]!.to}"`,
      );
  });
  return problems;
}

/** The old URNs a resource now at `urn` is recorded as, for its `aliases`. */
export function movedFrom(urn: string, moves: readonly Move[]): string[] {
  const { stack, project } = parseUrn(urn);
  const tail = urnTail(urn);
  return moves.filter((m) => m.to === tail).map((m) => fullUrn(stack, project, m.from));
}

/** One resource the program registers, in registration order (a parent before its children). */
export interface Registered {
  readonly urn: string;
  /** Its parent's URN; undefined at the top. */
  readonly parent?: string;
}

/**
 * Which old URN the engine finds each resource under, given the URNs of the last deployment, the
 * resources in registration order and the moves (step_generator.go, lines cited at the top): its
 * own URN first, then its recorded old URNs, then the ones inherited from a parent found under an
 * old URN. Returns new URN -> old URN for each resource found under a URN other than its own.
 */
export function oldUrnsMatched(olds: ReadonlySet<string>, registered: readonly Registered[], moves: readonly Move[]): Map<string, string> {
  const matched = new Map<string, string>();
  for (const res of registered) {
    const { stack, project, name } = parseUrn(res.urn);
    const own = movedFrom(res.urn, moves);
    const candidates = [res.urn, ...own];
    const parentOld = res.parent ? matched.get(res.parent) : undefined;
    if (res.parent && parentOld) {
      const parentName = parseUrn(res.parent).name;
      const oldParent = parseUrn(parentOld);
      const inherited = (type: string, childName: string): string =>
        childUrn(
          stack,
          project,
          parentOld,
          type,
          childName.startsWith(parentName) ? oldParent.name + childName.slice(parentName.length) : childName,
        );
      const lastType = (urn: string) => parseUrn(urn).typeChain.split("$").pop()!;
      candidates.push(inherited(lastType(res.urn), name), ...own.map((alias) => inherited(lastType(alias), parseUrn(alias).name)));
    }
    const found = candidates.find((urn) => olds.has(urn));
    if (found !== undefined && found !== res.urn) matched.set(res.urn, found);
  }
  return matched;
}

/** An Output's value (known in preview and up for the URNs read here). */
const valueOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/**
 * Gives every resource the program registers from now on the old URNs its recorded moves name, as
 * `aliases`, by a stack transform (Pulumi's `registerResourceTransform`, which the engine runs on
 * each registration before it looks the resource up). Call it first, before any resource. Throws
 * on a malformed table. With no moves nothing is registered: a transform costs a round trip per
 * resource.
 */
export function registerMoves(moves: readonly Move[]): void {
  const problems = moveProblems(moves);
  if (problems.length > 0) throw new Error(`The recorded moves are malformed:\n  ${problems.join("\n  ")}`);
  if (moves.length === 0) return;
  const targets = new Set(moves.map((m) => m.to));
  pulumi.runtime.registerResourceTransform(async ({ type, name, props, opts }) => {
    // Most resources are not moved: skip the parent look-up unless the name is one a move targets.
    if (![...targets].some((t) => t.endsWith(`::${name}`))) return undefined;
    // The engine hands the parent over by URN (@pulumi/pulumi 3.276.0 runtime/callbacks.js:220).
    const parent = opts.parent ? await valueOf(opts.parent.urn) : undefined;
    const urn = childUrn(pulumi.getStack(), pulumi.getProject(), parent, type, name);
    const aliases = movedFrom(urn, moves);
    // Returned aliases replace the resource's own (callbacks.js:251-262): keep those.
    return aliases.length === 0 ? undefined : { props, opts: { ...opts, aliases: [...(opts.aliases ?? []), ...aliases] } };
  });
}
