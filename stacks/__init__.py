"""Stacks that compose the constructs of ``constructs_lib``; ``app.py`` instantiates them."""

from stacks.reference_stack import ReferenceStack, admin_cidrs_from_context

__all__ = ["ReferenceStack", "admin_cidrs_from_context"]
