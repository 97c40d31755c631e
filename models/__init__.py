"""The domain: tables (SQLModel), pure rules and the one error family."""
