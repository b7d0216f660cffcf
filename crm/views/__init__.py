"""Blueprints: thin handlers that load, check access, call the domain, commit and respond."""
