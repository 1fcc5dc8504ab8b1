"""execledger: domain."""
