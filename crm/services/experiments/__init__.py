"""Holdout experiments: a touchpoint policy withheld from a random share of customers, and what
it bought, measured per yuan with an honest interval."""
