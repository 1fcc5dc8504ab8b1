"""Projection exceptions: one root, caught at the CLI edge like the others."""

from __future__ import annotations


class ProjectionError(Exception):
    """Root of every projection error."""


class UnknownProjection(ProjectionError):
    """No projection has the given name."""


class UnknownOrderId(ProjectionError):
    """No order matches the id given (order id or its prefix, client, broker or correlation id)."""


class AmbiguousOrderId(ProjectionError):
    """An order id prefix matches several orders (the message lists them)."""


class ProjectionStoreUnavailable(ProjectionError):
    """The read-model database cannot be opened or used."""
