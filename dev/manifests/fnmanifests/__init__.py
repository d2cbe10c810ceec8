"""fnshop manifest tooling: upstream schemas, validation and cross-checks, deploy helpers."""
