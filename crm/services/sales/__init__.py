"""Hunt and Harvest: prospects before a dossier, opportunities and the sales pipeline."""
