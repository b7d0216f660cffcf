"""Occasions customers keep: birthdays (solar and lunar), festivals and policy anniversaries."""
