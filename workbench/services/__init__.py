"""What an investigator does, as functions over a store: each runs in one transaction,
validates everything before it writes, and leaves the store unchanged when it refuses."""
