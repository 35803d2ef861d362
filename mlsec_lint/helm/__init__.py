"""Helm charts rendered with Helm's own engine, and findings traced back to their source.

``render`` runs the engine (the ``helm-python-sdk`` binding of Helm's Go library in a
child process, or a ``helm`` binary on ``PATH``); ``trace`` builds the values a chart
renders with and maps positions in rendered manifests back to values and template
lines; ``charts`` ties both into a scan. See ``docs/helm.md``.
"""
