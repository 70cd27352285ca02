/**
 * The chaos drill (chaos/drill/main.ts) on the local platform, in its own Node process (it loads
 * @kubernetes/client-node, which Jest cannot): the local stack's engines carried out against a
 * real three-broker Kafka, Toxiproxy, the real API server, Prometheus and the real operator. Every
 * hypothesis must hold, and every scenario must have been run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../infra/render/render";
import { requireEnv } from "../../test/integration/local-platform";

const RESULT = path.join(PROJECT_ROOT, "out", "chaos-drill", "result.json");

interface Row {
  scenario: string;
  hypothesis: string;
  observed: string;
  passed: boolean;
}

describe("chaos drill on the local platform", () => {
  let code: number | null = null;
  let rows: Row[] = [];

  beforeAll(() => {
    for (const name of ["KUBECONFIG", "PROMETHEUS_URL", "PROMETHEUS_TARGETS_DIR"]) requireEnv(name);
    rmSync(RESULT, { force: true });
    const run = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", "chaos/drill/main.ts", "--stack", "local"],
      { cwd: PROJECT_ROOT, encoding: "utf8", env: process.env, timeout: 20 * 60_000 },
    );
    // The table, in the test log.
    process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    code = run.status;
    rows = existsSync(RESULT) ? (JSON.parse(readFileSync(RESULT, "utf8")) as { rows: Row[] }).rows : [];
  }, 21 * 60_000);

  it("ran every scenario of the local stack, after proving the system was running", () => {
    expect([...new Set(rows.map((r) => r.scenario))]).toEqual([
      "setup",
      "loader-pod-delete",
      "arango-connector-pod-delete",
      "worker-network-latency",
      "kafka-broker-failure",
      "control",
    ]);
  });

  it("every hypothesis held, and the drill exited 0", () => {
    expect(rows.filter((r) => !r.passed)).toEqual([]);
    expect(code).toBe(0);
  });
});
