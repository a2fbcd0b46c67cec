"""The tickets report tool's modules; files/tickets.py is the entry point."""
