"""shpe."""
