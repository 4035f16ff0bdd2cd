"""Filesystem safety shared by every stage: one path guard (`paths`) and safe writes (`files`)."""
