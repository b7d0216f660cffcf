"""Churn warning (流失预警): the relationship status (active, dormant, lost) and the risk
of losing a customer."""
