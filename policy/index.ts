/**
 * The StreamForge policy pack. `pulumi preview --policy-pack policy` loads this file, and
 * constructing the PolicyPack starts the analyzer server: tests import `./rules` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { RULES, STACK_RULES } from "./rules";

new PolicyPack("streamforge", {
  description:
    "StreamForge platform guardrails: resources, images, pod security, RBAC, Kafka durability and TLS, exposure, canary analysis, chaos, secrets, load balancers.",
  policies: [...RULES.map((r) => r.policy), ...STACK_RULES.map((r) => r.policy)],
});
