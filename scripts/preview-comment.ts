/**
 * The pull-request preview's pure half: what two offline renders of a stack differ in, the policy
 * violations of a `pulumi preview` event log, and the one Markdown comment that shows them.
 * No I/O here: scripts/preview.ts checks the refs out, renders, runs Pulumi and writes the file.
 */
import { type ReportedImpact, parseImpactReport } from "../infra/kafka/impact";
import { yamlDocuments } from "../infra/kit/yaml-documents";

/** One thing a render declares, named the way reviewers look for it. */
export interface RenderedItem {
  /** `apiVersion kind namespace/name` for Kubernetes objects; `helm.sh/v3 Release ns/name`; `<type> <name>` for Kafka admin-API resources. */
  readonly id: string;
  readonly body: unknown;
}

export interface FieldChange {
  /** `spec.template.spec.containers[queue-manager].image`; list items with a unique `name` are addressed by it. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface ChangedItem {
  readonly id: string;
  readonly fields: FieldChange[];
}

export interface RenderDiff {
  readonly added: RenderedItem[];
  readonly removed: RenderedItem[];
  readonly changed: ChangedItem[];
  readonly unchanged: number;
}

/** Shown instead of any value under a Secret's `data` or `stringData`. */
export const SECRET_SHOWN = "[secret]";
export const SECRET_CHANGED_SHOWN = "[secret, changed]";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown, otherwise: string): string => (typeof v === "string" ? v : otherwise);

/** `apiVersion kind namespace/name` (cluster-scoped objects: `apiVersion kind name`). */
export function objectId(obj: unknown): string {
  const o = isRec(obj) ? obj : {};
  const meta = isRec(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "?";
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? `${meta.namespace}/` : "";
  return `${str(o.apiVersion, "?")} ${str(o.kind, "?")} ${ns}${name}`;
}

/** The files `npm run render` writes (missing ones as undefined), as items keyed by id. */
export function parseRender(files: { manifests?: string; helmReleases?: string; kafkaApi?: string }): RenderedItem[] {
  const items: RenderedItem[] = [];
  for (const obj of yamlDocuments(files.manifests ?? "", "manifests.yaml")) items.push({ id: objectId(obj), body: obj });
  for (const list of yamlDocuments(files.helmReleases ?? "", "helm-releases.yaml")) {
    for (const r of Array.isArray(list) ? list : []) {
      const rel = isRec(r) ? r : {};
      items.push({ id: `helm.sh/v3 Release ${str(rel.namespace, "?")}/${str(rel.name, "?")}`, body: rel });
    }
  }
  for (const list of yamlDocuments(files.kafkaApi ?? "", "kafka-api.yaml")) {
    for (const r of Array.isArray(list) ? list : []) {
      const res = isRec(r) ? r : {};
      items.push({ id: `${str(res.type, "?")} ${str(res.name, "?")}`, body: res });
    }
  }
  return items;
}

function isSecretObject(body: unknown): boolean {
  return isRec(body) && body.kind === "Secret" && typeof body.apiVersion === "string" && body.apiVersion === "v1";
}

/**
 * A Secret with every `data`/`stringData` value replaced; `changedFrom` (the other side's Secret)
 * marks the keys whose value differs, so a rotation shows without showing the value.
 */
export function redactSecret(body: unknown, changedFrom?: unknown): unknown {
  if (!isSecretObject(body)) return body;
  const out: Rec = { ...(body as Rec) };
  for (const field of ["data", "stringData"]) {
    const values = out[field];
    if (!isRec(values)) continue;
    const other = isRec(changedFrom) && isRec(changedFrom[field]) ? changedFrom[field] : undefined;
    out[field] = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, other && k in other && other[k] !== v ? SECRET_CHANGED_SHOWN : SECRET_SHOWN]),
    );
  }
  return out;
}

/** Lists whose items are objects with distinct string `name`s are keyed by name (containers, ports, env). */
function listKeys(list: unknown[]): string[] | undefined {
  const names = list.map((i) => (isRec(i) && typeof i.name === "string" ? i.name : undefined));
  if (names.some((n) => n === undefined) || new Set(names).size !== names.length) return undefined;
  return names as string[];
}

