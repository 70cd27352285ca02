/**
 * The runbook's canary procedure as data, so the integration test runs the commands and checks
 * the claims docs/runbook.md actually holds (not a copy that could drift from it). Pure: markdown
 * in, commands and quoted messages out.
 */

/** The text of one `## ` section of a markdown document, heading excluded; throws when absent. */
export function markdownSection(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`No section "## ${heading}"`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/**
 * Every shell command the section shows: each line of its bash blocks and each inline code span
 * that is a command (starts with `kubectl ` or `pulumi `), with its trailing `# comment` dropped.
 */
export function sectionCommands(section: string): string[] {
  const commands: string[] = [];
  const fenced = /```bash\n([\s\S]*?)```/g;
  for (const block of section.matchAll(fenced))
    for (const line of block[1]!.split("\n")) {
      const command = stripComment(line).trim();
      if (command) commands.push(command);
    }
  const prose = section.replace(fenced, "");
  for (const span of prose.matchAll(/`([^`]+)`/g)) {
    const text = span[1]!.replace(/\s+/g, " ").trim();
    if (/^(kubectl|pulumi) /.test(text)) commands.push(text);
  }
  return commands;
}

/** A line without its shell comment: a `#` outside quotes that starts a word. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** The one command that starts with `prefix` (and, with `exact`, has no more words); throws when none or several. */
export function findCommand(commands: readonly string[], prefix: string, exact = false): string {
  const found = [...new Set(commands.filter((c) => (exact ? c === prefix : c === prefix || c.startsWith(`${prefix} `))))];
  if (found.length !== 1) throw new Error(`Expected one command "${prefix}${exact ? "" : " ..."}" in the runbook, found ${found.length}`);
  return found[0]!;
}

/**
 * A command's words as a POSIX shell splits them, for the quoting the runbook uses: whitespace
 * separates words, single quotes keep everything literal, double quotes keep all but `\"` and `\\`.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unterminated ' in: ${command}`);
      word = (word ?? "") + command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < command.length && command[j] !== '"') {
        if (command[j] === "\\" && (command[j + 1] === '"' || command[j + 1] === "\\")) j++;
        text += command[j];
        j++;
      }
      if (j >= command.length) throw new Error(`Unterminated " in: ${command}`);
      word = (word ?? "") + text;
      i = j + 1;
    } else if (c === "\\" && i + 1 < command.length) {
      word = (word ?? "") + command[i + 1];
      i += 2;
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The runbook's commands name the default apps namespace (`-n stf`); a test runs them in its own. */
export function inNamespace(words: readonly string[], namespace: string, runbookNamespace = "stf"): string[] {
  return words.map((w, i) => (words[i - 1] === "-n" && w === runbookNamespace ? namespace : w));
}

/**
 * The message the runbook quotes after `lead` (a code span, `...` standing for what varies), as
 * the fixed pieces in order; namespaces as `inNamespace` maps them.
 */
export function quotedMessage(section: string, lead: string, namespace: string, runbookNamespace = "stf"): string[] {
  const flat = section.replace(/\s+/g, " ");
  const at = flat.indexOf(lead);
  if (at < 0) throw new Error(`The runbook no longer says "${lead}"`);
  const span = /`([^`]+)`/.exec(flat.slice(at + lead.length));
  if (!span) throw new Error(`No quoted message after "${lead}"`);
  return span[1]!
    .split("...")
    .map((p) => p.trim().replaceAll(`${runbookNamespace}/`, `${namespace}/`))
    .filter((p) => p.length > 0);
}

/**
 * Whether `output` holds the pieces in order. Output is compared as the runbook can quote it:
 * whitespace collapsed (Pulumi wraps lines) and backticks dropped (a code span cannot hold them).
 */
export function containsInOrder(output: string, pieces: readonly string[]): boolean {
  const flat = output.replace(/`/g, "").replace(/\s+/g, " ");
  let from = 0;
  for (const p of pieces) {
    const at = flat.indexOf(p, from);
    if (at < 0) return false;
    from = at + p.length;
  }
  return true;
}

/** The frames `kubectl argo rollouts get rollout -w` printed: it clears the screen before each (pkg/kubectl-argo-rollouts/cmd/get/get.go Clear). */
export function watchFrames(output: string): string[] {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\u001b\[[0-9;]*m/g, "");
  return (
    plain
      // eslint-disable-next-line no-control-regex
      .split(/\u001b\[H\u001b\[2J\u001b\[0;0H/)
      .map((f) => f.trim())
      .filter((f) => f.length > 0)
  );
}

/** One field of a `get rollout` frame ("Status:", "  SetWeight:", ...): its value, icons and all. */
export function frameField(frame: string, field: string): string | undefined {
  const line = frame.split("\n").find((l) => l.trim().startsWith(`${field}:`));
  return line
    ?.trim()
    .slice(field.length + 1)
    .trim();
}
