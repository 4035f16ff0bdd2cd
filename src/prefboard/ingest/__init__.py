"""Contributor files in, validated tables out: reading, checking, accounting."""