/** Field-level differences between two JSON-like values, leaves only. */
export function diffFields(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (isRec(before) && isRec(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path === "" ? k : `${path}.${k}`;
      if (!(k in after)) return [{ path: p, before: before[k] }];
      if (!(k in before)) return [{ path: p, after: after[k] }];
      return diffFields(before[k], after[k], p);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const bk = listKeys(before);
    const ak = listKeys(after);
    if (bk && ak) {
      const byName = (list: unknown[], keys: string[]) => new Map(keys.map((k, i) => [k, list[i]]));
      const bm = byName(before, bk);
      const am = byName(after, ak);
      const names = [...bk, ...ak.filter((n) => !bm.has(n))];
      return names.flatMap((n) => {
        const p = `${path}[${n}]`;
        if (!am.has(n)) return [{ path: p, before: bm.get(n) }];
        if (!bm.has(n)) return [{ path: p, after: am.get(n) }];
        return diffFields(bm.get(n), am.get(n), p);
      });
    }
    const n = Math.max(before.length, after.length);
    const out: FieldChange[] = [];
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= after.length) out.push({ path: p, before: before[i] });
      else if (i >= before.length) out.push({ path: p, after: after[i] });
      else out.push(...diffFields(before[i], after[i], p));
    }
    return out;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

/** Added, removed and changed items between two renders; Secret values never reach the result. */
export function diffRenders(base: readonly RenderedItem[], head: readonly RenderedItem[]): RenderDiff {
  const baseById = new Map(base.map((i) => [i.id, i]));
  const headById = new Map(head.map((i) => [i.id, i]));
  const added = head.filter((i) => !baseById.has(i.id)).map((i) => ({ id: i.id, body: redactSecret(i.body) }));
  const removed = base.filter((i) => !headById.has(i.id)).map((i) => ({ id: i.id, body: redactSecret(i.body) }));
  const changed: ChangedItem[] = [];
  let unchanged = 0;
  for (const h of head) {
    const b = baseById.get(h.id);
    if (!b) continue;
    const fields = diffFields(redactSecret(b.body), redactSecret(h.body, b.body));
    if (fields.length === 0) unchanged++;
    else changed.push({ id: h.id, fields });
  }
  return { added, removed, changed, unchanged };
}

export interface PolicyViolation {
  readonly level: string;
  readonly rule: string;
  readonly pack: string;
  /** `<type> <name>` from the URN, or "stack" for stack-level policies. */
  readonly resource: string;
  readonly message: string;
}

export interface EventLog {
  readonly violations: PolicyViolation[];
  /** How many resources a policy pack analyzed: 0 means no pack ran. */
  readonly analyzed: number;
  /** What the changes do to the running Kafka cluster, as the program reported it (infra/kafka/impact.ts); absent when it did not (no live cluster read, or the program failed first). */
  readonly kafkaImpact?: ReportedImpact[];
}

/** Pulumi's colour directives (`<{%fg 3%}>`), which a diagnostic's raw message may carry. */
const COLOR_DIRECTIVE = /<\{%[^%]*%\}>/g;

/**
 * Policy violations and the Kafka impact report from a `pulumi preview --event-log` file (JSON
 * lines of engine events; a diagnostic's fields: pulumi sdk/v3 go/common/apitype/events.go DiagnosticEvent).
 */
export function parseEventLog(eventLog: string): EventLog {
  const violations: PolicyViolation[] = [];
  let analyzed = 0;
  let kafkaImpact: ReportedImpact[] | undefined;
  for (const line of eventLog.split("\n")) {
    if (line.trim() === "") continue;
    const event = JSON.parse(line) as { policyEvent?: Rec; policyAnalyzeSummaryEvent?: Rec; diagnosticEvent?: Rec };
    if (event.policyAnalyzeSummaryEvent) analyzed++;
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && typeof diagnostic.message === "string")
      kafkaImpact = parseImpactReport(stripAnsi(diagnostic.message).replace(COLOR_DIRECTIVE, "")) ?? kafkaImpact;
    const p = event.policyEvent;
    if (!p) continue;
    violations.push({
      level: str(p.enforcementLevel, ""),
      rule: str(p.policyName, ""),
      pack: str(p.policyPackName, ""),
      resource: typeof p.resourceUrn === "string" && p.resourceUrn !== "" ? urnResource(p.resourceUrn) : "stack",
      message: str(p.message, "").trim(),
    });
  }
  return { violations, analyzed, ...(kafkaImpact ? { kafkaImpact } : {}) };
}

