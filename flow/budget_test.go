// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "testing"

func TestBudget(t *testing.T) {
	tests := []struct {
		name     string
		b        *Budget
		takes    int
		wantOK   int
		gives    int
		wantUsed int
	}{
		{"nil is unlimited", nil, 5, 5, 5, 0},
		{"under max", NewBudget(10), 4, 4, 1, 3},
		{"at max refuses", NewBudget(3), 5, 3, 0, 3},
		{"give frees room", NewBudget(2), 2, 2, 2, 0},
		{"give never below zero", NewBudget(2), 0, 0, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok := 0
			for range tc.takes {
				if tc.b.Take() {
					ok++
				}
			}
			if ok != tc.wantOK {
				t.Fatalf("%d takes succeeded, want %d", ok, tc.wantOK)
			}
			for range tc.gives {
				tc.b.Give()
			}
			if got := tc.b.Used(); got != tc.wantUsed {
				t.Fatalf("Used() = %d, want %d", got, tc.wantUsed)
			}
			if tc.b != nil && tc.b.Available() != (tc.b.Used() < tc.b.Max()) {
				t.Fatalf("Available() disagrees with Used/Max")
			}
		})
	}
	if NewBudget(0).Max() != DefaultBudget {
		t.Fatalf("NewBudget(0).Max() = %d, want DefaultBudget", NewBudget(0).Max())
	}
}
