"""Simulation studies (planning); imported only by benchmarks and tests."""
