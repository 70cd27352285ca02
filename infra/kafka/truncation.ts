/**
 * Config changes that delete records already written: a shorter retention, a smaller size bound,
 * a cleanup policy that starts deleting or compacting, compaction that comes sooner or keeps
 * tombstones less long, consumer offsets that expire sooner. Kafka
 * applies them live and deletes at its next log cleanup; no restart, no warning. Each needs its
 * own confirmation (`streamforge:retire.truncate`) naming the exact new value, which a reviewer
 * sees in the diff. Defaults are Kafka 4.2's (kafka-server-common ServerLogConfigs:
 * log.retention.hours 168, log.retention.bytes -1, log.cleanup.policy "delete"; kafka-storage
 * LogConfig: delete.retention.ms 86400000, min.compaction.lag.ms 0, max.compaction.lag.ms
 * Long.MAX_VALUE, min.cleanable.dirty.ratio 0.5, which the brokers' log.cleaner.* keys set for
 * topics without their own;
 * kafka-group-coordinator GroupCoordinatorConfig: offsets.retention.minutes 10080). Segment sizes and
 * times (segment.*) are not asked about: retention deletes whole closed segments, so smaller ones
 * only let it act at a finer grain, on records already past the retention (or, compacted,
 * already superseded) that a larger active segment held back. Pure functions.
 */
import { type ConfigProblem, problem } from "../kit/config-kit";
import type { RetireConfig } from "./config";

type Config = Readonly<Record<string, unknown>>;

/** What a confirmation holds for a key the change removes (its default applies again). */
export const UNSET = "default";

/** A measure of how much a config keeps, over the keys that set it. */
interface Measure {
  readonly keys: readonly string[];
  readonly what: string;
  /**
   * True when `now` keeps less than `was`: records (or offsets) already written are deleted.
   * `inherited` is what a topic without its own value follows (the brokers' config), before and after.
   */
  deletes(was: Config, now: Config, inherited: { readonly was: Config; readonly now: Config }): boolean;
  readonly effect: string;
}

const number = (v: unknown): number | undefined => (v === undefined || v === null || v === "" ? undefined : Number(v));
/** -1 (Kafka's "unlimited") as infinity, so that "smaller" reads naturally. */
const bound = (v: number): number => (v < 0 ? Infinity : v);
/** `now` keeps less than `was`; a value that is not a number is taken to (it cannot be judged, so it is asked about). */
const shrinks = (was: number, now: number): boolean => !Object.is(was, now) && (Number.isNaN(was) || Number.isNaN(now) || now < was);
/** Kafka reads booleans without regard to case (ConfigDef.parseType: "TRUE" is true). */
const enabled = (v: unknown): boolean => String(v).trim().toLowerCase() === "true";

/** The brokers' retention in ms: log.retention.ms, else .minutes, else .hours (168), as LogConfig reads them. */
function brokerRetentionMs(c: Config): number {
  const ms = number(c["log.retention.ms"]);
  if (ms !== undefined) return ms;
  const minutes = number(c["log.retention.minutes"]);
  if (minutes !== undefined) return minutes * 60_000;
  return (number(c["log.retention.hours"]) ?? 168) * 3_600_000;
}

const policies = (v: unknown): Set<string> =>
  new Set(
    String(v)
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
  );
/** The new policy adds one the old did not apply: "delete" starts retention, "compact" drops superseded records. */
const policyAdded = (was: unknown, now: unknown): boolean => [...policies(now)].some((p) => !policies(was).has(p));

/** The effective cleanup policy of a topic config, given the brokers' it follows. */
const cleanupPolicy = (c: Config, from: Config): unknown => c["cleanup.policy"] ?? from["log.cleanup.policy"] ?? "delete";

/**
 * A compaction setting that keeps less on a topic that compacts (after the change): `key` on the
 * topic, `brokerKey` the brokers' default it follows, `unset` Kafka's default (LogConfig).
 */
function compactionMeasure(key: string, brokerKey: string, unset: number, what: string, effect: string): Measure {
  return {
    keys: [key],
    what,
    deletes: (was, now, inherited) => {
      if (!policies(cleanupPolicy(now, inherited.now)).has("compact")) return false;
      const of = (c: Config, from: Config) => bound(number(c[key]) ?? number(from[brokerKey]) ?? unset);
      return shrinks(of(was, inherited.was), of(now, inherited.now));
    },
    effect,
  };
}

