/** The Kafka CA syncer's objects (ca-sync-spec.ts) as a component: account, Roles, guard, CronJob. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { declareGuard } from "../kit/admission";
import { grantRole } from "../kit/rbac";
import { type RegistryLogin, registryPullSecret } from "../self-healing/component";
import { CA_SYNC, type CaSyncSpec, caSyncCronJob, caSyncGuard, caSyncRbac } from "./ca-sync-spec";

export interface KafkaCaSyncArgs extends Omit<CaSyncSpec<pulumi.Input<string>>, "imagePullSecret"> {
  /** The registry login of the image, when it needs one: a pull Secret of its own in the Kafka namespace. */
  readonly login?: RegistryLogin;
}

export class KafkaCaSync extends pulumi.ComponentResource {
  readonly cronJobName: pulumi.Output<string>;

  constructor(name: string, args: KafkaCaSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:CaSync", name, {}, opts);
    const child = { parent: this };
    const rbac = caSyncRbac(args);
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, rbac.serviceAccount, child);
    const bindings = rbac.roles.map((grant) => grantRole(`${name}-${grant.role.metadata.namespace}`, grant, this, [sa]).binding);
    const guardBinding = declareGuard(this, caSyncGuard(args), `${name}-guard`);
    const pull = args.login
      ? [
          registryPullSecret(
            `${name}-pull`,
            { name: `${CA_SYNC}-pull`, namespace: args.source.namespace, labels: rbac.serviceAccount.metadata.labels },
            args.login,
            child,
          ),
        ]
      : [];
    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      caSyncCronJob({ ...args, ...(args.login ? { imagePullSecret: `${CA_SYNC}-pull` } : {}) }),
      { parent: this, dependsOn: [...bindings, guardBinding, ...pull] },
    );
    this.cronJobName = cronJob.metadata.name;
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}
