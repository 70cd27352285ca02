/**
 * Components like pulumi-eks's: every component of every committed stack registers outputs (one
 * that registers none looks stuck in "creating" and gives its callers nothing to read), and the
 * stack outputs read from them, so the program keeps every instance.
 */
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { knownStacks, renderStack } from "../infra/render/render";

interface Monitor {
  registerResource: (this: Monitor, req: RegisterRequest, callback: (err: unknown, response: unknown) => void) => Promise<void>;
  registerResourceOutputs: (this: Monitor, req: OutputsRequest, callback: (err: unknown, response: unknown) => void) => void;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** Each of the program's own components (`streamforge:*`) of the stack (`type::name`) with the keys of the outputs it registered. */
async function componentOutputs(stack: string): Promise<Map<string, string[]>> {
  const proto = MockMonitor.prototype as unknown as Monitor;
  const { registerResource, registerResourceOutputs } = proto;
  const components = new Map<string, string[]>();
  proto.registerResource = function (req, callback) {
    if (!req.getCustom() && req.getType().startsWith("streamforge:")) components.set(`${req.getType()}::${req.getName()}`, []);
    return registerResource.call(this, req, callback);
  };
  proto.registerResourceOutputs = function (req, callback) {
    const [, , qualifiedType, name] = req.getUrn().split("::");
    const key = `${qualifiedType!.split("$").pop()}::${name}`;
    components.set(key, Object.keys(req.getOutputs()?.toJavaScript() ?? {}));
    registerResourceOutputs.call(this, req, callback);
  };
  try {
    await renderStack(stack);
  } finally {
    proto.registerResource = registerResource;
    proto.registerResourceOutputs = registerResourceOutputs;
  }
  return components;
}

describe.each(knownStacks())("stack %s", (stack) => {
  it("every component registers the outputs its callers read", async () => {
    const components = await componentOutputs(stack);
    expect(components.size).toBeGreaterThan(5);
    const silent = [...components].filter(([, keys]) => keys.length === 0).map(([component]) => component);
    expect(silent).toEqual([]);
  });
});
