"""HTML templates, shipped as package data."""
