/**
 * local/lib/kafka-common.sh's cluster ids, drawn as kafka-storage takes them: 22 chars of URL-safe
 * base64 and never a '-' (one leading '-' made `kafka-storage format --cluster-id` read it as an
 * option and fail the platform's start, 1 run in 64; Kafka's own Uuid.randomUuid draws again).
 */
import { spawnSync } from "child_process";
import * as path from "path";

const LIB = path.join(__dirname, "kafka-common.sh");

it("draws cluster ids of 22 URL-safe base64 chars with no '-'", () => {
  // 500 draws: with '-' allowed, about 7 in 10 ids would hold none, so this many would show one.
  const run = spawnSync("bash", ["-c", `source ${JSON.stringify(LIB)}; for i in $(seq 500); do new_cluster_id; done`], {
    encoding: "utf8",
  });
  const ids = run.stdout.trim().split("\n");
  expect({ status: run.status, count: ids.length, distinct: new Set(ids).size }).toEqual({ status: 0, count: 500, distinct: 500 });
  expect(ids.filter((id) => !/^[A-Za-z0-9_]{22}$/.test(id))).toEqual([]);
});
