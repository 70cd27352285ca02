/**
 * Checks that what the docs tell a reader to run or open exists: every `npm run <script>` names a
 * script of the package it runs in (and, when that script is `bash <file>`, a verb the file
 * dispatches), every `bash <file>` or `<dir>/<name>.sh <verb>` names an existing file and a verb
 * its `case "$1"` dispatches, every relative Markdown link (and its #anchor) resolves, and every
 * path in backticks that starts with a folder of the repository exists.
 *
 * Pure over a directory tree: `checkDocs(root)` reads only below `root`, so the tests run it on a
 * fixture as well as on this repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Problem {
  /** The doc, relative to the root. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** How much was checked: a scan that finds nothing to check proves nothing. */
export interface Checked {
  npmScripts: number;
  scripts: number;
  links: number;
  paths: number;
}

export interface Report {
  readonly files: string[];
  readonly problems: Problem[];
  readonly checked: Checked;
}

/** A piece of code from a doc: a shell line of a fenced block, or an inline code span. */
interface Code {
  readonly text: string;
  readonly line: number;
  readonly inline: boolean;
}

interface Doc {
  /** Relative to the root, with forward slashes. */
  readonly file: string;
  readonly code: Code[];
  readonly links: { readonly target: string; readonly line: number }[];
}

const SHELL_FENCES = new Set(["", "bash", "sh", "shell", "console"]);
const VERB = /^[a-z][\w-]*$/;
/** Text that stands for something else: `<stack>`, `${x}`, `$KUBECONFIG`, `[0]`, `{a,b}`. */
const PLACEHOLDER = /[<>{}$[\]]/;

/** The docs a newcomer reads: README.md, docs/*.md, and the README.md of each folder (and of examples/*). */
export function docFiles(root: string): string[] {
  const ignored = ignoredNames(root);
  const files = ["README.md"];
  const inDocs = path.join(root, "docs");
  if (fs.existsSync(inDocs))
    files.push(
      ...fs
        .readdirSync(inDocs)
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => `docs/${f}`),
    );
  for (const dir of topLevel(root, ignored).sort()) {
    if (fs.existsSync(path.join(root, dir, "README.md"))) files.push(`${dir}/README.md`);
    if (dir === "examples")
      for (const example of fs.readdirSync(path.join(root, dir)).sort())
        if (fs.existsSync(path.join(root, dir, example, "README.md"))) files.push(`${dir}/${example}/README.md`);
  }
  return files.filter((f) => fs.existsSync(path.join(root, f)));
}

/** Names .gitignore lists as plain names (build output, caches): paths through them need not exist in a clone. */
function ignoredNames(root: string): Set<string> {
  const names = new Set([".git", "node_modules"]);
  const gitignore = path.join(root, ".gitignore");
  if (fs.existsSync(gitignore))
    for (const line of fs.readFileSync(gitignore, "utf8").split("\n")) {
      const name = line.trim().replace(/^\/|\/$/g, "");
      if (name && !name.startsWith("#") && !/[*?[]/.test(name)) names.add(name);
    }
  return names;
}

function topLevel(root: string, ignored: Set<string>): string[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !ignored.has(e.name))
    .map((e) => e.name);
}

