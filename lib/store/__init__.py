"""Ports (Kv, Repository) and their adapters: the shell's access to state."""
