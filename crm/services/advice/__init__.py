"""Next best experience: what to do next for a customer, ranked by expected effect per yuan."""
