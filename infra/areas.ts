/**
 * Every area of the program, in the order they are created (an area reads the parts of those
 * above it) and their config problems reported. Adding an area is its folder, with an `area.ts`
 * exporting its descriptor (infra/kit/area.ts), and one line here (with its import).
 */
import { clusterAreaDescriptor } from "./cluster/area";
import { kafkaAreaDescriptor } from "./kafka/area";
import { selfHealingAreaDescriptor } from "./self-healing/area";
import { rolloutsAreaDescriptor } from "../rollouts/area";
import { chaosAreaDescriptor } from "../chaos/area";
import { observabilityAreaDescriptor } from "../observability/area";

export const AREAS = [
  clusterAreaDescriptor,
  kafkaAreaDescriptor,
  selfHealingAreaDescriptor,
  rolloutsAreaDescriptor,
  chaosAreaDescriptor,
  observabilityAreaDescriptor,
] as const;
