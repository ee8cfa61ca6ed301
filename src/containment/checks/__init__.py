"""Checks: Dockerfiles, image config and hygiene, Kubernetes manifests, Compose files, secrets
and users' Rego policies.

Parsers and secret patterns run inside the layer walk as analyzers (containment.analyzers);
the rules that judge parsed documents and file facts run after squashing, over cached facts.
Every rule is a `model.Rule` with a stable id (CTM-DF-*, CTM-IMG-*, CTM-K8S-*, CTM-DC-*,
CTM-SEC-*) and the ids peers give the same check (`aliases`).
"""
