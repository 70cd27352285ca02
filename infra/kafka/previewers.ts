import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Identities } from "../cluster/platform-workloads-spec";
import { previewerRbac } from "./previewers-spec";
import { grantRole } from "../kit/rbac";

export interface PreviewerAccessArgs {
  /** The namespaces the program's live read lists in. */
  readonly kafkaNamespace: string;
  readonly usersNamespace: string;
  /** Who previews run as (`streamforge:apps.previewers`). */
  readonly previewers: Identities;
}

/** What a preview identity may read of the cluster: the Kafka objects the program lists, nothing else (previewers-spec.ts). */
export class PreviewerAccess extends pulumi.ComponentResource {
  readonly roles: k8s.rbac.v1.Role[];

  constructor(name: string, args: PreviewerAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:PreviewerAccess", name, {}, opts);
    const rbac = previewerRbac(args, args.previewers);
    this.roles = rbac.map((grant) => grantRole(`${name}-${grant.role.metadata.namespace}`, grant, this).role);
    this.registerOutputs({ roles: this.roles });
  }
}
