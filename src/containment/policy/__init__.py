"""Policy inputs: ignore files, VEX documents (and later risk scores and gates)."""