/** `urn:pulumi:<stack>::<project>::<parent$>type::name` -> `type name`. */
export function urnResource(urn: string): string {
  const parts = urn.split("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  return `${type} ${parts.slice(3).join("::")}`.trim();
}

export interface PulumiPreview {
  /** The CLI's exit status. */
  readonly status: number | null;
  /** `pulumi preview --diff` output, colour off. */
  readonly output: string;
  readonly violations: PolicyViolation[];
  /** Whether `--policy-pack` was given (the head has a pack). */
  readonly policyPack: boolean;
  /** Resources the pack analyzed (0: it did not run, e.g. it failed to start). */
  readonly analyzed: number;
  /** The program's Kafka impact report, when it made one. */
  readonly kafkaImpact?: ReportedImpact[];
}

export interface CommentInput {
  readonly stack: string;
  readonly base: { readonly ref: string; readonly sha: string };
  readonly head: { readonly ref: string; readonly sha: string };
  /** The tree of head merged into base, which the render and the preview read (scripts/preview.ts `mergeResult`). */
  readonly mergedTree?: string;
  /** Set when the base's policy pack judged the preview (--policy-from base); the head's otherwise. */
  readonly policyFrom?: {
    readonly ref: string;
    readonly sha: string;
    /** The @pulumi/policy the pack ran with, installed from the base's own policy/package-lock.json; unset where the base has none. */
    readonly lockedPolicy?: string;
  };
  /** The operator image both sides ran with (--operator-image), and whether merging changes operator/. */
  readonly operatorImage?: { readonly ref: string; readonly rebuilt: boolean };
  readonly diff: RenderDiff;
  /** Set when the stack's file does not exist at base (everything is added). */
  readonly newStack?: boolean;
  /** Absent with --render-only. */
  readonly preview?: PulumiPreview;
}

/** The comment's first line: a workflow finds and edits the same comment by it. */
export const marker = (stack: string): string => `<!-- streamforge-preview:${stack} -->`;

const MAX_PREVIEW_CHARS = 30_000;
const MAX_FIELDS_PER_OBJECT = 40;
const MAX_VALUE_CHARS = 200;
/** GitHub refuses comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_000;

function shownValue(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v ?? null);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s;
}

/** `- path: before` / `+ path: after` lines, as a ```diff block would show them. */
export function fieldLines(fields: readonly FieldChange[]): string[] {
  const lines: string[] = [];
  for (const f of fields.slice(0, MAX_FIELDS_PER_OBJECT)) {
    if ("before" in f) lines.push(`- ${f.path}: ${shownValue(f.before)}`);
    if ("after" in f) lines.push(`+ ${f.path}: ${shownValue(f.after)}`);
  }
  if (fields.length > MAX_FIELDS_PER_OBJECT) lines.push(`# … ${fields.length - MAX_FIELDS_PER_OBJECT} more fields`);
  return lines;
}

/** Keeps the end of long output (where Pulumi puts the summary), saying how much was cut. */
export function tail(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  return `… (${text.length - max} earlier characters cut)\n${cut.slice(cut.indexOf("\n") + 1)}`;
}

/** A resource step's headline in `pulumi preview --diff` output (`+ type: (create)`) and the URN line after it. */
const STEP_LINE =
  /^\s*[-+~<>=]+\s+\S+: \((?:create|update|delete|replace|create-replacement|delete-replaced|read|refresh|import|same|discard)[^)]*\)\s*$/;
const URN_LINE = /^\s*\[urn=\S+\]\s*$/;

