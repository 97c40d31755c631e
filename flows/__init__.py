"""Flows: each pathway as a Prefect flow that reads like the municipal document."""
