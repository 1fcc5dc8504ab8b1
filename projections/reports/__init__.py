"""Reports built from the read models and the events: best execution, order events."""
