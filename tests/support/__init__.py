"""Test helpers shared across test folders: loopback mail servers and their wire formats."""
