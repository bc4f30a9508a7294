"""Signals of mlserve for the apps above it (DESIGN §2: activelearn listens, mlserve never
imports it)."""

from django.dispatch import Signal

# Sent after a promoted version's predictions are stored; kwargs: ``version``.
predictions_written = Signal()

# Sent after a version trained but was kept back (the active version stays); kwargs:
# ``version`` (the kept-back one).
version_kept_back = Signal()