/** Splits a Markdown file into shell lines of fenced blocks, inline code spans, and link targets. Pure. */
export function parseMarkdown(file: string, text: string): Doc {
  const code: Code[] = [];
  const links: { target: string; line: number }[] = [];
  const lines = text.split("\n");
  let fence: { marker: string; shell: boolean } | undefined;
  let paragraph: { text: string; line: number } | undefined;
  const flush = () => {
    if (!paragraph) return;
    const { text: para, line: first } = paragraph;
    const lineAt = (index: number) => first + (para.slice(0, index).match(/\n/g)?.length ?? 0);
    // Inline code spans, then links in what is left (a link inside a code span is not a link).
    const spans = /(`+)([\s\S]+?)\1/g;
    let prose = para;
    for (const m of para.matchAll(spans)) {
      code.push({ text: m[2]!.replace(/\s*\n\s*/g, " ").trim(), line: lineAt(m.index), inline: true });
      prose = prose.slice(0, m.index) + " ".repeat(m[0].length) + prose.slice(m.index + m[0].length);
    }
    for (const m of prose.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ target: m[1]!, line: lineAt(m.index) });
    paragraph = undefined;
  };
  lines.forEach((raw, i) => {
    const line = i + 1;
    const open = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(raw);
    if (fence) {
      if (open && open[1]!.startsWith(fence.marker) && raw.trim() === open[1]) fence = undefined;
      else if (fence.shell) code.push({ text: raw.replace(/(^|\s)#.*$/, "").trim(), line, inline: false });
      return;
    }
    if (open) {
      flush();
      fence = { marker: open[1]!, shell: SHELL_FENCES.has(open[2]!.toLowerCase()) };
      return;
    }
    if (raw.trim() === "") return flush();
    paragraph = paragraph ? { ...paragraph, text: `${paragraph.text}\n${raw}` } : { text: raw, line };
  });
  flush();
  return { file, code, links };
}

/**
 * The verbs a shell script dispatches: in its top-level `case "$1" in ... esac`, or, for a piece of
 * local/ that ends in `dispatch "$@"` (local/lib/piece.sh), its `cmd_<verb>` functions (an
 * underscore is a dash in the verb); undefined when it has neither. Pure.
 */
export function dispatchedVerbs(script: string): Set<string> | undefined {
  const lines = script.split("\n");
  if (lines.some((l) => /^dispatch\s+"\$@"/.test(l))) {
    const fns = lines.map((l) => /^cmd_([a-z0-9_]+)\s*\(\)/.exec(l)?.[1]).filter((f): f is string => f !== undefined);
    return new Set(fns.map((f) => f.replace(/_/g, "-")));
  }
  let start = -1;
  lines.forEach((l, i) => {
    if (/^case\s+"?\$\{?1\b/.test(l)) start = i;
  });
  if (start < 0) return undefined;
  const verbs = new Set<string>();
  for (const l of lines.slice(start + 1)) {
    if (/^esac\b/.test(l)) break;
    const label = /^\s{0,4}([^\s()#][^()]*?)\)/.exec(l);
    if (label) for (const v of label[1]!.split("|").map((s) => s.trim())) if (VERB.test(v)) verbs.add(v);
  }
  return verbs;
}

/** GitHub's anchor for a heading. Pure. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!fenced && h) found.add(slug(h[1]!));
  }
  return found;
}

/** Commands of one code text: split at `;`, `&&`, `||`, `|`, `$(`, parentheses and quotes; each as tokens. */
function commands(text: string): string[][] {
  return text
    .split(/&&|\|\||[;|()"'`]|\$\(/)
    .map((c) => c.trim().split(/\s+/).filter(Boolean))
    .filter((c) => c.length > 0);
}

export interface CheckOptions {
  /** The docs to check (default: `docFiles(root)`). */
  readonly files?: string[];
  /** Paths the docs cite from other repositories whose first folder shares a name with one of ours. */
  readonly external?: readonly string[];
}

/** Every problem with what the docs under `root` name. Reads only below `root`. */
export function checkDocs(root: string, options: CheckOptions = {}): Report {
  const files = options.files ?? docFiles(root);
  const external = new Set(options.external ?? []);
  const ignored = ignoredNames(root);
  const folders = new Set(topLevel(root, ignored));
  const problems: Problem[] = [];
  const checked: Checked = { npmScripts: 0, scripts: 0, links: 0, paths: 0 };
  const exists = (p: string) => fs.existsSync(p);
  const read = (p: string) => fs.readFileSync(p, "utf8");
  const rel = (p: string) => path.relative(root, p).split(path.sep).join("/");
  const inside = (p: string) => !path.relative(root, p).startsWith("..");
  const throughIgnored = (p: string) =>
    rel(p)
      .split("/")
      .some((seg) => ignored.has(seg));

  const scriptsOf = (dir: string): Record<string, string> | undefined => {
    const pkg = path.join(dir, "package.json");
    if (!exists(pkg)) return undefined;
    return (JSON.parse(read(pkg)) as { scripts?: Record<string, string> }).scripts ?? {};
  };

  for (const file of files) {
    const abs = path.join(root, file);
    const docDir = path.dirname(abs);
    const doc = parseMarkdown(file, read(abs));
    const problem = (line: number, message: string): void => {
      problems.push({ file, line, message });
    };

    /** `<file> [verb]`: the file exists and, when it dispatches verbs and one is given, dispatches it. */
    const checkScript = (line: number, cwd: string, target: string, verb: string | undefined, how: string) => {
      if (PLACEHOLDER.test(target)) return;
      checked.scripts += 1;
      const candidates = [path.resolve(cwd, target), path.resolve(docDir, target)];
      const found = candidates.find((c) => inside(c) && exists(c) && fs.statSync(c).isFile());
      if (!found) return problem(line, `${how}: no file ${target}`);
      if (verb === undefined || !VERB.test(verb) || !found.endsWith(".sh")) return;
      const verbs = dispatchedVerbs(read(found));
      if (verbs && !verbs.has(verb)) problem(line, `${how}: ${rel(found)} has no verb "${verb}" (it dispatches ${[...verbs].join(", ")})`);
    };

    /**
     * A token that starts with a folder of the repository (from the root, or from the doc's own
     * folder for an area's README), or with ./ or ../, names something that must exist. A path
     * that leads out of the repository (`../shared/crds`) or through build output is not checked.
     */
    const checkPath = (line: number, cwd: string, raw: string, whole: boolean) => {
      const token = raw.replace(/^[(,]+|[.,;:)]+$/g, "").replace(/#.*$/, "");
      if (!token || PLACEHOLDER.test(token) || /^[a-z]+:\/\//.test(token) || token.includes("@") || token.startsWith("-")) return;
      if (external.has(token)) return;
      const relative = token.startsWith("./") || token.startsWith("../");
      const bases: string[] = [];
      if (relative) bases.push(cwd === root ? docDir : cwd, root);
      else if (token.includes("/")) {
        const first = token.split("/")[0]!;
        if (docDir !== root && first && !ignored.has(first) && exists(path.join(docDir, first))) bases.push(docDir);
        if (folders.has(first)) bases.push(cwd);
      } else if (whole && /^([\w.-]+\.md|Pulumi\.[\w-]+\.yaml|package(-lock)?\.json)$/.test(token)) bases.push(docDir, root);
      const targets = bases.map((b) => path.resolve(b, token));
      if (targets.length === 0 || targets.some((t) => !inside(t) || throughIgnored(t))) return;
      checked.paths += 1;
      if (token.includes("*")) {
        if (!targets.some((t) => globMatches(root, rel(t)))) problem(line, `path ${token}: nothing matches`);
        return;
      }
      const found = targets.find((t) => exists(t) || (relative && exists(`${t}.ts`)));
      // An extension-less ./name is a module specifier or another program's folder, not a file here.
      if (!found && relative && !/\.\w+$/.test(token) && !token.endsWith("/")) return;
      if (!found) problem(line, `path ${token}: does not exist`);
      else if (token.endsWith("/") && !fs.statSync(found).isDirectory()) problem(line, `path ${token}: not a folder`);
    };

    const checkNpmRun = (line: number, cwd: string, args: string[]): void => {
      let workspace: string | undefined;
      let i = 0;
      const option = () => {
        const t = args[i]!;
        if (t === "--workspace" || t === "-w") {
          workspace = args[i + 1];
          i += 2;
        } else if (t.startsWith("--workspace=")) {
          workspace = t.slice("--workspace=".length);
          i += 1;
        } else i += 1;
      };
      while (i < args.length && args[i]!.startsWith("-")) option();
      if (args[i] !== "run" && args[i] !== "run-script") return;
      i += 1;
      while (i < args.length && args[i]!.startsWith("-") && args[i] !== "--") option();
      const script = args[i];
      if (!script || PLACEHOLDER.test(script)) return;
      i += 1;
      while (i < args.length && args[i] !== "--") {
        if (args[i]!.startsWith("-")) option();
        else i += 1;
      }
      const verb = args[i] === "--" ? args[i + 1] : undefined;
      checked.npmScripts += 1;
      // The package it runs in: a named workspace, the folder `cd` went to, else the doc's own
      // package or the repository's.
      const dirs: string[] = [];
      if (workspace) dirs.push(path.resolve(root, workspace));
      else if (cwd !== root) dirs.push(cwd);
      else {
        for (let d = docDir; inside(d); d = path.dirname(d)) {
          if (scriptsOf(d)) {
            dirs.push(d);
            break;
          }
          if (d === root) break;
        }
        if (!dirs.includes(root)) dirs.push(root);
      }
      const owner = dirs.find((d) => scriptsOf(d)?.[script] !== undefined);
      if (!owner) {
        const where = dirs.map((d) => `${rel(d) || "."}/package.json`.replace(/^\.\//, "")).join(" or ");
        return problem(line, `npm run ${script}: no such script in ${where}`);
      }
      const body = scriptsOf(owner)![script]!.trim().split(/\s+/);
      if (body[0] === "bash" && body[1] && verb !== undefined) checkScript(line, owner, body[1], verb, `npm run ${script} -- ${verb}`);
    };

    for (const { text, line, inline } of doc.code) {
      let cwd = root;
      for (const tokens of commands(text)) {
        const [head, ...rest] = tokens;
        const whole = inline && tokens.length === 1 && commands(text).length === 1;
        for (const t of tokens) checkPath(line, cwd, t, whole);
        if (head === "cd" && rest[0] && !PLACEHOLDER.test(rest[0])) cwd = path.resolve(cwd, rest[0]);
        if (head === "npm") checkNpmRun(line, cwd, rest);
        if ((head === "bash" || head === "sh") && rest.length > 0) {
          const args = rest.filter((t, i) => !(t.startsWith("-") && i === 0));
          if (!rest.includes("-c") && args[0]) checkScript(line, cwd, args[0], args[1], `bash ${args[0]}`);
        }
        if (head && /^(\.\/)?[\w.-]+(\/[\w.-]+)*\.sh$/.test(head) && head.includes("/")) checkScript(line, cwd, head, rest[0], head);
      }
    }

    for (const { target, line } of doc.links) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue;
      checked.links += 1;
      const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
      const dest = pathPart ? path.resolve(docDir, decodeURIComponent(pathPart)) : abs;
      if (!inside(dest) || !exists(dest)) {
        problem(line, `link ${target}: ${pathPart} does not exist`);
        continue;
      }
      if (anchor && dest.endsWith(".md") && !anchors(read(dest)).has(anchor.toLowerCase()))
        problem(line, `link ${target}: no heading "#${anchor}" in ${rel(dest)}`);
    }
  }
  return { files, problems, checked };
}

/** Whether any file below `root` matches `pattern` (`*` within a segment, `**` across segments). */
function globMatches(root: string, pattern: string): boolean {
  const segments = pattern.split("/").filter(Boolean);
  const fixed: string[] = [];
  for (const s of segments) {
    if (s.includes("*")) break;
    fixed.push(s);
  }
  const base = path.join(root, ...fixed);
  if (!fs.existsSync(base)) return false;
  const re = new RegExp(
    `^${segments
      .map((s) =>
        s
          .replace(/[.+?^$()|\\]/g, "\\$&")
          .split("**")
          .map((part) => part.replace(/\*/g, "[^/]*"))
          .join(".*"),
      )
      .join("/")}/?$`,
  );
  const walk = (dir: string, depth: number): boolean => {
    if (depth > 6) return false;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === ".git") continue;
      const full = path.join(dir, e.name);
      const r = path.relative(root, full).split(path.sep).join("/");
      if (re.test(r)) return true;
      if (e.isDirectory() && walk(full, depth + 1)) return true;
    }
    return false;
  };
  return walk(base, 0);
}