const COMPACTION = [
  {
    key: "min.compaction.lag.ms",
    brokerKey: "log.cleaner.min.compaction.lag.ms",
    unset: 0,
    what: "minimum compaction lag",
    effect: "records superseded by a later one of their key are compacted away sooner: readers behind by less than the old lag lose them",
  },
  {
    key: "max.compaction.lag.ms",
    brokerKey: "log.cleaner.max.compaction.lag.ms",
    unset: -1, // Long.MAX_VALUE: never forced.
    what: "maximum compaction lag",
    effect: "compaction is forced sooner: superseded records are deleted earlier than before",
  },
  {
    key: "min.cleanable.dirty.ratio",
    brokerKey: "log.cleaner.min.cleanable.ratio",
    unset: 0.5,
    what: "cleanable ratio",
    effect: "compaction runs on a smaller share of superseded records: they are deleted sooner",
  },
  {
    key: "delete.retention.ms",
    brokerKey: "log.cleaner.delete.retention.ms",
    unset: 86_400_000,
    what: "tombstone retention",
    effect: "deletion markers are removed sooner: a reader behind by more than it misses the deletes and keeps the deleted keys",
  },
] as const;

/** A topic's own keys; `inherited` is the brokers' config (kafka.config), which a topic without its own value follows. */
const TOPIC_MEASURES: readonly Measure[] = [
  {
    keys: ["retention.ms"],
    what: "retention time",
    deletes: (was, now, inherited) =>
      shrinks(
        bound(number(was["retention.ms"]) ?? brokerRetentionMs(inherited.was)),
        bound(number(now["retention.ms"]) ?? brokerRetentionMs(inherited.now)),
      ),
    effect: "records older than the new retention are deleted at the next log cleanup",
  },
  {
    keys: ["retention.bytes"],
    what: "retention size",
    deletes: (was, now, inherited) => {
      const of = (c: Config, from: Config) => bound(number(c["retention.bytes"]) ?? number(from["log.retention.bytes"]) ?? -1);
      return shrinks(of(was, inherited.was), of(now, inherited.now));
    },
    effect: "the oldest segments beyond the new size are deleted at the next log cleanup",
  },
  {
    keys: ["cleanup.policy"],
    what: "cleanup policy",
    deletes: (was, now, inherited) => {
      return policyAdded(cleanupPolicy(was, inherited.was), cleanupPolicy(now, inherited.now));
    },
    effect: "compaction deletes every record superseded by a later one of its key; delete starts removing records past retention",
  },
  {
    keys: ["unclean.leader.election.enable"],
    what: "unclean leader election",
    deletes: (was, now, inherited) => {
      const of = (c: Config, from: Config) =>
        enabled(c["unclean.leader.election.enable"] ?? from["unclean.leader.election.enable"] ?? false);
      return of(now, inherited.now) && !of(was, inherited.was);
    },
    effect: "a replica out of the ISR may become leader: records the old leader had committed are truncated",
  },
  ...COMPACTION.map((m) => compactionMeasure(m.key, m.brokerKey, m.unset, m.what, m.effect)),
];

const BROKER_MEASURES: readonly Measure[] = [
  {
    keys: ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
    what: "default retention time",
    deletes: (was, now) => shrinks(bound(brokerRetentionMs(was)), bound(brokerRetentionMs(now))),
    effect: "records older than it are deleted from every topic without its own retention.ms",
  },
  {
    keys: ["log.retention.bytes"],
    what: "default retention size",
    deletes: (was, now) => shrinks(bound(number(was["log.retention.bytes"]) ?? -1), bound(number(now["log.retention.bytes"]) ?? -1)),
    effect: "the oldest segments beyond it are deleted from every topic without its own retention.bytes",
  },
  {
    keys: ["log.cleanup.policy"],
    what: "default cleanup policy",
    deletes: (was, now) => policyAdded(was["log.cleanup.policy"] ?? "delete", now["log.cleanup.policy"] ?? "delete"),
    effect: "every topic without its own cleanup.policy starts compacting or deleting",
  },
  {
    keys: ["offsets.retention.minutes"],
    what: "consumer offsets retention",
    deletes: (was, now) => shrinks(number(was["offsets.retention.minutes"]) ?? 10080, number(now["offsets.retention.minutes"]) ?? 10080),
    effect: "committed offsets of groups idle longer than it are deleted: those consumers restart from auto.offset.reset",
  },
  {
    keys: ["unclean.leader.election.enable"],
    what: "default unclean leader election",
    deletes: (was, now) =>
      enabled(now["unclean.leader.election.enable"] ?? false) && !enabled(was["unclean.leader.election.enable"] ?? false),
    effect: "in every topic without its own value a replica out of the ISR may become leader: committed records are truncated",
  },
  // The brokers' compaction defaults: asked about whether or not a topic compacts today
  // (__consumer_offsets and __transaction_state do, and a topic may start to).
  ...COMPACTION.map((m): Measure => ({
    keys: [m.brokerKey],
    what: `default ${m.what}`,
    deletes: (was, now) => shrinks(bound(number(was[m.brokerKey]) ?? m.unset), bound(number(now[m.brokerKey]) ?? m.unset)),
    effect: `in every compacted topic without its own ${m.key}: ${m.effect}`,
  })),
];

/** One change that deletes records: its keys' new values, as the confirmation must name them. */
export interface Truncation {
  readonly what: string;
  readonly effect: string;
  /** Each changed key of the measure and its new value (UNSET where removed). */
  readonly changed: Readonly<Record<string, string>>;
}

