"""mlsec-lint: a policy-as-code security linter for ML deployments."""

__version__ = "0.1.0"
