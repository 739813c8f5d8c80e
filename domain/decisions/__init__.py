"""The case decider's decisions, one class per phase of the case (domain/decider.py)."""
