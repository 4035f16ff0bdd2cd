"""Rating-scale statistics (Likert summaries and inter-rater agreement)."""
