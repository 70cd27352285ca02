import { SettingsError, loadSettings } from "../src/settings.js";

const base = { KAFKA_BROKERS: "127.0.0.1:19093" };
const problems = (env: Record<string, string>) => {
  try {
    loadSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as SettingsError).problems;
  }
  throw new Error("expected a SettingsError");
};

describe("loadSettings", () => {
  it("fills defaults", () => {
    const s = loadSettings(base, "host-1");
    expect(s).toMatchObject({
      KAFKA_BROKERS: ["127.0.0.1:19093"],
      KAFKA_TOPIC: "queue-events",
      KAFKA_GROUP_ID: "streamforge-self-healing",
      WATCH_NAMESPACE: "stf",
      DRY_RUN: false,
      KAFKA_FROM_BEGINNING: true,
      identity: "host-1",
      leaseNamespace: "stf",
      MAX_FAILED_ROUNDS: 15,
    });
    expect(s.policy.targets["loader-producer"]?.stuckAfterMs).toBe(120_000);
  });

  it("names each bad variable and what was found", () => {
    expect(problems({ KAFKA_BROKERS: "", DRY_RUN: "yes", HEALTH_PORT: "0" })).toEqual([
      expect.stringMatching(/^KAFKA_BROKERS: /),
      expect.stringMatching(/^DRY_RUN: .*"true".*"false".*; found "yes"$/),
      expect.stringMatching(/^HEALTH_PORT: .*; found 0$/),
    ]);
  });

  it("bounds MAX_FAILED_ROUNDS and names it when it is not a count of rounds", () => {
    expect(loadSettings({ ...base, MAX_FAILED_ROUNDS: "3" }).MAX_FAILED_ROUNDS).toBe(3);
    expect(problems({ ...base, MAX_FAILED_ROUNDS: "0" })).toEqual([expect.stringMatching(/^MAX_FAILED_ROUNDS: .*>=1.*; found 0$/)]);
    expect(problems({ ...base, MAX_FAILED_ROUNDS: "many" })).toEqual([expect.stringMatching(/^MAX_FAILED_ROUNDS: .*number/)]);
  });

  it("requires credentials with SASL and never echoes the password", () => {
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_PASSWORD: "s3cret" })).toEqual([
      "KAFKA_USERNAME: KAFKA_USERNAME and KAFKA_PASSWORD are required with KAFKA_SASL_MECHANISM=scram-sha-512",
    ]);
    expect(problems({ ...base, KAFKA_PASSWORD: "s3cret", HEALTH_PORT: "x" }).join()).not.toContain("s3cret");
  });

  it("merges a policy override and rejects an unknown policy key", () => {
    const s = loadSettings({
      ...base,
      SELF_HEALING_POLICY: JSON.stringify({
        phiThreshold: 10,
        targets: { visualizer: { stuckAfterMs: 1000, startGraceMs: 0, adaptive: false, minStuckAfterMs: 0 } },
      }),
    });
    expect(s.policy.phiThreshold).toBe(10);
    expect(Object.keys(s.policy.targets)).toContain("visualizer");
    expect(Object.keys(s.policy.targets)).toContain("loader-producer");
    expect(problems({ ...base, SELF_HEALING_POLICY: JSON.stringify({ phiTreshold: 10 }) })).toEqual([
      expect.stringMatching(/^SELF_HEALING_POLICY: .*phiTreshold/),
    ]);
    expect(problems({ ...base, SELF_HEALING_POLICY: "{" })).toEqual(["SELF_HEALING_POLICY: expected JSON"]);
  });

  it("overrides one field of a target, the others from its defaults", () => {
    const s = loadSettings({ ...base, SELF_HEALING_POLICY: JSON.stringify({ targets: { "loader-producer": { stuckAfterMs: 300_000 } } }) });
    expect(s.policy.targets["loader-producer"]).toEqual({
      stuckAfterMs: 300_000,
      startGraceMs: 120_000,
      adaptive: true,
      minStuckAfterMs: 45_000,
    });
    const d = loadSettings({ ...base, SELF_HEALING_POLICY: JSON.stringify({ defaultTarget: { adaptive: false } }) });
    expect(d.policy.defaultTarget).toEqual({ stuckAfterMs: 600_000, startGraceMs: 300_000, adaptive: false, minStuckAfterMs: 120_000 });
  });

  it("refuses settings that would silently do nothing or contradict themselves", () => {
    expect(problems({ ...base, SELF_HEALING_POLICY: JSON.stringify({ targets: { loader_producer: { stuckAfterMs: 60_000 } } }) })).toEqual([
      'SELF_HEALING_POLICY.targets.loader_producer: expected a target queue-manager launches (loader-producer, loader-ws, arango-connector, graph-builder, gnn-trainer, visualizer, arango-orderbook); found "loader_producer", which no Job can have',
    ]);
    expect(problems({ ...base, SELF_HEALING_POLICY: JSON.stringify({ targets: { "loader-ws": { minStuckAfterMs: 600_000 } } }) })).toEqual([
      "SELF_HEALING_POLICY.targets.loader-ws.minStuckAfterMs: expected at most stuckAfterMs (120000); found 600000",
    ]);
  });
});
