"""Supply chain: signing keys, cosign-format signatures and in-toto attestations (and, beside
them, the registry side that stores them as `sha256-<hex>.sig` / `.att` and promotes images)."""
