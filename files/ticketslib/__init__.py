"""The tickets report tool's modules; files/tickets.py is the entry point (and the
console script ``tickets`` of the installed package)."""

__version__ = "1.0.0"
