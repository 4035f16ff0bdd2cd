"""The one result object, the analysis computed into it, and comparisons of two of them."""
