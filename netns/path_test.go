// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/policy"
)

func TestResolvePaths(t *testing.T) {
	tests := []struct {
		name    string
		cfg     policy.Config
		want    Paths
		wantErr bool
	}{
		{name: "spawn", cfg: policy.Config{Command: []string{"sh"}}, want: Paths{}},
		{name: "spawn default shell", cfg: policy.Config{}, want: Paths{}},
		{name: "pid", cfg: policy.Config{TargetPID: 42},
			want: Paths{Net: "/proc/42/ns/net", User: "/proc/42/ns/user", PID: 42}},
		{name: "pid netns-only", cfg: policy.Config{TargetPID: 42, NetNSOnly: true},
			want: Paths{Net: "/proc/42/ns/net", PID: 42}},
		{name: "pid userns override", cfg: policy.Config{TargetPID: 42, UserNS: "/x/user"},
			want: Paths{Net: "/proc/42/ns/net", User: "/x/user", PID: 42}},
		{name: "netns name", cfg: policy.Config{NetNS: "T"}, want: Paths{Net: "/run/netns/T"}},
		{name: "netns path", cfg: policy.Config{NetNS: "/var/run/netns/T"}, want: Paths{Net: "/var/run/netns/T"}},
		{name: "netns proc path", cfg: policy.Config{NetNS: "/proc/7/ns/net", UserNS: "/proc/7/ns/user"},
			want: Paths{Net: "/proc/7/ns/net", User: "/proc/7/ns/user", PID: 7}},
		{name: "netns userns netns-only", cfg: policy.Config{NetNS: "T", UserNS: "/u", NetNSOnly: true},
			want: Paths{Net: "/run/netns/T"}},
		{name: "netns and pid", cfg: policy.Config{NetNS: "T", TargetPID: 1}, wantErr: true},
		{name: "netns and command", cfg: policy.Config{NetNS: "T", Command: []string{"sh"}}, wantErr: true},
		{name: "pid and command", cfg: policy.Config{TargetPID: 3, Command: []string{"sh"}}, wantErr: true},
		{name: "userns alone", cfg: policy.Config{UserNS: "/u"}, wantErr: true},
		{name: "negative pid", cfg: policy.Config{TargetPID: -3}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolvePaths(&tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ResolvePaths (-want +got):\n%s", d)
			}
			if got.Spawn() != (tt.want.Net == "") {
				t.Errorf("Spawn() = %v", got.Spawn())
			}
		})
	}
}

func TestProcPID(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"/proc/12/ns/net", 12},
		{"/proc/self/ns/net", 0},
		{"/proc/0/ns/net", 0},
		{"/run/netns/12", 0},
		{"/proc/", 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := procPID(tt.path); got != tt.want {
				t.Errorf("procPID(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

func TestMakePlan(t *testing.T) {
	never := func(string) bool { return false }
	always := func(string) bool { return true }
	tests := []struct {
		name       string
		paths      Paths
		foreground bool
		euid       int
		initNS     bool
		same       func(string) bool
		want       Plan
	}{
		{name: "spawn root", paths: Paths{}, euid: 0, initNS: true, same: never, want: Plan{}},
		{name: "spawn rootless", paths: Paths{}, euid: 1000, same: never, want: Plan{NewUserNS: true}},
		{name: "spawn root in userns", paths: Paths{}, euid: 0, initNS: false, same: never, want: Plan{}},
		{name: "join root daemon", paths: Paths{Net: "/proc/1/ns/net", User: "/proc/1/ns/user", PID: 1},
			euid: 0, initNS: true, same: never, want: Plan{Daemon: true}},
		{name: "join root foreground", paths: Paths{Net: "/run/netns/T"}, foreground: true,
			euid: 0, initNS: true, same: never, want: Plan{}},
		{name: "join rootless", paths: Paths{Net: "/proc/9/ns/net", User: "/proc/9/ns/user", PID: 9},
			euid: 1000, same: never, want: Plan{JoinUserNS: "/proc/9/ns/user", Daemon: true}},
		{name: "join rootless foreground", paths: Paths{Net: "/proc/9/ns/net", User: "/u"}, foreground: true,
			euid: 1000, same: never, want: Plan{JoinUserNS: "/u"}},
		{name: "join own userns", paths: Paths{Net: "/proc/9/ns/net", User: "/u"},
			euid: 1000, same: always, want: Plan{Daemon: true}},
		{name: "join root in non-initial userns", paths: Paths{Net: "/n", User: "/u"},
			euid: 0, initNS: false, same: never, want: Plan{JoinUserNS: "/u", Daemon: true}},
		{name: "join without userns", paths: Paths{Net: "/run/netns/T"},
			euid: 1000, same: never, want: Plan{Daemon: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := makePlan(tt.paths, tt.foreground, tt.euid, tt.initNS, tt.same)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Isolate = true
			if !cmp.Equal(got, tt.want) {
				t.Errorf("makePlan = %+v, want %+v", got, tt.want)
			}
			if !got.Reexec() {
				t.Errorf("Reexec() = false: the engine always needs its own mount, IPC and UTS namespaces")
			}
		})
	}
}

func TestCleanEnv(t *testing.T) {
	got := cleanEnv([]string{"PATH=/bin", "GOPASST_STAGE=nsinit", "GOPASST_READY_FD=3", "HOME=/root", "XGOPASST_X=1"})
	want := []string{"PATH=/bin", "HOME=/root", "XGOPASST_X=1"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cleanEnv (-want +got):\n%s", d)
	}
}

func TestCommandLine(t *testing.T) {
	t.Setenv("SHELL", "/bin/bash")
	tests := []struct {
		name     string
		args     []string
		wantPath string
		wantArgv []string
		wantErr  bool
	}{
		{name: "command", args: []string{"ip", "-j", "addr"}, wantPath: "ip", wantArgv: []string{"ip", "-j", "addr"}},
		{name: "login shell", args: nil, wantPath: "/bin/bash", wantArgv: []string{"-bash"}},
		{name: "empty", args: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, argv, err := commandLine(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if path != tt.wantPath || !cmp.Equal(argv, tt.wantArgv) {
				t.Errorf("commandLine = %q %q, want %q %q", path, argv, tt.wantPath, tt.wantArgv)
			}
		})
	}
}
