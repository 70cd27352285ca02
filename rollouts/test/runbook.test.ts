import * as fs from "node:fs";
import * as path from "node:path";
import {
  containsInOrder,
  findCommand,
  frameField,
  inNamespace,
  markdownSection,
  quotedMessage,
  sectionCommands,
  shellWords,
  watchFrames,
} from "./runbook";

const RUNBOOK = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "runbook.md"), "utf8");
const CANARY = "Procedure: abort, retry or promote a canary";

describe("reading the runbook's canary procedure", () => {
  it("finds every plugin command runbook.itest.ts runs, once each", () => {
    const commands = sectionCommands(markdownSection(RUNBOOK, CANARY));
    for (const prefix of [
      "kubectl argo rollouts get rollout queue-manager -n stf",
      "kubectl argo rollouts abort queue-manager -n stf",
      "kubectl argo rollouts retry rollout queue-manager -n stf",
      "kubectl argo rollouts promote queue-manager -n stf",
      "kubectl argo rollouts promote queue-manager -n stf --full",
      "kubectl argo rollouts undo queue-manager -n stf",
      "kubectl argo rollouts get rollout queue-manager -n stf -w",
      "kubectl get analysisruns -n stf",
    ])
      expect([prefix, findCommand(commands, prefix, true)]).toEqual([prefix, prefix]);
    expect(findCommand(commands, "kubectl get rollout queue-manager -n stf")).toContain("{.status.phase}");
  });

  it("splits commands as the shell does and moves them to a test's namespace", () => {
    expect(shellWords(`kubectl get rollout queue-manager -n stf -o jsonpath='{.status.phase}{"\\n"}'`)).toEqual([
      "kubectl",
      "get",
      "rollout",
      "queue-manager",
      "-n",
      "stf",
      "-o",
      'jsonpath={.status.phase}{"\\n"}',
    ]);
    expect(shellWords(`a "b \\"c\\"" d\\ e`)).toEqual(["a", 'b "c"', "d e"]);
    expect(() => shellWords("a 'b")).toThrow(/Unterminated/);
    expect(inNamespace(["kubectl", "get", "x", "-n", "stf", "stf"], "mine")).toEqual(["kubectl", "get", "x", "-n", "mine", "stf"]);
  });

  it("drops shell comments but not a # inside quotes or a word", () => {
    const md =
      "## S\n```bash\nkubectl get x -o jsonpath='{#}'   # a comment\nkubectl a#b\n# only a comment\n```\nand `kubectl c -n stf` here\n";
    expect(sectionCommands(markdownSection(md, "S"))).toEqual(["kubectl get x -o jsonpath='{#}'", "kubectl a#b", "kubectl c -n stf"]);
    expect(() => findCommand(["kubectl x", "kubectl x -w"], "kubectl x")).toThrow(/found 2/);
    expect(() => markdownSection(md, "T")).toThrow(/No section/);
  });

  it("reads the message the runbook quotes for an aborted `up`, and matches it only in order", () => {
    const pieces = quotedMessage(markdownSection(RUNBOOK, CANARY), "(`rollouts/outcome.ts`) fails with", "stf-x");
    expect(pieces[0]).toBe("Rollout stf-x/queue-manager was aborted:");
    expect(pieces.length).toBeGreaterThan(1);
    const real =
      "Rollout stf-x/queue-manager was aborted: RolloutAborted: Rollout aborted update to revision 2. The stable version keeps serving. " +
      "Fix the image (or set the previous one) in the stack's config and run `pulumi up`\n   again; that starts a new canary.";
    expect(containsInOrder(real, pieces)).toBe(true);
    expect(containsInOrder(real, [...pieces].reverse())).toBe(false);
    expect(containsInOrder(real.replace("keeps serving", "is gone"), pieces)).toBe(false);
  });

  it("splits a watch's output into frames and reads their fields", () => {
    const frame = (status: string, weight: number) =>
      `\u001b[H\u001b[2J\u001b[0;0HName:            queue-manager\nStatus:          \u001b[32m✔\u001b[0m ${status}\nStrategy:        Canary\n  SetWeight:     ${weight}\n`;
    const frames = watchFrames(frame("Healthy", 100) + frame("Paused", 10));
    expect(frames.map((f) => [frameField(f, "Status"), frameField(f, "SetWeight")])).toEqual([
      ["✔ Healthy", "100"],
      ["✔ Paused", "10"],
    ]);
    expect(frameField(frames[0]!, "Message")).toBeUndefined();
  });
});
