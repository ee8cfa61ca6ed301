# Image config policy: images must declare a non-root user and an owner label.
# input: the image config JSON (OCI image config: {"architecture", "os", "config": {...}, "history": [...]}).
package main.image

import rego.v1

__rego_metadata__ := {
	"id": "ORG-IMG-001",
	"title": "Image runs as root or has no owner",
	"severity": "MEDIUM",
}

__rego_input__ := {"selector": [{"type": "image"}]}

root_users := {"", "root", "0", "0:0", "root:root"}

deny contains "image runs as root: set USER to a non-root user" if {
	object.get(input, ["config", "User"], "") in root_users
}

warn contains "image has no org.example.owner label" if {
	not input.config.Labels["org.example.owner"]
}
