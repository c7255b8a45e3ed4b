"""Tests for the pure language-understanding layer (app/nlu)."""
