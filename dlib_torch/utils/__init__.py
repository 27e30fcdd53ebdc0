"""Shared utilities: results records, errors, gin helpers."""
