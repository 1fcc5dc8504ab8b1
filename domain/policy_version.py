"""The version of the decision code and of the config schema, recorded on every order.

Replay re-derives an order's decisions with today's policy functions; an order decided by
another version of them is reported as such rather than judged by today's rules. Bump
``POLICY_VERSION`` whenever a pure decision function (pricing, re-peg, preflight, quote
choice, no-quote action) changes what it decides, and ``CONFIG_SCHEMA_VERSION`` whenever
ExecutionConfig gains, loses or redefines a field.
"""

from __future__ import annotations

#: 2026.11.2: a no-quote decision records the quotes it refused (orders of 2026.11.1 lack
#: them, so replay cannot re-derive those refusals and reports the orders as of that version).
POLICY_VERSION = "2026.11.2"
CONFIG_SCHEMA_VERSION = 1
#: What orders recorded before the versions were recorded (version 0.1 and early 0.2) carry.
UNRECORDED = ""
