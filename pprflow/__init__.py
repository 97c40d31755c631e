"""pprflow: the municipal referral pathways of children's services as Prefect flows."""

__version__ = "0.1.0"
DEFAULT_PROFILE = "vejle"  # the shipped profile used when neither --profile nor PPRFLOW_PROFILE is set
