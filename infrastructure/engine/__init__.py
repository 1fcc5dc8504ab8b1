"""The engine: works a batch of smart orders against a venue, one asyncio task per order."""

from execledger.infrastructure.engine.session import ExecutionSession, SessionResult

__all__ = ["ExecutionSession", "SessionResult"]
