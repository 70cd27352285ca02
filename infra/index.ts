// Entry point of the Pulumi program (Pulumi.yaml `main`). Its exports are the stack outputs.
import { loadPlatformConfig } from "./config";
import { createPlatform } from "./platform";

export = createPlatform(loadPlatformConfig());
