"""fnshop's shared function kit.

Every function imports its cross-cutting concerns from here; nothing in this package opens a
connection or builds a client at import time, so a function scaled to zero starts fast.
"""
