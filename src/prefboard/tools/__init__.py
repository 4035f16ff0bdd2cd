"""Commands that write a board's inputs: init, simulate, import."""
