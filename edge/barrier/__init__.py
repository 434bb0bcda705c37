"""The barrier: commanded motion and supervision from its limit switches."""