/**
 * Long `pulumi preview --diff` output made to fit: first every resource's property detail goes
 * (each step's headline and URN stay, so a reviewer still sees every create, update and delete),
 * then, if that is still too long, the start (the summary and policy table are at the end).
 */
export function condensePreview(text: string, max: number): string {
  if (text.length <= max) return text;
  const lines = text.split("\n");
  // The engine's closing part (policy table, "Resources:" summary) starts at the first line
  // at the left margin after the last step.
  let lastStep = -1;
  lines.forEach((l, i) => {
    if (STEP_LINE.test(l)) lastStep = i;
  });
  let closing = lines.length;
  for (let i = lastStep + 1; i < lines.length; i++)
    if (/^\S/.test(lines[i]!) && !URN_LINE.test(lines[i]!)) {
      closing = i;
      break;
    }
  const kept = lines.filter((l, i) => i >= closing || STEP_LINE.test(l) || URN_LINE.test(l) || /^\S/.test(l));
  const condensed = `(property details left out: ${text.length} characters in all)\n${kept.join("\n")}`;
  return tail(condensed, max);
}

/** ANSI colour codes, in case a CLI ignores `--color never`. */
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
export const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, "");

function fence(text: string, lang = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text.replace(/\n+$/, "")}\n${ticks}`;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");

/** The Resources summary Pulumi prints at the end (`+ 1 to create`, `~ 2 to update`, ...). */
export function previewSummary(output: string): string[] {
  const lines = stripAnsi(output).split("\n");
  const at = lines.findIndex((l) => /^Resources:\s*$/.test(l));
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (l.trim() === "") break;
    out.push(l.trim());
  }
  return out;
}

export function countByLevel(violations: readonly PolicyViolation[]): { mandatory: number; advisory: number; other: number } {
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  const advisory = violations.filter((v) => v.level === "advisory").length;
  return { mandatory, advisory, other: violations.length - mandatory - advisory };
}

const IMPACT_MARK: Readonly<Record<ReportedImpact["level"], string>> = { destructive: "⛔", disruptive: "⚠️", benign: "" };

/** The Kafka impact: destructive and disruptive changes listed, the others folded. */
export function impactSection(impacts: readonly ReportedImpact[]): string[] {
  const alarming = impacts.filter((i) => i.level !== "benign");
  const benign = impacts.filter((i) => i.level === "benign");
  const count = (level: ReportedImpact["level"]) => impacts.filter((i) => i.level === level).length;
  const out = ["### What this does to the running Kafka cluster", ""];
  if (impacts.length === 0) return [...out, "No change to the Kafka cluster, its pools, topics or users.", ""];
  out.push(
    `${alarming.length > 0 ? "⚠️ " : ""}**${count("destructive")} destructive, ${count("disruptive")} disruptive**, ${benign.length} without effect on clients.`,
    "",
  );
  for (const i of alarming) out.push(`- ${IMPACT_MARK[i.level]} **${i.level}**: ${i.text}`);
  if (alarming.length > 0) out.push("");
  if (benign.length > 0)
    out.push(
      `<details><summary>${benign.length} without effect on clients</summary>`,
      "",
      ...benign.map((i) => `- ${i.text}`),
      "",
      "</details>",
      "",
    );
  return out;
}

/** The whole comment body. */
export function renderComment(input: CommentInput): string {
  const { stack, base, head, diff, preview } = input;
  const short = (sha: string) => sha.slice(0, 7);
  const out: string[] = [marker(stack), `## Preview of stack \`${stack}\``, ""];
  out.push(
    `Base \`${base.ref}\` (${short(base.sha)}) → head \`${head.ref}\` (${short(head.sha)})` +
      (input.mergedTree ? ` merged into the base (tree ${short(input.mergedTree)}), as the pull request's merge commit holds it.` : "."),
    "",
  );

  // What the change does to the running cluster comes first: the destructive and disruptive
  // changes are what a reviewer must not miss (impact.ts sorts them first).
  if (preview?.kafkaImpact) out.push(...impactSection(preview.kafkaImpact));

  // Summary
  const renderLine =
    `**Render:** ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ` +
    `${diff.unchanged} unchanged${input.newStack ? ` (the stack is new: no Pulumi.${stack}.yaml at base)` : ""}.`;
  out.push(`- ${renderLine}`);
  if (input.operatorImage)
    out.push(
      `- **Operator image:** the one the stack runs, \`${input.operatorImage.ref}\`` +
        (input.operatorImage.rebuilt ? "; this pull request changes `operator/`, so the deploy builds a new one." : "."),
    );
  if (preview) {
    const c = countByLevel(preview.violations);
    const packAt = input.policyFrom
      ? `the base's pack, \`${input.policyFrom.ref}\` (${short(input.policyFrom.sha)})` +
        (input.policyFrom.lockedPolicy
          ? `, with its own locked @pulumi/policy ${input.policyFrom.lockedPolicy}`
          : ", with the pull request's modules: the base has no policy/package-lock.json")
      : "the head's pack";
    const policy = !preview.policyPack
      ? `not run (no policy/PulumiPolicy.yaml in ${packAt})`
      : preview.analyzed === 0
        ? "❌ the policy pack did not run (see the preview output)"
        : `${c.mandatory > 0 ? "❌" : "✅"} ${c.mandatory} mandatory, ${c.advisory} advisory` +
          (c.other > 0 ? `, ${c.other} other` : "") +
          ` (${preview.analyzed} resources checked by ${packAt})`;
    out.push(`- **Policy:** ${policy}.`);
    const summary = previewSummary(preview.output);
    const status = preview.status === 0 ? "succeeded" : `failed (exit ${String(preview.status)})`;
    out.push(`- **Pulumi preview:** ${status}${summary.length > 0 ? `: ${summary.join(", ")}` : ""}.`);
  } else {
    out.push("- **Policy and Pulumi preview:** not run here (render only).");
  }
  out.push("");

  if (preview) {
    out.push("### Policy violations", "");
    if (!preview.policyPack) out.push(`No policy pack in ${input.policyFrom ? "the base" : "the head"}.`, "");
    else if (preview.analyzed === 0) out.push("The policy pack did not run: see the Pulumi preview output.", "");
    else if (preview.violations.length === 0) out.push("None.", "");
    else {
      const order = (l: string) => (l === "mandatory" ? 0 : l === "advisory" ? 1 : 2);
      const sorted = [...preview.violations].sort((a, b) => order(a.level) - order(b.level) || a.rule.localeCompare(b.rule));
      out.push("| Level | Rule | Resource | Message |", "| --- | --- | --- | --- |");
      for (const v of sorted) out.push(`| ${v.level} | \`${v.rule}\` | \`${cell(v.resource)}\` | ${cell(v.message)} |`);
      out.push("");
    }
    out.push("### Pulumi preview", "");
    const pack = input.policyFrom ? "../base/policy" : "policy";
    out.push(`<details><summary><code>pulumi preview --diff --policy-pack ${pack}</code></summary>`, "");
    out.push(fence(condensePreview(stripAnsi(preview.output), MAX_PREVIEW_CHARS), "diff"), "", "</details>", "");
  }

  out.push("### Render diff", "");
  if (diff.added.length + diff.removed.length + diff.changed.length === 0) out.push("No differences in what the stack declares.", "");
  if (diff.added.length > 0) {
    out.push("**Added**", "", ...diff.added.map((i) => `- \`${i.id}\``), "");
  }
  if (diff.removed.length > 0) {
    out.push("**Removed**", "", ...diff.removed.map((i) => `- \`${i.id}\``), "");
  }
  if (diff.changed.length > 0) {
    out.push("**Changed**", "");
    for (const c of diff.changed) {
      out.push(`- \`${c.id}\``, "", fence(fieldLines(c.fields).join("\n"), "diff"), "");
    }
  }
  let body = `${out.join("\n").replace(/\n+$/, "")}\n`;
  if (body.length > MAX_COMMENT_CHARS) {
    body = `${body.slice(0, MAX_COMMENT_CHARS - 200)}\n\n… (comment cut at ${MAX_COMMENT_CHARS} characters; run \`npm run preview\` locally for all of it)\n`;
  }
  return body;
}
