# Compose policy: no service may mount the Docker socket.
# input: the whole Compose file ({"services": {...}, "volumes": {...}, ...}).
package main.compose

import rego.v1

__rego_input__ := {"selector": [{"type": "compose"}]}

violation_docker_socket contains {"msg": msg, "details": {"service": name}} if {
	some name, service in input.services
	some volume in service.volumes
	mounts_socket(volume)
	msg := sprintf("service %s mounts the Docker socket", [name])
}

mounts_socket(volume) if {
	is_string(volume)
	startswith(volume, "/var/run/docker.sock:")
}

mounts_socket(volume) if volume.source == "/var/run/docker.sock"
