"""Churn warning: a customer's relationship status (active, dormant, lost) and the risk of losing them."""
