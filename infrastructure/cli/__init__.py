"""execledger: infrastructure.cli."""
