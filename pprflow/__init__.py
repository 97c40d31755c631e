"""pprflow: the municipal referral pathways of children's services as Prefect flows."""

__version__ = "0.1.0"
