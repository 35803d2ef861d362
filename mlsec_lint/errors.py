"""The one exception type for errors the user can fix (exit code 2)."""


class MlsecLintError(Exception):
    """A usage, configuration or rule error, reported as one line and exit code 2."""
