// pulumi-language-nodejs: a small, local stand-in for Pulumi's Node.js language host.
//
// Why this exists: the official language host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), and the
// Go module proxy reachable from this workplace refuses every version of it
// (403 "This module version is not available"). Everything a Pulumi
// TypeScript program needs at run time is in the npm package @pulumi/pulumi
// (its `cmd/run` entry point talks to the engine itself), so the host only has
// to: tell the engine which provider plugins the program's node_modules ask
// for, and start `node <@pulumi/pulumi/cmd/run> ...` with the flags and
// environment that `cmd/run` documents. This file does just that, on top of
// the gRPC types of github.com/pulumi/pulumi/sdk/v3 (which is served).
//
// Written for this repo; not a copy of the upstream host. Code generation,
// packing and plugin running (`pulumi package ...`) are not implemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Exit code with which @pulumi/pulumi/cmd/run says "the error was already shown to the user".
const exitAfterUserActionableMessage = 32

func main() {
	engineAddress, tracing := parseArgs(os.Args[1:])
	h := &host{engineAddress: engineAddress, tracing: tracing}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: stopped serving: %v\n", err)
		os.Exit(1)
	}
}

// parseArgs accepts the engine's plugin command line: optional flags
// (--logtostderr, -v=N, --tracing URL, ...) and the engine address last.
func parseArgs(args []string) (engine, tracing string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			tracing = a[strings.Index(a, "=")+1:]
		case strings.HasPrefix(a, "-"):
			// Logging flags and the like: nothing to do for this host.
		default:
			engine = a
		}
	}
	return engine, tracing
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// ---- which provider plugins does the program need? ----

type packageJSON struct {
	Name         string                  `json:"name"`
	Version      string                  `json:"version"`
	Pulumi       plugin.PulumiPluginJSON `json:"pulumi"`
	Dependencies map[string]string       `json:"dependencies"`
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages, kept for older engines.
func (h *host) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, p := range pkgs {
		if p.Parameterization == nil {
			plugins = append(plugins, &pulumirpc.PluginDependency{
				Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
			})
		}
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// requiredPackages lists every node_modules package whose package.json carries
// `"pulumi": {"resource": true}`, looking in the node_modules folders from the
// program directory up to the project root (npm hoists to the nearest one).
func requiredPackages(info *pulumirpc.ProgramInfo) ([]*pulumirpc.PackageDependency, error) {
	if info == nil {
		return nil, errors.New("missing program info")
	}
	seen := map[string]bool{}
	visited := map[string]bool{}
	var out []*pulumirpc.PackageDependency
	for _, dir := range dirsUpTo(info.GetProgramDirectory(), info.GetRootDirectory()) {
		nm := filepath.Join(dir, "node_modules")
		if st, err := os.Stat(nm); err != nil || !st.IsDir() {
			continue
		}
		if err := scanNodeModules(nm, visited, func(pj packageJSON) {
			dep, ok := packageDependency(pj)
			if !ok {
				return
			}
			key := dep.Name + "@" + dep.Version
			if dep.Parameterization != nil {
				key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, dep)
			}
		}); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].Version < out[j].Name+out[j].Version })
	return out, nil
}

// dirsUpTo returns dir, its parent, ... up to and including root (or just dir
// when dir is not inside root).
func dirsUpTo(dir, root string) []string {
	dir, root = filepath.Clean(dir), filepath.Clean(root)
	dirs := []string{dir}
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		dir = filepath.Dir(dir)
		dirs = append(dirs, dir)
	}
	return dirs
}

// scanNodeModules visits node_modules/<pkg>, node_modules/@scope/<pkg> and any
// nested node_modules below them, following symlinks (npm/pnpm workspaces)
// but never the same real folder twice.
func scanNodeModules(nm string, visited map[string]bool, visit func(packageJSON)) error {
	real, err := filepath.EvalSymlinks(nm)
	if err != nil || visited[real] {
		return nil
	}
	visited[real] = true
	entries, err := os.ReadDir(nm)
	if err != nil {
		return fmt.Errorf("reading %s: %w", nm, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(nm, name)
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(p)
			if err != nil {
				continue
			}
			for _, s := range scoped {
				if err := scanPackage(filepath.Join(p, s.Name()), visited, visit); err != nil {
					return err
				}
			}
			continue
		}
		if err := scanPackage(p, visited, visit); err != nil {
			return err
		}
	}
	return nil
}

