// SPDX-License-Identifier: GPL-2.0-or-later

// Command passt is gopasst's passt mode. (Wiring lands with the engine.)
package main

func main() {}
