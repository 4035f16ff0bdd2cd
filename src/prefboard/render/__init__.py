"""Standings out as pages, charts and text; imports no stage before it."""