func scanPackage(dir string, visited map[string]bool, visit func(packageJSON)) error {
	if b, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
		var pj packageJSON
		if json.Unmarshal(b, &pj) == nil {
			visit(pj)
		}
	}
	nested := filepath.Join(dir, "node_modules")
	if st, err := os.Stat(nested); err == nil && st.IsDir() {
		return scanNodeModules(nested, visited, visit)
	}
	return nil
}

func packageDependency(pj packageJSON) (*pulumirpc.PackageDependency, bool) {
	if !pj.Pulumi.Resource {
		return nil, false
	}
	name := pj.Pulumi.Name
	if name == "" {
		// @pulumi/<x> provides plugin <x>; other scopes keep the scope, minus the '@'.
		name = strings.TrimPrefix(strings.TrimPrefix(pj.Name, "@pulumi/"), "@")
	}
	ver := pj.Pulumi.Version
	if ver == "" {
		ver = pj.Version
	}
	if name == "" || ver == "" {
		return nil, false
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: ver, Server: pj.Pulumi.Server}
	if p := pj.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep, true
}

// ---- running the program ----

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	pwd := req.GetPwd()
	opts := options(req.GetInfo())

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	runPath, err := resolveFrom(nodeBin, pwd, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "It looks like the Pulumi SDK has not been installed. " +
			"Have you run npm install or yarn install? (" + err.Error() + ")"}, nil
	}

	// Flags understood by @pulumi/pulumi/cmd/run (see its usage()).
	var args []string
	if nodeargs, _ := opts["nodeargs"].(string); nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", pwd)
	if info := req.GetInfo(); info != nil {
		add("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", h.tracing)
	program := req.GetProgram()
	if program == "" {
		program = "." // let cmd/run use package.json's main/exports
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
		// Pulumi.yaml runtime.options.typescript defaults to true: cmd/run then registers ts-node.
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", boolOption(opts, "typescript", true)))
	if ts, _ := opts["tsconfig"].(string); ts != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ts)
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitAfterUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: "Problem executing program (could not run node): " + err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func options(info *pulumirpc.ProgramInfo) map[string]any {
	if info == nil || info.GetOptions() == nil {
		return map[string]any{}
	}
	return info.GetOptions().AsMap()
}

func boolOption(opts map[string]any, key string, def bool) bool {
	switch v := opts[key].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return def
}

// resolveFrom asks node to resolve a module as the program would see it.
func resolveFrom(nodeBin, dir, module string) (string, error) {
	cmd := exec.Command(nodeBin, "-e", "console.log(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot resolve %s from %s: %s", module, dir, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// ---- pulumi install / pulumi about ----

// InstallDependencies runs the project's package manager (npm unless the
// options or a lock file say yarn, pnpm or bun) and streams its output.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetDirectory()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	pm, _ := options(req.GetInfo())["packagemanager"].(string)
	if pm == "" || pm == "auto" {
		pm = "npm"
		for lock, tool := range map[string]string{"yarn.lock": "yarn", "pnpm-lock.yaml": "pnpm", "bun.lockb": "bun"} {
			if _, err := os.Stat(filepath.Join(dir, lock)); err == nil {
				pm = tool
			}
		}
	}
	cmd := exec.Command(pm, "install")
	cmd.Dir = dir
	cmd.Stdout = streamWriter{server, false}
	cmd.Stderr = streamWriter{server, true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s install in %s failed: %w", pm, dir, err)
	}
	return nil
}

type streamWriter struct {
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	msg := &pulumirpc.InstallDependenciesResponse{Stdout: b}
	if w.stderr {
		msg = &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	if err := w.server.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = streamWriter{}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"host": "streamforge local pulumi-language-nodejs"},
	}, nil
}

// GetProgramDependencies reports package.json's direct dependencies with the
// versions installed in node_modules.
func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pj packageJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		return nil, err
	}
	var deps []*pulumirpc.DependencyInfo
	for name, want := range pj.Dependencies {
		ver := want
		for _, d := range dirsUpTo(dir, req.GetInfo().GetRootDirectory()) {
			if b, err := os.ReadFile(filepath.Join(d, "node_modules", name, "package.json")); err == nil {
				var dep packageJSON
				if json.Unmarshal(b, &dep) == nil && dep.Version != "" {
					ver = dep.Version
					break
				}
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: ver})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// RuntimeOptionsPrompts: `pulumi new` may ask; this host has no questions.
func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
