/**
 * Small PromQL helpers shared by the rules and the dashboards: label selectors and the metric
 * names an expression reads (for the cross-check against what the exporters really export).
 */

/** `{a="x", b=~"y"}` from equality matchers and `~`-prefixed regex matchers. */
export function selector(matchers: Readonly<Record<string, string>>): string {
  const parts = Object.entries(matchers).map(([label, value]) =>
    value.startsWith("~") ? `${label}=~"${value.slice(1)}"` : `${label}="${value}"`,
  );
  return `{${parts.join(", ")}}`;
}

/** A regular expression matching exactly one of `names`, each taken literally. */
export function anyOf(names: readonly string[]): string {
  return names.map(escapeRegex).join("|");
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Words of PromQL that are not metric names where they stand outside braces and strings. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
  "atan2",
]);

/**
 * The metric names a PromQL expression reads: strings, label matchers, range and grouping
 * clauses removed; what is left and is not a function call, keyword or number is a metric.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const start = m.index;
    const before = stripped[start - 1] ?? "";
    if (/[0-9.]/.test(before)) continue; // a duration or number suffix such as 5m, 1e3
    const after = stripped.slice(start + word.length);
    if (/^\s*(\(|(by|without)\b)/.test(after)) continue; // a function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}
