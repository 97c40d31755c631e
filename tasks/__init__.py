"""Tasks: the service layer. Plain functions that do I/O and know nothing of Prefect; flows wrap them."""
