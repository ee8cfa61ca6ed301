# Dockerfile policy: every base image must be pinned by digest.
# input: the Dockerfile's instructions, a list of {Cmd, Value, Flags, Original, Stage, StartLine, ...}
package main.dockerfile

import rego.v1

__rego_metadata__ := {
	"id": "ORG-DF-001",
	"title": "Base image not pinned by digest",
	"severity": "HIGH",
	"description": "A tag can be moved to other content; a digest cannot.",
	"recommended_actions": "Write FROM image:tag@sha256:...",
}

__rego_input__ := {"selector": [{"type": "dockerfile"}]}

stage_names contains lower(instr.Value[2]) if {
	some instr in input
	instr.Cmd == "from"
	count(instr.Value) == 3
}

deny contains result if {
	some instr in input
	instr.Cmd == "from"
	image := instr.Value[0]
	image != "scratch"
	not lower(image) in stage_names
	not contains(image, "@sha256:")
	result := {
		"msg": sprintf("base image %s is not pinned by digest", [image]),
		"StartLine": instr.StartLine,
		"EndLine": instr.EndLine,
	}
}
