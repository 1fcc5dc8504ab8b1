"""execledger: infrastructure."""
