"""mlsec-lint: a policy-as-code security linter for ML deployments."""

__version__ = "0.1.0"

GC_THRESHOLD = 10_000
"""Young-generation threshold of the garbage collector while mlsec-lint runs (the
interpreter's default is 700): reading and analysing files allocates many objects and
leaves no reference cycles, so collecting less often only saves time (see
``mlsec_lint.api.scan``)."""
