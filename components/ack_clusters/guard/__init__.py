"""DriftGuard: deny and alert on console drift on what the clusters own (docs/CONSOLE-DRIFT.md)."""
