// SPDX-License-Identifier: GPL-2.0-or-later

// Command pasta is gopasst's pasta mode. (Wiring lands with the engine.)
package main

func main() {}