const shown = (v: unknown): string => (v === undefined ? UNSET : typeof v === "string" ? v : JSON.stringify(v));

function truncations(
  measures: readonly Measure[],
  was: Config,
  now: Config,
  inherited: { readonly was: Config; readonly now: Config },
): Truncation[] {
  return measures
    .filter((m) => m.deletes(was, now, inherited))
    .map((m) => ({
      what: m.what,
      effect: m.effect,
      changed: Object.fromEntries(m.keys.filter((k) => shown(was[k]) !== shown(now[k])).map((k) => [k, shown(now[k])])),
    }));
}

/** What a topic's config change deletes, given the brokers' config it inherits from, before and after. */
export function topicTruncations(was: Config, now: Config, brokerConfig: { readonly was: Config; readonly now: Config }): Truncation[] {
  return truncations(TOPIC_MEASURES, was, now, brokerConfig);
}

/** What a change of the brokers' config (the Kafka CR's spec.kafka.config) deletes. */
export function brokerTruncations(was: Config, now: Config): Truncation[] {
  return truncations(BROKER_MEASURES, was, now, { was: {}, now: {} });
}

const values = (changed: Readonly<Record<string, string>>) =>
  Object.entries(changed)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");

/**
 * The changes whose confirmation is missing or names another value; and, where the subject is
 * live (`judged`), every confirmation no pending change needs: applied, it would let the same
 * value through again after a drift or a later change back, unreviewed.
 */
function confirmationProblems(
  found: Truncation[],
  confirmed: Readonly<Record<string, string | number>>,
  desired: Config,
  at: (key: string, message: string) => ConfigProblem,
  confirmKey: string,
  subject: string,
  judged: boolean,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const t of found)
    for (const [key, value] of Object.entries(t.changed))
      if (confirmed[key] === undefined || String(confirmed[key]) !== value)
        problems.push(
          at(
            key,
            `expected a confirmation for ${subject} ${t.what} (${values(t.changed)}): ${t.effect}. ` +
              `To go ahead, set ${confirmKey}["${key}"] to ${JSON.stringify(value)} in the same change; found ` +
              (confirmed[key] === undefined ? "none" : `${JSON.stringify(confirmed[key])}`),
          ),
        );
  for (const [key, value] of Object.entries(confirmed))
    if (judged && !found.some((t) => t.changed[key] !== undefined))
      problems.push(
        at(
          key,
          `expected ${confirmKey}["${key}"] (${JSON.stringify(value)}) to confirm a pending change that deletes records; found none (${subject} ${key} is ${shown(desired[key])} in the cluster and the config). ` +
            `A confirmation is for one change: remove it once applied`,
        ),
      );
  return problems;
}

/**
 * Every change of a live topic's or the brokers' config that deletes records, unless
 * `streamforge:retire.truncate` names its new value; and every stale confirmation.
 */
export function truncationProblems(
  live: {
    readonly brokerConfig?: Config;
    readonly topics: readonly { readonly name: string; readonly config: Config }[];
  },
  desired: {
    readonly brokerConfig: Config;
    readonly topics: readonly { readonly name: string; readonly config: Config }[];
  },
  retire: RetireConfig,
): ConfigProblem[] {
  const { topics: confirmedTopics, brokers: confirmedBrokers } = retire.truncate;
  const problems: ConfigProblem[] = [];
  const found = live.brokerConfig ? brokerTruncations(live.brokerConfig, desired.brokerConfig) : [];
  problems.push(
    ...confirmationProblems(
      found,
      confirmedBrokers,
      desired.brokerConfig,
      (key, message) => problem("kafka", ["config", key], message),
      "streamforge:retire.truncate.brokers",
      "the brokers'",
      live.brokerConfig !== undefined,
    ),
  );
  const liveTopics = new Map(live.topics.map((t) => [t.name, t]));
  for (const { name, config } of desired.topics) {
    const was = liveTopics.get(name);
    const inherited = { was: live.brokerConfig ?? desired.brokerConfig, now: desired.brokerConfig };
    const changes = was ? topicTruncations(was.config, config, inherited) : [];
    problems.push(
      ...confirmationProblems(
        changes,
        confirmedTopics[name] ?? {},
        config,
        (key, message) => problem("catalogue", ["topics", name, "config", key], message),
        `streamforge:retire.truncate.topics.${name}`,
        `topic "${name}"'s`,
        was !== undefined,
      ),
    );
  }
  const declared = new Set(desired.topics.map((t) => t.name));
  for (const name of Object.keys(confirmedTopics))
    if (!declared.has(name))
      problems.push(
        problem(
          "retire",
          ["truncate", "topics", name],
          `expected a topic of the catalogue; found "${name}", which the catalogue does not declare. A confirmation is for one change: remove it`,
        ),
      );
  return problems;
}
