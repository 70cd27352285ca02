/**
 * The StreamForge policy pack. `pulumi preview --policy-pack policy` loads this file, and
 * constructing the PolicyPack starts the analyzer server: tests import `./rules` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { RULES } from "./rules";

new PolicyPack("streamforge", {
  description:
    "StreamForge platform guardrails: resources, images, pod security, Kafka durability and TLS, canary analysis, chaos, secrets, load balancers.",
  policies: RULES.map((r) => r.policy),
});
