"""Deployments: every flow with its schedule and form parameters."""
