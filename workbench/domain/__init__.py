"""The domain model: what a case is made of. Plain data, no Qt, no I/O."""
