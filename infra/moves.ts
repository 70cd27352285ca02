/**
 * Where a resource that moved or was renamed in the code is recorded, so every stack keeps the
 * object instead of deleting it and creating a new one (infra/kit/moves.ts; docs/data-safety.md,
 * "Renames and moves"). After such a refactor `npm run identity` prints the entry to add here,
 * naming the old URN and the new one by their tails (the URN without `urn:pulumi:<stack>::<project>::`),
 * for example a KafkaTopic whose component was put under another one:
 *
 *   {
 *     from: "streamforge:kafka:StrimziEntities$kubernetes:kafka.strimzi.io/v1:KafkaTopic::catalogue-topic-x",
 *     to: "streamforge:kafka:Topics$streamforge:kafka:StrimziEntities$kubernetes:kafka.strimzi.io/v1:KafkaTopic::catalogue-topic-x",
 *   },
 *
 * Moving or renaming a component carries its children: one entry, for the component. Keep an
 * entry while any stack may not have run `pulumi up` since the move; when the same resource moves
 * again, change the entry's `to` (the identity test refuses a chain of entries).
 */
import type { Move } from "./kit/moves";

export const MOVES: readonly Move[] = [];
