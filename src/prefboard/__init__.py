"""prefboard: human-preference leaderboards from validated battles and ratings."""

__version__ = "0.1.0"
