// SPDX-License-Identifier: GPL-2.0-or-later

// Package fuzz holds whole-pipeline fuzz harnesses (a frame from the guest
// through the event loop and every handler it reaches) and the scripts of
// the fuzzing campaigns; see README.md. Per-parser targets live beside
// their code.
package fuzz
