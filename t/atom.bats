#!/usr/bin/env bats
load helpers

@test "programs print their version" {
	run spsc-source --version
	[ "$status" -eq 0 ]
}
