// RunPlugin: how this host starts a Node.js policy pack for `pulumi preview --policy-pack <dir>`.
//
// Since the CLI stopped shipping the `pulumi-analyzer-policy` shim script, the engine
// (pkg/resource/plugin ExecPlugin, v3.276.0) reads the pack's PulumiPolicy.yaml, asks the
// language host of its `runtime` to RunPlugin with kind "analyzer", and reads the gRPC port from
// the first stdout line the host streams back. The official host then runs
// `node @pulumi/pulumi/cmd/run-policy-pack <engine args...> <pack dir>` in the pack's directory,
// behind sdk.PolicyProxy: the proxy answers the engine's Handshake and ConfigureStack itself, so
// that the stack's name, project, dry-run flag and config reach the pack as PULUMI_NODEJS_* /
// PULUMI_CONFIG environment variables, then forwards every other call to the pack. This file does
// the same with the same SDK types; other plugin kinds (Node.js resource or tool plugins) are not
// needed by this repo and are refused as unimplemented.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const runPolicyPackModule = "@pulumi/pulumi/cmd/run-policy-pack"

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != string(apitype.AnalyzerPlugin) {
		return status.Errorf(codes.Unimplemented,
			"the local pulumi-language-nodejs runs policy packs only, not %q plugins", req.GetKind())
	}
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	dir := req.GetInfo().GetProgramDirectory()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	runPath, err := resolveFrom(nodeBin, dir, runPolicyPackModule)
	if err != nil {
		// The engine recognises this exact text and answers "run npm install in <pack>".
		fmt.Fprintf(stderr, "Cannot find module '%s' (%v)\n", runPolicyPackModule, err)
		return err
	}

	opts := options(req.GetInfo())
	var args []string
	if nodeargs, _ := opts["nodeargs"].(string); nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	// run-policy-pack drops its first argument (the engine address) and requires the pack last.
	args = append(args, runPath)
	args = append(args, req.GetArgs()...)
	args = append(args, dir)

	env := append([]string(nil), req.GetEnv()...)
	env = append(env, fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", boolOption(opts, "typescript", true)))
	if ts, _ := opts["tsconfig"].(string); ts != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ts)
	}

	// The proxy prints its own port to the engine and waits for ConfigureStack (or the first other
	// call, then with no configuration) before the pack is started.
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	cfg, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("could not get the stack configuration for the policy pack: %w", err)
	}
	if cfg != nil {
		set := func(k, v string) {
			if v != "" {
				env = append(env, k+"="+v)
			}
		}
		set("PULUMI_NODEJS_ORGANIZATION", cfg.GetOrganization())
		set("PULUMI_NODEJS_PROJECT", cfg.GetProject())
		set("PULUMI_NODEJS_STACK", cfg.GetStack())
		set("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(cfg.GetDryRun()))
		if c := cfg.GetConfig(); c != nil {
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			set("PULUMI_CONFIG", string(b))
		}
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = dir // @pulumi/policy reads <cwd>/package.json for the pack's version
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = packStdout, stderr
	if err := cmd.Start(); err != nil {
		proxy.Abort(err)
		return fmt.Errorf("could not run node for the policy pack: %w", err)
	}
	// Attach returns when the pack exits (the engine kills it at the end of the operation).
	if err := proxy.Attach(ctx, cmd); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("policy pack exited with code %d", exitErr.ExitCode())
		}
		return fmt.Errorf("policy pack %s: %w", dir, err)
	}
	return closer.Close()
}
