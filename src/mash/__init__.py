"""Mash: case management for Multi-Agency Safeguarding Hubs."""
