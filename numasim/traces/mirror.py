"""Placeholder, filled in by a following commit."""


def looks_like(*a):
    return False
