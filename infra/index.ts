// Entry point of the Pulumi program (Pulumi.yaml `main`). Its exports are the stack outputs.
import { readCluster } from "./kit/provider";
import { loadPlatformConfig } from "./config";
import { createPlatform } from "./platform";

const config = loadPlatformConfig();
// Before anything is declared: the kubeconfig must exist and hold the stack's context.
const cluster = config.cluster ? readCluster(config.cluster) : undefined;
export = createPlatform(config, cluster);
