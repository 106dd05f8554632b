// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"errors"
	"os/user"
	"strings"
	"testing"

	"gopasst/policy"
	"gopasst/sandbox"
)

func fakeUser(name string) (*user.User, error) {
	switch name {
	case "nobody":
		return &user.User{Username: "nobody", Uid: "65534", Gid: "65534"}, nil
	case "alice":
		return &user.User{Username: "alice", Uid: "1000", Gid: "1001"}, nil
	}
	return nil, user.UnknownUserError(name)
}

func fakeGroup(name string) (*user.Group, error) {
	if name == "staff" {
		return &user.Group{Name: "staff", Gid: "50"}, nil
	}
	return nil, user.UnknownGroupError(name)
}

func TestParseRunAs(t *testing.T) {
	tests := []struct {
		spec    string
		want    sandbox.IDs
		wantErr bool
	}{
		{spec: "nobody", want: sandbox.IDs{UID: 65534, GID: 65534}},
		{spec: "alice", want: sandbox.IDs{UID: 1000, GID: 1001}},
		{spec: "alice:staff", want: sandbox.IDs{UID: 1000, GID: 50}},
		{spec: "alice:7", want: sandbox.IDs{UID: 1000, GID: 7}},
		{spec: "1234", want: sandbox.IDs{UID: 1234, GID: 1234}},
		{spec: "1234:99", want: sandbox.IDs{UID: 1234, GID: 99}},
		{spec: "bob", wantErr: true},
		{spec: "alice:nogroup", wantErr: true},
		{spec: ":5", wantErr: true},
		{spec: "5:", wantErr: true},
		{spec: "99999999999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseRunAs(tt.spec, fakeUser, fakeGroup)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRunAs(%q) error %v, want error %v", tt.spec, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("parseRunAs(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestRunAsIDsWhen(t *testing.T) {
	tests := []struct {
		name                 string
		runas                string
		root, initial, spawn bool
		wantIDs, wantErr     bool
	}{
		{name: "root join default", root: true, initial: true, wantIDs: true},
		{name: "root join numeric", runas: "4242:4243", root: true, initial: true, wantIDs: true},
		{name: "root join uid 0", runas: "0", root: true, initial: true},
		{name: "root spawn", root: true, initial: true, spawn: true},
		{name: "root spawn runas", runas: "4242", root: true, initial: true, spawn: true, wantErr: true},
		{name: "rootless (checkRunAs decides)", runas: "4242", initial: true},
		{name: "root in userns (checkRunAs decides)", runas: "4242", root: true},
		{name: "root in userns default", root: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := runAsIDs(&policy.Config{RunAs: tt.runas}, tt.root, tt.initial, tt.spawn)
			if (err != nil) != tt.wantErr || tt.wantErr && !errors.Is(err, errRunAsSpawn) {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if (ids != nil) != tt.wantIDs {
				t.Errorf("ids %+v, want ids %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestCheckRunAs(t *testing.T) {
	tests := []struct {
		name    string
		runas   string
		euid    int // egid is the same
		initial bool
		wantErr bool
	}{
		{name: "root in the initial namespace switches", runas: "4242", initial: true},
		{name: "no runas", euid: 1000, initial: true},
		{name: "rootless other user", runas: "4242", euid: 1000, initial: true, wantErr: true},
		{name: "rootless itself", runas: "1000", euid: 1000, initial: true},
		{name: "rootless itself other group", runas: "1000:1001", euid: 1000, initial: true, wantErr: true},
		{name: "rootless bad spec", runas: "1000:", euid: 1000, initial: true, wantErr: true},
		{name: "root in userns other user", runas: "4242", wantErr: true},
		{name: "root in userns itself", runas: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRunAs(&policy.Config{RunAs: tt.runas}, tt.euid, tt.euid, tt.initial)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--runas "+tt.runas) {
				t.Errorf("error %q does not name the option", err)
			}
		})
	}
}
