"""hasm."""
